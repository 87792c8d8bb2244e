#!/usr/bin/env bash
# llvm_backend.sh: digits built with --backend llvm predicts what the C build does, bit for bit; its IR verifies; refusals are one line.
set -euo pipefail
onnxcc=$1 ex=$2 work=$3 reshape=${4:-}
rm -rf "$work" && mkdir -p "$work"
"$onnxcc" build "$ex/digits.onnx" -o "$work/digits_c"
"$onnxcc" build "$ex/digits.onnx" --backend llvm -o "$work/digits_llvm"
n=0
for f in "$ex"/samples/digit_*.pb; do
    b=$(basename "$f" .pb)
    mkdir -p "$work/c/$b" "$work/llvm/$b"
    "$work/digits_c" "$f" --out "$work/c/$b" > /dev/null
    "$work/digits_llvm" "$f" --out "$work/llvm/$b" > /dev/null
    # the same kernels on the same descriptors: the logits must be identical
    cmp "$work/c/$b/output_0.pb" "$work/llvm/$b/output_0.pb"
    pc=$("$work/digits_c" "$f" | grep argmax)
    pl=$("$work/digits_llvm" "$f" | grep argmax)
    [ "$pc" = "$pl" ] || { echo "$b: C says '$pc', LLVM says '$pl'"; exit 1; }
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no samples in $ex/samples"; exit 1; }
echo "llvm_backend: $n samples, identical logits and predictions"

# --emit llvm-ir: valid IR with the graph function and the API entry points
"$onnxcc" compile "$ex/digits.onnx" --backend llvm --emit llvm-ir -o "$work/ir"
ll="$work/ir/digits.ll"
for sym in "define internal i32 @digits_graph(" "define i32 @digits_run(" "@digits_model = "; do
    grep -qF "$sym" "$ll" || { echo "$ll lacks '$sym'"; exit 1; }
done
if command -v opt-19 > /dev/null; then
    opt-19 -passes=verify -disable-output "$ll"
    echo "llvm_backend: digits.ll passes opt-19's verifier"
else
    echo "llvm_backend: opt-19 not installed, digits.ll checked for its functions only"
fi
# --emit asm and obj: the file in place of digits.c, with the header
"$onnxcc" compile "$ex/digits.onnx" --backend llvm --emit asm -o "$work/asm"
grep -q "digits_run:" "$work/asm/digits.s"
"$onnxcc" compile "$ex/digits.onnx" --backend llvm -o "$work/obj"
[ -f "$work/obj/digits.o" ] && [ -f "$work/obj/digits.h" ] && [ ! -e "$work/obj/digits.c" ]
grep -q "int digits_run(digits_ctx \*ctx, const float \*image, float \*logits)" "$work/obj/digits.h"
# the header says the same for both backends
"$onnxcc" compile "$ex/digits.onnx" -o "$work/csrc"
cmp "$work/csrc/digits.h" "$work/obj/digits.h"

# what the backend does not cover yet: one line naming it, exit 1, no output
expect_refusal() {
    local want=$1
    shift
    if "$onnxcc" "$@" 2> "$work/err.txt"; then
        echo "expected a refusal: $*"
        exit 1
    fi
    [ "$(wc -l < "$work/err.txt")" -eq 1 ] || { cat "$work/err.txt"; exit 1; }
    grep -qF -- "$want" "$work/err.txt" || { echo "want '$want', got: $(cat "$work/err.txt")"; exit 1; }
}
expect_refusal "--profile is not supported by --backend llvm yet; use --backend c" \
    build "$ex/digits.onnx" --backend llvm --profile -o "$work/refused"
expect_refusal "--weights file is not supported by --backend llvm yet" \
    build "$ex/digits.onnx" --backend llvm --weights file -o "$work/refused"
expect_refusal "--emit is for compile --backend llvm" \
    compile "$ex/digits.onnx" --emit asm -o "$work/refused"
[ ! -e "$work/refused" ]
echo "llvm_backend: refusals are one line"

# an input that decides a shape (Reshape's shape): the C backend reads it when
# the model runs; the LLVM backend compiles the sample in, or asks for it
if [ -n "$reshape" ]; then
    "$onnxcc" build "$reshape/model.onnx" --backend llvm -o "$work/reshape" \
        "$reshape/test_data_set_0/input_0.pb" "$reshape/test_data_set_0/input_1.pb" 2> "$work/err.txt"
    grep -q "compiled in" "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
    "$work/reshape" "$reshape/test_data_set_0/input_0.pb" --out "$work/reshape_out" > /dev/null
    # a Reshape moves no value: the output is ONNX's expected tensor, byte for byte
    cmp "$work/reshape_out/output_0.pb" "$reshape/test_data_set_0/output_0.pb"
    expect_refusal "bind it with --const shape=FILE" \
        build "$reshape/model.onnx" --backend llvm -o "$work/refused" \
        "$reshape/test_data_set_0/input_0.pb"
    [ ! -e "$work/refused" ]
    echo "llvm_backend: a Reshape's shape input is compiled in from its sample"
fi
