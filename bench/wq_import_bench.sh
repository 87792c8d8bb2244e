#!/usr/bin/env bash
# wq_import_bench.sh: charlm's int4 QDQ file compiled back, against direct int4, fp32 and ORT.
#
# Usage: bench/wq_import_bench.sh [ROUNDS] (from the source tree, after a build in build/)
# For batch 1 and 256: writes the int4 QDQ file with onnxcc's own --save-onnx,
# builds fp32, direct int4 (--quantize-weights int4) and the QDQ file's binary,
# checks the QDQ binary's logits against the direct one's (byte for byte) and
# ONNX Runtime's on the same file (max |diff|), then times everything in
# interleaved rounds: each figure is the median over rounds of each binary's
# median latency (one thread). Weight bytes: the constants the compiled graph
# keeps (onnxcc inspect), without the blob's alignment padding.
set -euo pipefail
rounds=${1:-5}
src=$(cd "$(dirname "$0")/.." && pwd)
onnxcc=$src/build/onnxcc
lm=$src/examples/charlm
work=${WORK:-/tmp/wq_import_bench}
ort="node $src/bench/ort_bench.js"
rm -rf "$work" && mkdir -p "$work"
/usr/bin/python3 "$src/tools/quant_data.py" windows "$lm/heldout.txt" "$work/win" 256 256 \
    "$work/targets.txt" > /dev/null

wbytes() { # MODEL INPUT OPTIONS...
    local m=$1 i=$2
    shift 2
    "$onnxcc" inspect "$m" "$i" "$@" 2> /dev/null |
        sed -n 's/^ *const  *%[^:]*: \([a-z0-9]*\)\[\([0-9,]*\)\].*/\1 \2/p' |
        awk '{ n = 1; k = split($2, d, ","); for (i = 1; i <= k; i++) n *= d[i];
               s += n * ($1 == "uint8" ? 1 : 4) } END { print s + 0 }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

for b in 1 256; do
    in=$lm/samples/context_0.pb dim=()
    [ $b = 1 ] || { in=$work/win/w0000.pb dim=(--dim batch=256); }
    "$onnxcc" run "$lm/charlm.onnx" "$in" "${dim[@]}" --quantize-weights int4 \
        --save-onnx "$work/q$b.onnx" > /dev/null
    "$onnxcc" build "$lm/charlm.onnx" "$in" "${dim[@]}" -o "$work/fp32_$b"
    "$onnxcc" build "$lm/charlm.onnx" "$in" "${dim[@]}" --quantize-weights int4 -o "$work/int4_$b"
    "$onnxcc" build "$work/q$b.onnx" "$in" -o "$work/qdq_$b"
    for v in int4 qdq; do "$work/${v}_$b" "$in" --out "$work/out_${v}_$b" > /dev/null; done
    if cmp -s "$work/out_int4_$b/output_0.pb" "$work/out_qdq_$b/output_0.pb"; then
        same="identical"
    else
        same="DIFFERENT"
    fi
    diff_ort=$($ort "$work/q$b.onnx" "$in" --expect "$work/out_qdq_$b/output_0.pb" --bench 1 \
        --threads 1 --opt basic 2>&1 | sed -n 's/^check: .*max |diff| //p')
    echo "batch $b: QDQ binary vs direct int4 logits: $same; vs ONNX Runtime (--opt basic):" \
        "max |diff| ${diff_ort:-?}"
    echo "batch $b: weight bytes: fp32 $(wbytes "$lm/charlm.onnx" "$in" "${dim[@]}")," \
        "int4 $(wbytes "$lm/charlm.onnx" "$in" "${dim[@]}" --quantize-weights int4)," \
        "QDQ $(wbytes "$work/q$b.onnx" "$in")"
    n=$((b == 1 ? 2000 : 200))
    for r in $(seq "$rounds"); do
        for v in fp32 int4 qdq; do
            "$work/${v}_$b" "$in" --bench $n 2>&1 |
                sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' >> "$work/t_${v}_$b"
        done
        for o in basic qdq-float; do
            flag=$([ $o = basic ] && echo "--opt basic" || echo "--qdq-float")
            # shellcheck disable=SC2086
            $ort "$work/q$b.onnx" "$in" --bench $((n / 4)) --threads 1 $flag --quiet 2>&1 |
                sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' >> "$work/t_ort_${o}_$b"
        done
    done
    printf "batch %s median ms:" $b
    for v in fp32 int4 qdq ort_basic ort_qdq-float; do
        printf " %s %s" $v "$(median < "$work/t_${v}_$b")"
    done
    echo
done
