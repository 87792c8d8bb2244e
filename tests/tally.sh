# tally.sh: sourced by the shell tests: count checks, name failures, close with "N passed, N failed".
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# the closing line ctest logs show, and the exit status
finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" = 0 ]
}
# a command that must fail with one line of stderr matching $1 (a grep pattern)
expect_error() {
    local want=$1; shift
    local st=0
    "$@" >o.txt 2>e.txt || st=$?
    if [ "$st" != 0 ] && [ "$(wc -l < e.txt)" = 1 ] && grep -q -- "$want" e.txt; then ok
    else bad "$* (status $st): expected one line matching '$want', got: $(cat e.txt)"; fi
}
# a command that must succeed
expect_ok() {
    if "$@" >o.txt 2>e.txt; then ok; else bad "$* failed: $(cat e.txt)"; fi
}
