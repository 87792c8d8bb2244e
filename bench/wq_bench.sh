#!/usr/bin/env bash
# wq_bench.sh: int4 (group 32) matrix-vector throughput of MatMulWQ against ONNX Runtime's MatMulNBits, in GB/s of packed weights read.
#
# usage: bench/wq_bench.sh [N]   N timed runs per measurement (default 50)
# environment:
#   ONNXCC   the compiler (default: build/onnxcc)
#   OUT      work folder (default: build/wq-bench)
#   K, NN    the matrix, K x NN (default 4096 x 4096)
#   MS       rows of A to time, space-separated (default "1 4")
#   ROUNDS   interleaved rounds (default 5); each contestant's figure is the
#            median over rounds of its per-round median, and the best min
#   THREADS  1 (default) or more, for both contestants
#
# One model per M (bench/wq_models.py): a MatMulNBits with 4-bit codes,
# block 32, uint8 zero points, as ONNX Runtime runs it; onnxcc repacks the
# same codes into its int4 layout (float32 scale + uint8 zero + 16 bytes per
# 32 weights: 5.25 bits) and ORT reads its own (4 bits + a float32 scale per
# 32 + a 4-bit zero: 5.125 bits). GB/s counts each one's own bytes. The
# measured read bandwidth of one core is what a --profile binary prints.
set -euo pipefail

N=${1:-50}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ONNXCC=${ONNXCC:-$ROOT/build/onnxcc}
OUT=${OUT:-$ROOT/build/wq-bench}
K=${K:-4096}
NN=${NN:-4096}
MS=${MS:-1 4}
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-1}
NODE=${NODE:-node}
ORT_MODULES=${ORT_MODULES:-$BENCH_DIR/node_modules}
[[ -d $ORT_MODULES/onnxruntime-node ]] || ORT_MODULES=/work/main/bench/node_modules

die() {
    echo "wq_bench: $*" >&2
    exit 1
}
[[ -x $ONNXCC ]] || die "no onnxcc at $ONNXCC (build it, or set ONNXCC)"
[[ -d $ORT_MODULES/onnxruntime-node ]] || die "onnxruntime-node is not installed (bench/README.md)"
mkdir -p "$OUT"
/usr/bin/python3 "$BENCH_DIR/wq_models.py" "$OUT" --k "$K" --n "$NN" --m $MS > /dev/null

# median of numbers on stdin
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
minimum() { sort -g | head -1; }
field() { sed -n "s/.*$1 \([0-9.]*\) ms.*/\1/p"; }

nb=$(( (K + 31) / 32 ))
ours_bytes=$(( NN * nb * 21 ))
ort_bytes=$(( NN * nb * 16 + NN * nb * 4 + NN * ((nb + 1) / 2) ))

printf '| M | K x N | onnxcc median ms | min ms | GB/s (median, min) | ORT median ms | min ms | GB/s (median, min) | ORT / onnxcc |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
peak=""
for m in $MS; do
    d=$OUT/wq_int4_m$m
    "$ONNXCC" build "$d/model.onnx" --threads "$THREADS" -o "$d/bin" ||
        die "onnxcc build failed for $d"
    if [[ -z $peak ]]; then
        "$ONNXCC" build "$d/model.onnx" --profile -o "$d/bin_prof" > /dev/null
        peak=$("$d/bin_prof" --bench 3 "$d/test_data_set_0/input_0.pb" | sed -n 's/^peak: .*, \([0-9.]*\) GB\/s read.*/\1/p')
    fi
    in=$d/test_data_set_0/input_0.pb
    : > "$d/ours.med"; : > "$d/ours.min"; : > "$d/ort.med"; : > "$d/ort.min"
    for ((r = 0; r < ROUNDS; r++)); do
        o=$("$d/bin" --bench "$N" --threads "$THREADS" "$in" | grep '^latency')
        echo "$o" | field median >> "$d/ours.med"
        echo "$o" | field min >> "$d/ours.min"
        o=$(NODE_PATH=$ORT_MODULES "$NODE" "$BENCH_DIR/ort_bench.js" "$d/model.onnx" "$in" \
            --bench "$N" --threads "$THREADS" --quiet | grep '^latency')
        echo "$o" | field median >> "$d/ort.med"
        echo "$o" | field min >> "$d/ort.min"
    done
    om=$(median < "$d/ours.med"); on=$(minimum < "$d/ours.min")
    rm_=$(median < "$d/ort.med"); rn=$(minimum < "$d/ort.min")
    awk -v m="$m" -v k="$K" -v n="$NN" -v om="$om" -v on="$on" -v rm="$rm_" -v rn="$rn" \
        -v ob="$ours_bytes" -v rb="$ort_bytes" 'BEGIN {
        printf "| %d | %dx%d | %.3f | %.3f | %.1f, %.1f | %.3f | %.3f | %.1f, %.1f | %.2f |\n",
            m, k, n, om, on, ob / om / 1e6, ob / on / 1e6, rm, rn, rb / rm / 1e6, rb / rn / 1e6, rm / om }'
done
echo
echo "measured read bandwidth (one core, --profile): ${peak:-?} GB/s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "packed weights: onnxcc $ours_bytes bytes, ONNX Runtime $ort_bytes bytes; threads $THREADS, $ROUNDS rounds of $N runs"
