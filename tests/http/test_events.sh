#!/usr/bin/env bash
# Events over HTTP against a real wangge-server (curl; the wangge CLI for keys, the calendar and
# independent lookups):
#   - first start loads categories.csv with the city (a copy of geodata/ without events.csv, so
#     every event in the store is this test's and hand counts hold);
#   - the working calendar (2026 National Day: Oct 1-7 off, Sun Sep 27 and Sat Oct 10 worked)
#     imported with the CLI while the server runs;
#   - the full loop with explicit times ("at", dispatcher keys): register, dispatch, handle, a
#     send-back from verification, handle, verify, evaluate, archive; cancellation; deadlines
#     across a weekend and across the holiday; invalid moves -> 409; handle by the assigned
#     worker's own key, someone else's task -> 403;
#   - overdue listing (HTTP and CLI), statistics per worker, grid and community against hand
#     counts, and the CLI's statistics equal the server's;
#   - Open311 GeoReport v2: services.json from the categories, a request filed over HTTP (form
#     and JSON) shows up as an event in the grid `wangge lookup` gives, requests.json filters,
#     requests/{id}.json, Open311 errors;
#   - roles: no key 401, wrong role 403, reporter contact only for dispatchers;
#   - bad input: unknown category, a point outside every grid (filed and flagged), bad
#     timestamps, oversized batches and bodies, bad JSON -> the right 4xx.
set -uo pipefail
SERVER=$1
SRC=$2
. "$SRC/tests/cli/lib.sh"
. "$SRC/tests/http/lib.sh"
fresh_work "$3/http-events"
mkdir -p "$WORK/city"
for f in "$SRC"/geodata/*; do
  case "$(basename "$f")" in events.csv) ;; *) ln -s "$f" "$WORK/city/" ;; esac
done

# jstr NAME [TEXT]: the first "NAME":"value" of TEXT (default $body); jval: a bare value
jstr() { printf '%s' "${2-$body}" | grep -o "\"$1\":\"[^\"]*\"" | head -1 | cut -d'"' -f4; }
jval() { printf '%s' "${2-$body}" | grep -o "\"$1\":[^,}\"]*" | head -1 | cut -d: -f2; }
# grid code of a point by the CLI (outside: the nearest grid)
grid_of() { "$W" -s "$S" lookup "$1" "$2" | grep -v '^lon,' | awk -F, '{ print ($5 == "outside" ? $6 : $5) }'; }

start_server "$WORK/server.log" --store "$S" --geodata "$WORK/city" --max-batch 50 --max-body 65536
expect_eq "$("$W" -s "$S" categories list | wc -l)" "26" "categories loaded with the city"
expect_status 200 GET "$BASE/v1/categories"
expect_eq "$(echo "$body" | grep -o '"code":' | wc -l)" "26" "GET /v1/categories"
expect_in '{"code":"0102","class":"01","class_name":"市容环境","name":"暴露垃圾","limit":4,"limit_unit":"hours","role":"grid_worker"}' "$body"

cat > "$WORK/calendar.ini" <<'EOF'
# 2026 National Day: Thu Oct 1 .. Wed Oct 7 off; Sun Sep 27 and Sat Oct 10 are make-up workdays
utc_offset = +08:00
hours = 09:00-12:00, 14:00-18:00
weekend = sat, sun
holiday = 2026-10-01..2026-10-07
workday = 2026-09-27, 2026-10-10
EOF
expect_exit 0 "$W" -s "$S" calendar import "$WORK/calendar.ini"
expect_in "9 dated days" "$out"
expect_status 200 GET "$BASE/v1/calendar"
expect_in '"workdays":["2026-09-27","2026-10-10"]' "$body"
expect_exit 0 "$W" -s "$S" calendar deadline --from 2026-09-30T17:00 --hours 4
expect_eq "$out" "2026-10-08T12:00:00+08:00" "CLI deadline across the holiday"
expect_exit 0 "$W" -s "$S" calendar deadline --from 2026-10-09T16:10 --days 1
expect_eq "$out" "2026-10-10T16:10:00+08:00" "CLI deadline on the make-up Saturday"
expect_exit 0 "$W" -s "$S" calendar deadline --from 2026-10-16T16:10 --days 1
expect_eq "$out" "2026-10-19T16:10:00+08:00" "CLI deadline across a weekend"

# --- keys
key() { "$W" -s "$S" key create "$@" 2>/dev/null; }
DISP=$(key --role dispatcher --name disp)
VIEW=$(key --role viewer --name view)
GX=W440307006007007   # the grid worker of 440307006007007, on duty
WKEY=$(key --role worker --name gx --worker "$GX")
OTHER=$(key --role worker --name other --worker W440307006001001)
PLAN=$(key --role planner --name plan)
[ -n "$DISP" ] && [ -n "$VIEW" ] && [ -n "$WKEY" ] || { fail "cannot create keys (wangge key create)"; finish; exit 1; }
D=(-H "Authorization: Bearer $DISP" -H 'Content-Type: application/json')
V=(-H "X-API-Key: $VIEW")
WK=(-H "X-API-Key: $WKEY" -H 'Content-Type: application/json')
OK=(-H "X-API-Key: $OTHER" -H 'Content-Type: application/json')
J=(-H 'Content-Type: application/json')
GA=$(grid_of 114.47 22.63)
GD=$(grid_of 114.4262417 22.6333314)
expect_eq "$GA" "440307006007007" "grid of the loop's point"
expect_eq "$GD" "440307006001001" "grid of the overdue event's point"

# act ID ACTION JSON: a transition by the dispatcher; sets $code and $body
act() { http POST "$BASE/v1/events/$1/$2" "${D[@]}" --data-binary "${3:-{\}}"; }
expect_act() { # expect_act STATUS ID ACTION JSON
  local want=$1; shift
  act "$@"
  checks=$((checks + 1))
  [ "$code" = "$want" ] || fail "status $code (want $want): $* -> $body"
}

# --- filing: grid and generation at once, suggested assignee, worker keys file too
expect_status 201 POST "$BASE/v1/events" "${WK[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0201","description":"非法小广告","photo_url":"https://img.example.cn/1.jpg","reporter":"张三 13900001111"}'
E0=$(jval id)
expect_eq "$(jstr grid)" "$GA" "filed event's grid = wangge lookup"
expect_eq "$(jstr community)" "440307006007" "community"
expect_eq "$(jval generation)" "1" "generation"
expect_eq "$(jstr suggested_assignee)" "$GX" "suggested: the on-duty grid worker"
expect_eq "$(jstr status)" "reported" "status"
expect_eq "$(jstr source)" "api" "source"
expect_eq "$(echo "$body" | grep -c reporter)" "0" "a worker key does not see the reporter"

# --- the loop (event A, 0103 = 1 working day): filed Fri 2026-10-16 16:00, dispatched 16:10 to
# GX -> due Mon Oct 19 16:10 (1 h 50 Fri, weekend off, 3 h + 2 h 10 Mon)
expect_status 201 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.4701,"lat":22.6301,"category":"0103","description":"积存垃圾","reporter":"李四 13900002222","at":"2026-10-16T16:00:00+08:00"}'
A=$(jval id)
expect_eq "$(jstr reported_at)" "2026-10-16T16:00:00+08:00" "explicit report time"
expect_in '"reporter":"李四 13900002222"' "$body"
expect_act 200 "$A" register '{"at":"2026-10-16T16:05:00+08:00"}'
expect_act 409 "$A" handle '{"at":"2026-10-16T16:06:00+08:00"}'
expect_in '"error":{"code":"conflict"' "$body"
expect_act 200 "$A" dispatch "{\"assignee\":\"$GX\",\"at\":\"2026-10-16T16:10:00+08:00\"}"
expect_eq "$(jstr deadline)" "2026-10-19T16:10:00+08:00" "deadline across the weekend"
expect_eq "$(jstr assignee)" "$GX" "assignee"
# the assigned worker handles with its own key; another worker's key may not
expect_status 403 POST "$BASE/v1/events/$A/handle" "${OK[@]}" --data-binary '{}'
expect_status 403 POST "$BASE/v1/events/$A/handle" "${WK[@]}" --data-binary '{"at":"2026-10-19T11:00:00+08:00"}'
expect_in "only a dispatcher key may give the time" "$body"
expect_status 403 POST "$BASE/v1/events/$A/verify" "${WK[@]}" --data-binary '{}'
expect_act 200 "$A" handle '{"at":"2026-10-19T11:00:00+08:00"}'
# verification fails: sent back to the worker
expect_act 200 "$A" send_back '{"at":"2026-10-19T11:30:00+08:00","note":"still there"}'
expect_eq "$(jstr status)" "dispatched" "sent back"
expect_eq "$(jval reopen_count)" "1" "reopen count"
expect_act 409 "$A" verify '{"at":"2026-10-19T11:40:00+08:00","expect":"handled"}'
expect_act 200 "$A" handle '{"at":"2026-10-19T15:00:00+08:00","expect":"dispatched"}'
expect_act 409 "$A" verify '{"at":"2026-10-19T15:30:00+08:00","expect":"dispatched"}' # optimistic concurrency
expect_act 200 "$A" verify '{"at":"2026-10-19T15:30:00+08:00","expect":"handled"}'
expect_act 400 "$A" evaluate '{"at":"2026-10-19T16:00:00+08:00","score":9}'
expect_act 200 "$A" evaluate '{"at":"2026-10-19T16:00:00+08:00","score":5}'
expect_act 200 "$A" archive '{"at":"2026-10-19T16:30:00+08:00"}'
expect_eq "$(jstr status)" "archived" "archived"
expect_eq "$(jstr closed_at)" "2026-10-19T15:00:00+08:00" "closed by the last handling"
expect_eq "$(echo "$body" | grep -o '"action":' | wc -l)" "9" "steps of A"
expect_in '"action":"send_back","from":"handled","to":"dispatched","actor":"key:' "$body"
expect_in '"note":"score=5","score":5' "$body"
expect_act 409 "$A" archive '{}'
expect_in "the loop is over" "$body"

# --- event B (0102 = 4 working hours) across the holiday: dispatched Wed Sep 30 17:00 ->
# 1 h Wed, Oct 1-7 off, 3 h Thu Oct 8 -> due Oct 8 12:00; handled 14:00 (late)
expect_status 201 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.4702,"lat":22.6302,"category":"0102","at":"2026-09-30T16:50:00+08:00"}'
B=$(jval id)
expect_act 200 "$B" register '{"at":"2026-09-30T16:55:00+08:00"}'
expect_act 200 "$B" dispatch "{\"assignee\":\"$GX\",\"at\":\"2026-09-30T17:00:00+08:00\"}"
expect_eq "$(jstr deadline)" "2026-10-08T12:00:00+08:00" "deadline across the holiday"
expect_act 200 "$B" handle '{"at":"2026-10-08T14:00:00+08:00"}'
expect_act 200 "$B" verify '{"at":"2026-10-08T14:30:00+08:00"}'

# --- event C: cancelled; nothing after that
expect_status 201 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.4703,"lat":22.6303,"category":"0102","at":"2026-10-09T09:00:00+08:00"}'
C=$(jval id)
expect_act 200 "$C" register '{"at":"2026-10-09T09:01:00+08:00"}'
expect_act 200 "$C" cancel '{"at":"2026-10-09T09:02:00+08:00","note":"duplicate"}'
expect_act 409 "$C" dispatch "{\"assignee\":\"$GX\",\"at\":\"2026-10-09T09:03:00+08:00\"}"
expect_act 409 "$C" cancel '{}'

# --- event D: dispatched Mon Oct 12 09:10 to an officer, 4 h -> due 15:10, never handled
expect_status 201 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.4262417,"lat":22.6333314,"category":"0102","at":"2026-10-12T09:00:00+08:00"}'
DD=$(jval id)
expect_eq "$(jstr grid)" "$GD" "D's grid"
expect_act 200 "$DD" register '{"at":"2026-10-12T09:05:00+08:00"}'
expect_act 400 "$DD" dispatch '{"assignee":"NOBODY","at":"2026-10-12T09:10:00+08:00"}'
expect_act 200 "$DD" dispatch '{"assignee":"F440307006001","at":"2026-10-12T09:10:00+08:00"}'
expect_eq "$(jstr deadline)" "2026-10-12T15:10:00+08:00" "D's deadline"
# bad times on a step
expect_act 400 "$DD" handle '{"at":"2026-10-12T09:00:00+08:00"}'
expect_in "before the event's last step" "$body"
expect_act 400 "$DD" handle '{"at":"2027-01-01T09:00:00+08:00"}'
expect_in "in the future" "$body"
expect_act 400 "$DD" handle '{"at":"2026-10-32T09:00:00+08:00"}'
expect_in '"error":{"code":"bad_time"' "$body"
expect_act 400 "$DD" handle '{"at":"12 Oct 2026"}'
expect_act 400 "$DD" handle '{"when":"2026-10-12T10:00:00+08:00"}'
expect_in '"error":{"code":"unknown_member"' "$body"
expect_act 404 "$DD" finish '{}'
expect_act 404 999999 register '{}'

# --- overdue: D at 16:00 that Monday, not at 15:00; over HTTP and the CLI
expect_status 200 GET "$BASE/v1/events/overdue?at=2026-10-12T16:00:00%2B08:00" "${V[@]}"
expect_eq "$(echo "$body" | grep -o '"id":[0-9]*' | cut -d: -f2 | tr '\n' ' ')" "$DD " "overdue at 16:00"
expect_in '"overdue":true' "$body"
expect_status 200 GET "$BASE/v1/events/overdue?at=2026-10-12T15:00:00%2B08:00" "${V[@]}"
expect_in '"count":0' "$body"
expect_exit 0 "$W" -s "$S" events overdue --at 2026-10-12T16:00
expect_eq "$(echo "$out" | tail -n +2 | awk '{ print $1, $4, $5, $7 }')" "$DD $GD F440307006001 0.8" "CLI overdue (id grid assignee hours late)"
expect_exit 0 "$W" -s "$S" events overdue --json --at 2026-10-12T16:00
expect_eq "$(jval id "$out")" "$DD" "CLI overdue --json"

# --- listings with filters
expect_status 200 GET "$BASE/v1/events?grid=$GA&from=2026-09-01&to=2026-10-31" "${V[@]}"
expect_eq "$(jval count)" "3" "events of grid $GA in the period (A, B, C)"
expect_status 200 GET "$BASE/v1/events?community=440307006007&status=archived,verified" "${V[@]}"
expect_eq "$(jval count)" "2" "archived or verified in community 440307006007"
expect_status 200 GET "$BASE/v1/events?category=01&limit=1" "${V[@]}"
expect_eq "$(jval id)" "$A" "first of class 01"
expect_eq "$(jval next_after)" "$A" "next page cursor"
expect_status 200 GET "$BASE/v1/events?bbox=114.42,22.63,114.43,22.64" "${V[@]}"
expect_eq "$(jval count)" "1" "bbox"
expect_status 200 GET "$BASE/v1/events/$A" "${V[@]}"
expect_eq "$(echo "$body" | grep -c '"reporter"')" "0" "no reporter for a viewer"
expect_status 200 GET "$BASE/v1/events/$A" -H "X-API-Key: $DISP"
expect_in '"reporter":"李四 13900002222"' "$body"
expect_status 400 GET "$BASE/v1/events?status=done" "${V[@]}"
expect_status 400 GET "$BASE/v1/events?from=yesterday" "${V[@]}"
expect_in '"error":{"code":"bad_time"' "$body"
expect_status 400 GET "$BASE/v1/events?bbox=1,2,3" "${V[@]}"
expect_status 400 GET "$BASE/v1/events?limit=100000" "${V[@]}"
expect_status 400 GET "$BASE/v1/events?colour=red" "${V[@]}"
expect_status 404 GET "$BASE/v1/events/abc" "${V[@]}"
expect_status 404 GET "$BASE/v1/events/999999" "${V[@]}"

# --- statistics at Wed Oct 21 12:00 for events reported Sep 28 .. Oct 16:
# worker GX {A on time, B late}: 2 events, archived 1, verified 1, 2 closed with a deadline,
#   1 on time (0.5), reopen 1; mean register 300 s, dispatch 300 s, handle (66 h 50 m, 3 h 30 m,
#   189 h) = (240600 + 12600 + 680400) / 3 = 311200 s, send_back 1800 s.
# officer F440307006001 {D}: 1 event, overdue 1, on-time rate null.
Q="from=2026-09-28&to=2026-10-17&at=2026-10-21T12:00:00%2B08:00"
expect_status 200 GET "$BASE/v1/stats?by=worker&$Q" "${V[@]}"
STATS_W=$body
gx=$(echo "$body" | grep -o "{\"key\":\"$GX\"[^]]*}}")
expect_in '"events":2,"by_status":{"reported":0,"registered":0,"cancelled":0,"dispatched":0,"handled":0,"verified":1,"evaluated":0,"archived":1}' "$gx"
expect_in '"with_deadline":2,"closed_with_deadline":2,"on_time":1,"on_time_rate":0.5,"overdue":0,"reopen_count":1,"outside":0' "$gx"
expect_in '"mean_step_s":{"register":300,"dispatch":300,"handle":311200,"verify":1800,"send_back":1800,' "$gx"
fo=$(echo "$body" | grep -o '{"key":"F440307006001"[^]]*}}')
expect_in '"events":1,' "$fo"
expect_in '"with_deadline":1,"closed_with_deadline":0,"on_time":0,"on_time_rate":null,"overdue":1' "$fo"
expect_in '"by":"worker","from":"2026-09-28T00:00:00+08:00","to":"2026-10-17T00:00:00+08:00","at":"2026-10-21T12:00:00+08:00"' "$body"
expect_status 200 GET "$BASE/v1/stats?by=grid&$Q" "${V[@]}"
ga=$(echo "$body" | grep -o "{\"key\":\"$GA\"[^]]*}}")
expect_in '"events":3,"by_status":{"reported":0,"registered":0,"cancelled":1,"dispatched":0,"handled":0,"verified":1,"evaluated":0,"archived":1}' "$ga"
expect_in '"on_time_rate":0.5' "$ga"
expect_eq "$(echo "$body" | grep -o '"key":"' | wc -l)" "2" "two grids had events in the period"
expect_status 200 GET "$BASE/v1/stats?by=community&$Q" "${V[@]}"
expect_in '{"key":"440307006001","events":1,' "$body"
expect_in '{"key":"440307006007","events":3,' "$body"
expect_in '"total":{"key":null,"events":4,' "$body"
expect_exit 0 "$W" -s "$S" events stats --by worker --from 2026-09-28 --to 2026-10-17 --at 2026-10-21T12:00
expect_eq "$out" "$STATS_W" "CLI stats = HTTP stats"
expect_status 400 GET "$BASE/v1/stats?by=street" "${V[@]}"
expect_status 400 GET "$BASE/v1/stats?by=grid&from=2026-10-10&to=2026-10-01" "${V[@]}"

# --- Open311 GeoReport v2
expect_status 200 GET "$BASE/open311/v2/services.json"
expect_eq "$(echo "$body" | grep -o '"service_code":' | wc -l)" "26" "services from the categories"
expect_in '{"service_code":"0201","service_name":"非法小广告","description":"宣传广告 / 非法小广告: handled within 4 working hours","metadata":false,"type":"realtime","keywords":"","group":"宣传广告"}' "$body"
expect_status 200 POST "$BASE/open311/v2/requests.json" --data-urlencode service_code=0201 --data-urlencode lat=22.6271 \
  --data-urlencode long=114.4750 --data-urlencode 'description=电线杆上贴满小广告' --data-urlencode email=resident@example.cn \
  --data-urlencode first_name=小明 --data-urlencode media_url=https://img.example.cn/2.jpg --data-urlencode jurisdiction_id=kuichong
R=$(jstr service_request_id)
expect_in '[{"service_request_id":"' "$body"
expect_eq "$(jstr service_notice)" "filed in grid $(grid_of 114.4750 22.6271)" "service notice names the grid"
expect_status 200 GET "$BASE/v1/events/$R" -H "X-API-Key: $DISP"
expect_eq "$(jstr grid)" "$(grid_of 114.4750 22.6271)" "Open311 request's grid = wangge lookup"
expect_eq "$(jstr source)" "open311" "source"
expect_eq "$(jstr category)" "0201" "category"
expect_in '"reporter":"小明 resident@example.cn"' "$body"
expect_in '"actor":"open311:anonymous"' "$body"
expect_status 200 GET "$BASE/open311/v2/requests/$R.json"
expect_in "\"service_request_id\":\"$R\",\"status\":\"open\",\"status_notes\":\"reported\",\"service_name\":\"非法小广告\",\"service_code\":\"0201\",\"description\":\"电线杆上贴满小广告\"" "$body"
expect_in '"media_url":"https://img.example.cn/2.jpg"' "$body"
expect_eq "$(echo "$body" | grep -c 'resident@example.cn')" "0" "no contact in Open311 answers"
expect_status 200 POST "$BASE/open311/v2/requests.json" "${J[@]}" --data-binary '{"service_code":"0504","lat":22.62,"long":114.52,"description":"outside"}'
R2=$(jstr service_request_id)
expect_in "outside every grid; filed under the nearest, grid $(grid_of 114.52 22.62)" "$body"
expect_status 200 GET "$BASE/open311/v2/requests.json?service_request_id=$R,$R2,$A"
expect_eq "$(echo "$body" | grep -o '"service_request_id":"[0-9]*"' | cut -d'"' -f4 | tr '\n' ' ')" "$R $R2 $A " "requests by id"
expect_in "\"service_request_id\":\"$A\",\"status\":\"closed\",\"status_notes\":\"archived\"" "$body"
expect_in '"expected_datetime":"2026-10-19T16:10:00+08:00"' "$body"
expect_status 200 GET "$BASE/open311/v2/requests.json?start_date=2026-09-01T00:00:00%2B08:00&end_date=2026-10-31T00:00:00%2B08:00&status=closed"
expect_eq "$(echo "$body" | grep -o '"service_request_id":"[0-9]*"' | cut -d'"' -f4 | tr '\n' ' ')" "$A $B $C " "closed requests in October"
expect_status 200 GET "$BASE/open311/v2/requests.json?start_date=2026-09-01&end_date=2026-10-31&status=open&service_code=0102,0103"
expect_eq "$(echo "$body" | grep -o '"service_request_id":"[0-9]*"' | cut -d'"' -f4 | tr '\n' ' ')" "$DD " "open 0102/0103 requests in October"
expect_status 200 GET "$BASE/open311/v2/requests.json"
expect_in "\"service_request_id\":\"$R\"" "$body"
expect_status 400 POST "$BASE/open311/v2/requests.json" --data-urlencode service_code=9999 --data-urlencode lat=22.63 --data-urlencode long=114.47
expect_in '[{"code":400,"description":"event 0: unknown category' "$body"
expect_status 400 POST "$BASE/open311/v2/requests.json" --data-urlencode service_code=0201 --data-urlencode address_string=葵涌
expect_in 'lat and long are required' "$body"
expect_status 400 POST "$BASE/open311/v2/requests.json" --data-urlencode service_code=0201 --data-urlencode lat=95 --data-urlencode long=114.47
expect_status 400 POST "$BASE/open311/v2/requests.json" --data-urlencode service_code=0201 --data-urlencode lat=x --data-urlencode long=114.47
expect_status 403 POST "$BASE/open311/v2/requests.json" --data-urlencode service_code=0201 --data-urlencode lat=22.63 --data-urlencode long=114.47 --data-urlencode api_key=wg_000000000000_00000000000000000000000000000000
expect_status 200 POST "$BASE/open311/v2/requests.json" --data-urlencode service_code=0201 --data-urlencode lat=22.63 --data-urlencode long=114.47 --data-urlencode "api_key=$WKEY"
expect_status 401 POST "$BASE/open311/v2/requests.json" -H "X-API-Key: nonsense" --data-urlencode service_code=0201 --data-urlencode lat=22.63 --data-urlencode long=114.47
expect_status 415 POST "$BASE/open311/v2/requests.json" -H 'Content-Type: text/plain' --data-binary 'service_code=0201'
expect_status 404 GET "$BASE/open311/v2/requests/999999.json"
expect_in '[{"code":404,' "$body"
expect_status 400 GET "$BASE/open311/v2/services.xml"
expect_status 400 GET "$BASE/open311/v2/requests.json?status=pending"
expect_status 400 GET "$BASE/open311/v2/requests.json?start_date=tomorrow"
expect_status 404 GET "$BASE/open311/v2/nothing.json"

# --- roles
expect_status 401 GET "$BASE/v1/events"
expect_status 401 POST "$BASE/v1/events" "${J[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0102"}'
expect_status 401 POST "$BASE/v1/events" -H "X-API-Key: wg_000000000000_00000000000000000000000000000000" "${J[@]}" --data-binary '{}'
expect_status 403 POST "$BASE/v1/events" "${V[@]}" "${J[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0102"}'
expect_status 403 POST "$BASE/v1/events/$DD/handle" -H "X-API-Key: $PLAN" "${J[@]}" --data-binary '{}'
expect_status 403 POST "$BASE/v1/events/$DD/register" "${WK[@]}" --data-binary '{}'
expect_status 403 POST "$BASE/v1/events" "${WK[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0102","at":"2026-10-01T09:00:00+08:00"}'
expect_status 401 GET "$BASE/v1/stats?by=grid"
# the assigned worker's own key handles (at the server's clock)
act "$E0" register '{}'
act "$E0" dispatch '{}'
expect_eq "$(jstr assignee)" "$GX" "dispatch without assignee takes the suggestion"
expect_status 200 POST "$BASE/v1/events/$E0/handle" "${WK[@]}" --data-binary '{}'
expect_in "\"actor\":\"$GX\"" "$body"
expect_in '"status":"handled"' "$body"

# --- bad input
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"9999"}'
expect_in '"error":{"code":"bad_data","message":"event 0: unknown category '"'"'9999'"'"'' "$body"
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.47,"lat":22.63}'
expect_in '"error":{"code":"missing_category"' "$body"
before=$(sqlite3 "$S" 'SELECT count(*) FROM events')
expect_status 201 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.52,"lat":22.62,"category":"0102"}'
expect_eq "$(jval outside)" "true" "outside point flagged"
expect_eq "$(jstr grid)" "$(grid_of 114.52 22.62)" "filed under the nearest grid"
expect_eq "$(sqlite3 "$S" 'SELECT count(*) FROM events')" "$((before + 1))" "outside point not lost"
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":181,"lat":22.63,"category":"0102"}'
expect_in "bad coordinates" "$body"
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":"114.47","lat":22.63,"category":"0102"}'
expect_in '"error":{"code":"bad_coordinates"' "$body"
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0102","at":"2026-02-30T10:00:00+08:00"}'
expect_in '"error":{"code":"bad_time"' "$body"
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0102","at":"2099-01-01T10:00:00+08:00"}'
expect_in "in the future" "$body"
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0102","at":"1970-01-01T00:00:00Z"}'
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0102","photo_url":"ftp://x/y"}'
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.47,"lat":22.63,"category":"0102","colour":"red"}'
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '{"lon":114.47,'
expect_in '"error":{"code":"bad_json"' "$body"
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary '[]'
expect_status 415 POST "$BASE/v1/events" -H "X-API-Key: $DISP" -H 'Content-Type: text/plain' --data-binary '{}'
# batches: all or nothing, at most --max-batch (50) events, bodies at most --max-body
before=$(sqlite3 "$S" 'SELECT count(*) FROM events')
awk 'BEGIN { printf "["; for (i = 0; i < 3; i++) printf "%s{\"lon\":114.47,\"lat\":22.63,\"category\":\"%s\"}", (i ? "," : ""), (i == 2 ? "7777" : "0102"); print "]" }' > "$WORK/bad-batch.json"
expect_status 400 POST "$BASE/v1/events" "${D[@]}" --data-binary "@$WORK/bad-batch.json"
expect_in "event 2: unknown category" "$body"
expect_eq "$(sqlite3 "$S" 'SELECT count(*) FROM events')" "$before" "a bad batch stores nothing"
awk 'BEGIN { printf "["; for (i = 0; i < 50; i++) printf "%s{\"lon\":114.47,\"lat\":22.63,\"category\":\"0102\"}", (i ? "," : ""); print "]" }' > "$WORK/batch.json"
expect_status 201 POST "$BASE/v1/events" "${D[@]}" --data-binary "@$WORK/batch.json"
expect_in '"count":50,"ids":[' "$body"
expect_eq "$(sqlite3 "$S" 'SELECT count(*) FROM events')" "$((before + 50))" "a batch of 50"
awk 'BEGIN { printf "["; for (i = 0; i < 51; i++) printf "%s{\"lon\":114.47,\"lat\":22.63,\"category\":\"0102\"}", (i ? "," : ""); print "]" }' > "$WORK/big.json"
expect_status 413 POST "$BASE/v1/events" "${D[@]}" --data-binary "@$WORK/big.json"
expect_in '"error":{"code":"batch_too_large"' "$body"
head -c 70000 /dev/zero | tr '\0' ' ' > "$WORK/huge.json"
expect_status 413 POST "$BASE/v1/events" "${D[@]}" --data-binary "@$WORK/huge.json"
expect_in '"error":{"code":"body_too_large"' "$body"
expect_status 405 PUT "$BASE/v1/events"
expect_status 405 GET "$BASE/v1/events/$A/register" "${V[@]}"

# --- every step of this test is in the store, with actor and time
expect_eq "$(sqlite3 "$S" "SELECT count(*) FROM event_steps WHERE event_id = $A AND actor LIKE 'key:%' AND at_ms > 0")" "9" "A's steps recorded with actor and time"
stop_server
finish
