#!/bin/sh
# run_malformed.sh: runs onnxcc on every malformed model make_malformed.py wrote and checks
# the one-line message, the exit status and that no output is left behind.
# usage: run_malformed.sh ONNXCC CASES_DIR [REPORT.md]
set -u
onnxcc=$1 dir=$2 report=${3:-}
fails=0 n=0
rows=$(mktemp)
tab=$(printf '\t')
while IFS="$tab" read -r name cmd opts expect; do
    n=$((n + 1))
    d=$dir/$name m=$dir/$name/model.onnx out=$dir/$name/out
    [ "$opts" = - ] && opts=
    want=$(printf '%s' "$expect" | sed "s|{M}|$m|g; s|{D}|$d|g")
    want="onnxcc: $want"
    before=$(ls -A "$d" | sort | tr '\n' ' ')
    # shellcheck disable=SC2086
    got=$("$onnxcc" "$cmd" "$m" -o "$out" $opts 2>&1 >/dev/null)
    status=$?
    after=$(ls -A "$d" | sort | tr '\n' ' ')
    lines=$(printf '%s\n' "$got" | wc -l)
    ok=1 why=
    if [ "$status" -eq 0 ] || [ "$status" -gt 2 ]; then ok=0 why="exit status $status"; fi
    if [ "$got" != "$want" ]; then ok=0 why="${why:+$why; }message differs"; fi
    if [ "$lines" -ne 1 ]; then ok=0 why="${why:+$why; }$lines lines"; fi
    if [ "$before" != "$after" ]; then ok=0 why="${why:+$why; }left behind: $after"; fi
    if [ $ok -eq 0 ]; then
        fails=$((fails + 1))
        printf 'FAIL %s: %s\n  want: %s\n  got:  %s\n' "$name" "$why" "$want" "$got"
    fi
    short=$(printf '%s' "$got" | sed "s|$d/|DIR/|g; s|$m|model.onnx|g; s/|/\\\\|/g")
    printf '| `%s` | %s%s | %s | %s |\n' "$name" "$cmd" "${opts:+ \`$opts\`}" "$short" \
        "$([ $ok -eq 1 ] && echo pass || echo FAIL)" >>"$rows"
done <"$dir/cases.tsv"
echo "malformed: $((n - fails)) of $n pass"
if [ -n "$report" ]; then
    # rewrite the table between the markers of docs/robustness.md
    awk -v rows="$rows" '
        /<!-- malformed-table-begin -->/ { print; print "| case | command | onnxcc says | result |"; print "|---|---|---|---|"; while ((getline l < rows) > 0) print l; skip = 1; next }
        /<!-- malformed-table-end -->/ { skip = 0 }
        !skip { print }' "$report" >"$report.tmp" && mv "$report.tmp" "$report"
fi
rm -f "$rows"
[ $fails -eq 0 ]
