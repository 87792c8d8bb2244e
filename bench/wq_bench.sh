#!/usr/bin/env bash
# wq_bench.sh: int4 (group 32) matrix-vector throughput of MatMulWQ, with float and with int8 activations, against ONNX Runtime's MatMulNBits at accuracy_level 0 and 4, in GB/s of packed weights read.
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
# block 32, uint8 zero points, as ONNX Runtime runs it, and the same model
# with accuracy_level 4 (ONNX Runtime: A quantized to int8 per block, integer
# dot products; onnxcc reads it as --wq-act int8: k_wq_gemv8.c). onnxcc
# repacks the same codes into its int4 layout (float32 scale + uint8 zero +
# 16 bytes per 32 weights: 5.25 bits) and ORT reads its own (4 bits + a
# float32 scale per 32 + a 4-bit zero: 5.125 bits). GB/s counts each one's
# own bytes; % roofline is onnxcc's median GB/s over the read bandwidth of
# one core as a --profile binary measures it (taken before each M's runs).
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

# the CPU the figures belong to
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
isa=$(grep -m1 -o -w 'avx512_vnni\|avx_vnni\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')

# stats FILE: "median min" of a contestant's per-round medians and mins
stats() { echo "$(median < "$1.med") $(minimum < "$1.min")"; }

printf '| M | K x N | activations | onnxcc median ms | min ms | GB/s (median, min) | %% roofline | ORT accuracy_level | ORT median ms | GB/s | ORT / onnxcc |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
peaks=""
for m in $MS; do
    d=$OUT/wq_int4_m$m
    /usr/bin/python3 - "$d/model.onnx" "$d/model_acc4.onnx" <<'PY'
import sys
import onnx
m = onnx.load(sys.argv[1])
m.graph.node[0].attribute.append(onnx.helper.make_attribute("accuracy_level", 4))
onnx.save(m, sys.argv[2])
PY
    "$ONNXCC" build "$d/model.onnx" --threads "$THREADS" -o "$d/bin_f32" ||
        die "onnxcc build failed for $d"
    "$ONNXCC" build "$d/model_acc4.onnx" --threads "$THREADS" -o "$d/bin_int8" ||
        die "onnxcc build failed for $d (accuracy_level 4)"
    "$ONNXCC" build "$d/model.onnx" --profile -o "$d/bin_prof" > /dev/null
    in=$d/test_data_set_0/input_0.pb
    peak=$("$d/bin_prof" --bench 3 "$in" | sed -n 's/^peak: .*, \([0-9.]*\) GB\/s read.*/\1/p')
    peaks="$peaks ${peak:-?}"
    for c in f32 int8 ort0 ort4; do : > "$d/$c.med"; : > "$d/$c.min"; done
    for ((r = 0; r < ROUNDS; r++)); do
        for c in f32 int8; do
            o=$("$d/bin_$c" --bench "$N" --threads "$THREADS" "$in" | grep '^latency')
            echo "$o" | field median >> "$d/$c.med"
            echo "$o" | field min >> "$d/$c.min"
        done
        for c in 0 4; do
            model=$d/model.onnx
            [[ $c = 4 ]] && model=$d/model_acc4.onnx
            o=$(NODE_PATH=$ORT_MODULES "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "$in" \
                --bench "$N" --threads "$THREADS" --quiet | grep '^latency')
            echo "$o" | field median >> "$d/ort$c.med"
            echo "$o" | field min >> "$d/ort$c.min"
        done
    done
    for c in f32 int8; do
        read -r om on <<< "$(stats "$d/$c")"
        o=0
        [[ $c = int8 ]] && o=4
        read -r rm_ rn <<< "$(stats "$d/ort$o")"
        act=float
        [[ $c = int8 ]] && act="int8 (--wq-act int8, accuracy_level 4)"
        awk -v m="$m" -v k="$K" -v n="$NN" -v om="$om" -v on="$on" -v rm="$rm_" -v rn="$rn" \
            -v ob="$ours_bytes" -v rb="$ort_bytes" -v pk="${peak:-0}" -v act="$act" -v lvl="$o" 'BEGIN {
            roof = pk > 0 ? sprintf("%.0f%%", 100 * ob / om / 1e6 / pk) : "?"
            printf "| %d | %dx%d | %s | %.3f | %.3f | %.1f, %.1f | %s | %d | %.3f | %.1f | %.2f |\n",
                m, k, n, act, om, on, ob / om / 1e6, ob / on / 1e6, roof, lvl, rm, rb / rm / 1e6, rm / om }'
    done
done
echo
echo "CPU: ${cpu:-?} (${isa:-no AVX2}); measured read bandwidth (one core, --profile) per M:${peaks}"
echo "GB/s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "packed weights: onnxcc $ours_bytes bytes, ONNX Runtime $ort_bytes bytes; threads $THREADS, $ROUNDS rounds of $N runs"
