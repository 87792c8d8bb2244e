#!/usr/bin/env bash
# valgrind.sh: the compiler leaks nothing and reads no invalid memory on conformance models.
set -euo pipefail
onnxcc=${1:?usage: valgrind.sh ONNXCC}
root=/usr/share/libonnx-testdata/data
list=$(dirname "$0")/conformance/expected_pass.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0; bad=0
# every 6th case that must pass, plus every simple one: enough variety, bounded time
for id in $(grep -v '^#' "$list" | awk 'NR % 6 == 0 || /^simple\//'); do
    dir=$root/$id
    inputs=$(ls "$dir"/test_data_set_0/input_*.pb 2>/dev/null | sort -V || true)
    n=$((n + 1))
    if ! valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
            --error-exitcode=99 "$onnxcc" compile "$dir/model.onnx" $inputs -o "$tmp/out" \
            >/dev/null 2>"$tmp/log"; then
        echo "valgrind: $id"; cat "$tmp/log"; bad=$((bad + 1))
    fi
    rm -rf "$tmp/out"
done
# a malformed model must be rejected cleanly too
head -c 100 "$root/node/test_conv_with_strides_padding/model.onnx" > "$tmp/truncated.onnx"
n=$((n + 1))
valgrind -q --leak-check=full --error-exitcode=99 "$onnxcc" inspect "$tmp/truncated.onnx" \
    >/dev/null 2>"$tmp/log" || [ $? -ne 99 ] || { echo "valgrind: truncated model"; cat "$tmp/log"; bad=$((bad + 1)); }
echo "valgrind: $((n - bad)) passed, $bad failed"
[ "$bad" = 0 ]
