#!/usr/bin/env bash
# example_digits.sh: every bundled digits sample, compiled and interpreted, matches PyTorch's logits.
set -euo pipefail
runner=$1 ex=$2 work=$3
shift 3 # the rest goes to the runner (--backend llvm --no-interp)
rm -rf "$work" && mkdir -p "$work/digits"
: > "$work/expect.txt"
for f in "$ex"/samples/digit_*.pb; do
    b=$(basename "$f" .pb)
    c="$work/digits/$b"
    mkdir -p "$c/test_data_set_0"
    ln -s "$ex/digits.onnx" "$c/model.onnx"
    ln -s "$f" "$c/test_data_set_0/input_0.pb"
    ln -s "$ex/samples/expected/$b.pb" "$c/test_data_set_0/output_0.pb"
    echo "digits/$b" >> "$work/expect.txt"
done
[ -s "$work/expect.txt" ] || { echo "no samples in $ex/samples"; exit 1; }
"$runner" --jobs 2 "$@" --expect "$work/expect.txt" "$work/digits"
