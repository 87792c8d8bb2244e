#!/usr/bin/env bash
# wq_import.sh: weight-only QDQ files from --save-onnx import back as MatMulWQ, bit for bit.
#
# Usage: tests/wq_import.sh ONNXCC SRC WORK
# No Python: onnxcc itself writes the QDQ files (DequantizeLinear blocked along K,
# + MatMul, + Mul/Add for a tensor scale or bias). For each format, on the
# weight-only test MLP (a MatMul, a transposed Gemm, a Gemm with alpha and beta)
# and on examples/charlm (three Gemm layers):
#   - the interpreter (onnxcc run) gives the re-imported file the outputs of the
#     directly quantized model, byte for byte, and --quant-report names every
#     layer as imported in its format (none folded to float);
#   - for int4 on charlm, a built binary of the QDQ file gives the direct int4
#     binary's outputs byte for byte, and the compiled graph keeps the direct
#     build's constants (the packed int4 matrices and biases), about 6x fewer
#     bytes than fp32's.
set -uo pipefail
onnxcc=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
. "$(dirname "$0")/tally.sh"
mlp=$src/tests/data/wq_mlp
lm=$src/examples/charlm

# roundtrip NAME MODEL INPUT FMT LAYERS IMPORTED_AS [exact]
roundtrip() {
    local name=$1 model=$2 input=$3 fmt=$4 layers=$5 as=$6 exact=${7:-}
    local d=$work/$name
    mkdir -p "$d"
    # shellcheck disable=SC2086 # fmt may carry --group
    if ! "$onnxcc" run "$model" "$input" --quantize-weights $fmt --save-onnx "$d/q.onnx" \
        --out "$d/direct" > /dev/null 2> "$d/save.err"; then
        bad "$name: save: $(head -n1 "$d/save.err")"
        return
    fi
    if ! "$onnxcc" run "$d/q.onnx" "$input" --quant-report --out "$d/import" > /dev/null \
        2> "$d/import.err"; then
        bad "$name: re-import: $(head -n1 "$d/import.err")"
        return
    fi
    local got folded
    got=$(grep -c "^wq_import: .*: $as, " "$d/import.err")
    folded=$(grep -c "folded to float" "$d/import.err")
    if [ "$got" != "$layers" ] || [ "$folded" != 0 ]; then
        bad "$name: $got of $layers layers imported as $as, $folded folded: $(cat "$d/import.err")"
        return
    fi
    ok
    [ -n "$exact" ] || return
    for f in "$d/direct"/*; do
        if ! cmp -s "$f" "$d/import/$(basename "$f")"; then
            bad "$name: $(basename "$f") differs from the directly quantized model's"
            return
        fi
    done
    ok
}

for f in int8 int4 int3 int2 ternary sherry mxint8 mxfp8 mxfp4 nvfp4; do
    roundtrip "mlp_$f" "$mlp/model.onnx" "$mlp/input_0.pb" $f 3 $f exact
done
# ternary5's codes are ternary ones: imported as the faster TERNARY, same values
roundtrip mlp_ternary5 "$mlp/model.onnx" "$mlp/input_0.pb" ternary5 3 ternary
roundtrip mlp_int4_g64 "$mlp/model.onnx" "$mlp/input_0.pb" "int4 --group 64" 3 int4 exact
for f in int4 int2 mxfp4; do
    roundtrip "charlm_$f" "$lm/charlm.onnx" "$lm/samples/context_0.pb" $f 3 $f exact
done

# built binaries: the QDQ file against the direct int4 build
in=$lm/samples/context_0.pb
q=$work/charlm_int4/q.onnx
if "$onnxcc" build "$lm/charlm.onnx" "$in" --quantize-weights int4 -o "$work/lm_direct" \
    > "$work/build.log" 2>&1 &&
    "$onnxcc" build "$q" "$in" -o "$work/lm_qdq" >> "$work/build.log" 2>&1 &&
    "$work/lm_direct" "$in" --out "$work/out_direct" > /dev/null &&
    "$work/lm_qdq" "$in" --out "$work/out_qdq" > /dev/null; then
    if cmp -s "$work/out_direct/output_0.pb" "$work/out_qdq/output_0.pb"; then
        ok
    else
        bad "charlm: the QDQ file's binary differs from the direct int4 binary"
    fi
else
    bad "charlm: build or run failed: $(grep -m1 onnxcc "$work/build.log")"
fi
# consts MODEL OPTIONS...: the constants the compiled graph keeps, as "dtype[dims] bytes",
# sorted; their names and order (hence the blob's 64-byte padding) may differ
consts() {
    local model=$1
    shift
    "$onnxcc" inspect "$model" "$in" "$@" 2> /dev/null |
        sed -n 's/^ *const  *%[^:]*: \([a-z0-9]*\)\[\([0-9,]*\)\].*/\1 \2/p' |
        awk '{ n = 1; k = split($2, d, ","); for (i = 1; i <= k; i++) n *= d[i];
               b = $1 == "uint8" ? 1 : 4; print $1 "[" $2 "] " n * b }' | sort
}
consts "$lm/charlm.onnx" --quantize-weights int4 > "$work/consts_direct"
consts "$q" > "$work/consts_qdq"
consts "$lm/charlm.onnx" > "$work/consts_fp32"
total() { awk '{ s += $2 } END { print s + 0 }' "$1"; }
direct=$(total "$work/consts_direct") qdq=$(total "$work/consts_qdq")
fp32=$(total "$work/consts_fp32")
echo "charlm weight bytes: fp32 $fp32, int4 $direct, int4 QDQ imported $qdq"
if [ "$direct" -gt 0 ] && cmp -s "$work/consts_direct" "$work/consts_qdq" &&
    [ "$direct" -lt $((fp32 / 5)) ]; then
    ok
else
    bad "charlm: the QDQ file's constants are not the direct int4 build's:" \
        "$(diff "$work/consts_direct" "$work/consts_qdq" | head -n 4)"
fi
# ONNX Runtime, where bench/node_modules has it, on the same QDQ file: the plain
# DequantizeLinear + MatMul graph (--opt basic) within its check's 1e-3
ort=$src/bench/ort_bench.js
if command -v node > /dev/null && [ -d "$src/bench/node_modules/onnxruntime-node" ]; then
    if node "$ort" "$q" "$in" --expect "$work/out_qdq/output_0.pb" --bench 1 --threads 1 \
        --opt basic > "$work/ort.log" 2>&1; then
        ok
        grep "^check:" "$work/ort.log"
    else
        bad "charlm: ONNX Runtime: $(tail -n1 "$work/ort.log")"
    fi
else
    echo "wq_import: onnxruntime-node is missing (bench/node_modules): ONNX Runtime check skipped"
fi
finish wq_import
