# tally.sh: sourced by the shell tests: count checks, name failures, close with "N passed, N failed".
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# the closing line ctest logs show, and the exit status
finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" = 0 ]
}
