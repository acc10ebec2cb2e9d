# Assertions for the CLI tests (sourced). Every check prints what it compared on failure.
fails=0
checks=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_exit() { # expect_exit CODE CMD... : runs CMD, keeps stdout in $out, stderr in $err
  local want=$1; shift
  checks=$((checks + 1))
  out=$("$@" 2>/tmp/wg-cli-err.$$) && got=0 || got=$?
  err=$(cat /tmp/wg-cli-err.$$)
  [ "$got" = "$want" ] || fail "exit $got (want $want): $*
stdout: $out
stderr: $err"
}
expect_in() { # expect_in TEXT HAYSTACK
  checks=$((checks + 1))
  case "$2" in *"$1"*) ;; *) fail "expected '$1' in: $2" ;; esac
}
expect_not_in() { # expect_not_in TEXT HAYSTACK
  checks=$((checks + 1))
  case "$2" in *"$1"*) fail "did not expect '$1' in: $2" ;; esac
}
expect_eq() {
  checks=$((checks + 1))
  [ "$1" = "$2" ] || fail "expected '$2', got '$1' ($3)"
}
# SQ STORE SQL...: sqlite3 with SpatiaLite loaded (the blank line its loading prints dropped)
SQ() { sqlite3 -batch -noheader -cmd "SELECT load_extension('mod_spatialite')" "$@" | sed '1{/^$/d}'; }
import_levels() { # import_levels STORE DIR: DIR's districts, communities and grids (exit 0 each)
  local level f
  for level in district community grid; do
    f=${level}s; [ $level = community ] && f=communities
    expect_exit 0 "$W" -s "$1" import --level $level "$2/$f.geojson"
  done
}
finish() {
  rm -f /tmp/wg-cli-err.$$
  echo "$((checks - fails)) passed, $fails failed"
  [ "$fails" = 0 ]
}
