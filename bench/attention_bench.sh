#!/usr/bin/env bash
# attention_bench.sh: Attention and RotaryEmbedding as fused nodes against their expansions (both onnxcc) and ONNX Runtime; writes a section of RESULTS.md.
#
# usage: bench/attention_bench.sh [N]      N timed runs per measurement (default 20)
# environment:
#   ONNXCC      the compiler (default: build/onnxcc)
#   MODELS_DIR  output of bench/attention_models.py (default: build/attention-models; made if absent)
#   ROUNDS      interleaved rounds per model (default 3); each figure is the median of the rounds' medians
#   THREADS     thread count of the multi-threaded columns (default 2)
#   RESULTS     markdown file whose "## Attention and RotaryEmbedding" section is replaced
#   NODE_PATH   where onnxruntime-node is found (default: bench/node_modules, else /work/main/bench/node_modules)
set -euo pipefail

N=${1:-20}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ONNXCC=${ONNXCC:-$ROOT/build/onnxcc}
MODELS_DIR=${MODELS_DIR:-$ROOT/build/attention-models}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
NODE=${NODE:-node}
if [[ -z ${NODE_PATH:-} ]]; then
    NODE_PATH=$BENCH_DIR/node_modules
    [[ -d $NODE_PATH/onnxruntime-node ]] || NODE_PATH=/work/main/bench/node_modules
fi
export NODE_PATH
SECTION="## Attention and RotaryEmbedding"
MODELS="attn_mha_s128 attn_mha_s512 attn_gqa_s512 attn_causal_s512 rope_s128 rope_s512"

die() {
    echo "attention_bench: $*" >&2
    exit 1
}

[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$N'"
[[ -x $ONNXCC ]] || die "no onnxcc at $ONNXCC (build it first, or set ONNXCC)"
[[ -d $NODE_PATH/onnxruntime-node ]] || die "onnxruntime-node not found under $NODE_PATH"
[[ -f $MODELS_DIR/rope_s512_expanded/model.onnx ]] || python3 "$BENCH_DIR/attention_models.py" "$MODELS_DIR"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The median in ms of the first latency line of a log ("median <x> ms").
median_ms() {
    grep -m1 -oE 'median [0-9.]+ ms' "$1" | grep -oE '[0-9.]+'
}

# The median of its arguments.
median_of() {
    printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

inputs() {
    ls "$MODELS_DIR/$1/test_data_set_0"/input_*.pb | sort -V
}

# Builds every model (fused and expanded) once.
for m in $MODELS; do
    for v in "$m" "${m}_expanded"; do
        "$ONNXCC" build "$MODELS_DIR/$v/model.onnx" -o "$WORK/$v" > "$WORK/$v.build.log" 2>&1 ||
            die "onnxcc build $v failed: $(tail -1 "$WORK/$v.build.log")"
    done
done

declare -A R
for m in $MODELS; do
    echo "$m" >&2
    mapfile -t ins < <(inputs "$m")
    for r in $(seq "$ROUNDS"); do
        for t in 1 "$THREADS"; do
            "$WORK/$m" --bench "$N" --threads "$t" "${ins[@]}" > "$WORK/log" 2>&1
            R[$m,cc,$t]+=" $(median_ms "$WORK/log")"
            "$WORK/${m}_expanded" --bench "$N" --threads "$t" "${ins[@]}" > "$WORK/log" 2>&1
            R[$m,ex,$t]+=" $(median_ms "$WORK/log")"
            "$NODE" "$BENCH_DIR/ort_bench.js" "$MODELS_DIR/$m/model.onnx" "${ins[@]}" \
                --bench "$N" --threads "$t" --quiet > "$WORK/log" 2>&1 ||
                die "ONNX Runtime failed on $m: $(tail -1 "$WORK/log")"
            R[$m,ort,$t]+=" $(median_ms "$WORK/log")"
        done
    done
done

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'
}

{
    echo "$SECTION"
    echo
    echo "Made by \`bench/attention_bench.sh $N\` (models: bench/attention_models.py). The fused"
    echo "node (\`cc\`, runtime/k_attention.c, k_rotary.c) against its expansion into plain ops"
    echo "compiled by onnxcc (\`cc-exp\`) and against ONNX Runtime running the fused node"
    echo "(\`ORT\`; onnxruntime-node, CPU). Batch 1, 12 query heads, head size 64; GQA has 4 KV"
    echo "heads; RoPE is half-split with position ids. Each figure: median over $ROUNDS rounds of"
    echo "the median of $N runs, in ms; ratios above 1 mean the fused onnxcc node is faster."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
    echo "- onnxcc: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown), --target native"
    echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| model | threads | cc ms | cc-exp ms | ORT ms | exp/cc | ORT/cc |"
    echo "|---|--:|--:|--:|--:|--:|--:|"
    for m in $MODELS; do
        for t in 1 "$THREADS"; do
            # shellcheck disable=SC2086
            cc=$(median_of ${R[$m,cc,$t]})
            # shellcheck disable=SC2086
            ex=$(median_of ${R[$m,ex,$t]})
            # shellcheck disable=SC2086
            ort=$(median_of ${R[$m,ort,$t]})
            echo "| $m | $t | $cc | $ex | $ort | $(ratio "$ex" "$cc") | $(ratio "$ort" "$cc") |"
        done
    done
    echo
} > "$WORK/section.md"

# Replace the section in RESULTS (or append it), keeping everything else.
if [[ -f $RESULTS ]]; then
    awk -v sec="$SECTION" '
        $0 == sec {skip = 1; next}
        skip && /^## / {skip = 0}
        !skip {print}' "$RESULTS" > "$WORK/rest.md"
else
    : > "$WORK/rest.md"
fi
{
    cat "$WORK/rest.md"
    [[ -s $WORK/rest.md && -n $(tail -c1 "$WORK/rest.md") ]] && echo
    cat "$WORK/section.md"
} > "$RESULTS"
cat "$WORK/section.md"
echo "wrote $RESULTS" >&2
