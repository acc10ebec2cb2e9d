#!/usr/bin/env bash
# Slow clients: 40 connections that each send a request one byte a second (headers, or a body
# after complete headers), and 10 that send nothing, against a server with 2 threads and
# --timeout 3. Meanwhile ordinary lookups keep being answered promptly (each under a second);
# every slow connection is cut by the server within the timeout plus the watchdog's period
# (none is answered, none stays open); /metrics counts them; the server still answers after.
set -uo pipefail
SERVER=$1
SRC=$2
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
fresh_work "$3/http-slowclient"

start_server "$WORK/server.log" --store "$S" --geodata "$SRC/geodata" --threads 2 --timeout 3
cat > "$WORK/slow.py" <<'EOF'
import socket, sys, threading, time
port, n_head, n_body, n_idle = int(sys.argv[1]), 40, 40, 10
head = b"GET /v1/lookup?lon=114.47&lat=22.63 HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"
body_head = b"POST /v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
results = []
lock = threading.Lock()
def slow(kind):
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    sent, got, why = 0, b"", "open"
    data = head if kind == "head" else (b"[[114.47,22.63]" + b" " * 400) if kind == "body" else b""
    if kind == "body":
        s.sendall(body_head)
    s.settimeout(0.05)
    try:
        while time.monotonic() - t0 < 12:
            if kind != "idle" and sent < len(data):
                s.send(data[sent:sent + 1]); sent += 1
            try:
                chunk = s.recv(4096)
                if not chunk:
                    why = "closed"; break
                got += chunk
            except socket.timeout:
                pass
            time.sleep(0.95)
    except (ConnectionResetError, BrokenPipeError):
        why = "reset"
    with lock:
        results.append((kind, why, time.monotonic() - t0, got[:12]))
    s.close()
ts = [threading.Thread(target=slow, args=(k,)) for k in ["head"] * n_head + ["body"] * n_body + ["idle"] * n_idle]
for t in ts: t.start()
for t in ts: t.join()
cut = [r for r in results if r[1] in ("closed", "reset")]
late = [r for r in cut if r[2] > 3 + 1.5]
answered = [r for r in results if r[3].startswith(b"HTTP/1.1 2")]
print("slow connections: %d, cut: %d, cut later than 4.5 s: %d, answered 2xx: %d, longest: %.1f s"
      % (len(results), len(cut), len(late), len(answered), max(r[2] for r in results)))
EOF
python3 "$WORK/slow.py" "$PORT" > "$WORK/slow.out" 2>&1 &
slow_pid=$!
sleep 0.5
# ordinary clients meanwhile: every lookup answered, each within a second
n=0; slowest=0
for i in $(seq 40); do
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "$BASE/v1/lookup?lon=114.4$((i % 10))&lat=22.6$((i % 7))")
  [ "${t% *}" = 200 ] && n=$((n + 1))
  slowest=$(awk -v a="$slowest" -v b="${t#* }" 'BEGIN { print (b > a ? b : a) }')
  sleep 0.15
done
expect_eq "$n" "40" "lookups answered while 90 slow connections are open"
expect_eq "$(awk -v s="$slowest" 'BEGIN { print (s < 1.0) }')" "1" "slowest ordinary lookup under a second ($slowest s)"
wait $slow_pid
cat "$WORK/slow.out"
expect_in "slow connections: 90, cut: 90, cut later than 4.5 s: 0, answered 2xx: 0" "$(cat "$WORK/slow.out")"
expect_status 200 GET "$BASE/metrics"
cut=$(echo "$body" | sed -n 's/^wangge_slow_connections_cut_total \([0-9]*\)$/\1/p')
expect_eq "$([ "${cut:-0}" -ge 80 ] && echo yes)" "yes" "metrics count the cut connections ($cut; idle ones may go to the idle timeout first)"
expect_status 200 GET "$BASE/v1/lookup?lon=114.47&lat=22.63"
finish
