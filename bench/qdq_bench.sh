#!/bin/bash
# qdq_bench.sh: QDQ int8 resnet18 against fp32, onnxcc and ONNX Runtime, one thread, interleaved rounds.
#
# Usage: bench/qdq_bench.sh [BUILD_DIR] [ROUNDS] [RUNS]
# Writes BUILD_DIR/bench-models/resnet18_qdq with bench/qdq_resnet18.py when it is
# missing (from BUILD_DIR/bench-models/resnet18, made by bench/make_models.py),
# builds both models with BUILD_DIR/onnxcc, then runs ROUNDS rounds (default 5) of
# RUNS timed runs (default 20) each of: onnxcc fp32, onnxcc int8, ORT fp32, ORT
# int8, so that a busy machine's load falls on all four alike. Prints per round
# each one's median, then the median of the rounds' medians and the best min.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ROUNDS=${2:-5}
RUNS=${3:-20}
FP=$BUILD/bench-models/resnet18
Q=$BUILD/bench-models/resnet18_qdq
NODE_DIR=$ROOT/bench
[[ -d $NODE_DIR/node_modules ]] || NODE_DIR=/work/main/bench
[[ -f $Q/model.onnx ]] || /usr/bin/python3 "$ROOT/bench/qdq_resnet18.py" "$FP/model.onnx" "$Q"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$BUILD/onnxcc" build "$FP/model.onnx" -o "$TMP/fp32"
"$BUILD/onnxcc" build "$Q/model.onnx" -o "$TMP/int8"
IN=$FP/test_data_set_0/input_0.pb
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
med() { sed -n 's/.*median \([0-9.]*\) ms.*/\1/p'; }
mn() { sed -n 's/.*min \([0-9.]*\) ms.*/\1/p'; }
declare -A all mins
for r in $(seq "$ROUNDS"); do
  line="round $r:"
  for who in onnxcc_fp32 onnxcc_int8 ort_fp32 ort_int8; do
    case $who in
      onnxcc_fp32) out=$("$TMP/fp32" --bench "$RUNS" "$IN" | tail -1) ;;
      onnxcc_int8) out=$("$TMP/int8" --bench "$RUNS" "$IN" | tail -1) ;;
      ort_fp32) out=$(NODE_PATH=$NODE_DIR/node_modules node "$ROOT/bench/ort_bench.js" "$FP/model.onnx" "$IN" --bench "$RUNS" --threads 1 --quiet | tail -1) ;;
      ort_int8) out=$(NODE_PATH=$NODE_DIR/node_modules node "$ROOT/bench/ort_bench.js" "$Q/model.onnx" "$IN" --bench "$RUNS" --threads 1 --quiet | tail -1) ;;
    esac
    all[$who]="${all[$who]:-} $(echo "$out" | med)"
    mins[$who]="${mins[$who]:-} $(echo "$out" | mn)"
    line="$line $who $(echo "$out" | med)"
  done
  echo "$line"
done
for who in onnxcc_fp32 onnxcc_int8 ort_fp32 ort_int8; do
  m=$(echo ${all[$who]} | tr ' ' '\n' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  b=$(echo ${mins[$who]} | tr ' ' '\n' | sort -g | head -1)
  printf '%-12s median of medians %8.2f ms   best min %8.2f ms\n' "$who" "$m" "$b"
done
