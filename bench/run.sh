#!/usr/bin/env bash
# run.sh: times onnxcc-built binaries against ONNX Runtime on the bench models; writes RESULTS.md.
#
# usage: bench/run.sh [N]      N timed runs per measurement (default 50)
# environment:
#   ONNXCC      the compiler (default: build/onnxcc)
#   MODELS_DIR  output folder of tests/models/make_models.py (default: build/models)
#   MODELS      which models, space-separated (default: digits resnet18 mobilenet_v2 transformer)
#   ROUNDS      interleaved rounds per model (default 3)
#   RESULTS     markdown file to write (default: bench/RESULTS.md)
#   TARGET      onnxcc's --target for the binaries (default: native)
set -euo pipefail

N=${1:-50}
ROUNDS=${ROUNDS:-3}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ONNXCC=${ONNXCC:-$ROOT/build/onnxcc}
MODELS_DIR=${MODELS_DIR:-$ROOT/build/models}
MODELS=${MODELS:-digits resnet18 mobilenet_v2 transformer}
RESULTS=${RESULTS:-$BENCH_DIR/RESULTS.md}
NODE=${NODE:-node}
TARGET=${TARGET:-native}

die() {
    echo "bench: $*" >&2
    exit 1
}

# Prints the files matching a glob, one a line, in version order (input_10 after input_9).
sorted_glob() {
    local f
    for f in $1; do if [[ -e $f ]]; then echo "$f"; fi; done | sort -V
}

[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, got '$N'"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"

# ---- prerequisites: all checked before anything runs, so a long run never dies halfway ----

[[ -x $ONNXCC ]] || die "no onnxcc at $ONNXCC: build it with" \
    "'cmake -S $ROOT -B $ROOT/build && cmake --build $ROOT/build -j2', or set ONNXCC"
command -v "$NODE" > /dev/null || die "node not found (apt-get install nodejs npm)"
[[ -d $BENCH_DIR/node_modules/onnxruntime-node ]] ||
    die "onnxruntime-node is not installed: run 'cd $BENCH_DIR && npm ci --ignore-scripts'"

declare -A MODEL_FILE MODEL_INPUTS MODEL_EXPECT
for m in $MODELS; do
    case $m in
    digits)
        f=$ROOT/examples/digits/digits.onnx
        # Latency does not depend on the digit drawn: one sample is enough.
        shopt -s nullglob
        samples=("$ROOT"/examples/digits/samples/*.pb)
        shopt -u nullglob
        [[ -f $f && ${#samples[@]} -gt 0 ]] ||
            die "digits: missing $f or examples/digits/samples/*.pb; make them with" \
                "'/usr/bin/python3 $ROOT/examples/digits/train.py'"
        MODEL_FILE[$m]=$f
        MODEL_INPUTS[$m]=${samples[0]}
        e=$ROOT/examples/digits/samples/expected/$(basename "${samples[0]}")
        MODEL_EXPECT[$m]=
        if [[ -f $e ]]; then MODEL_EXPECT[$m]=$e; fi
        ;;
    *)
        d=$MODELS_DIR/$m
        [[ -f $d/model.onnx && -f $d/test_data_set_0/input_0.pb ]] ||
            die "$m: missing $d/model.onnx or its test_data_set_0/input_0.pb; make them with" \
                "'/usr/bin/python3 $ROOT/tests/models/make_models.py $MODELS_DIR'" \
                "(or set MODELS_DIR)"
        MODEL_FILE[$m]=$d/model.onnx
        MODEL_INPUTS[$m]=$(sorted_glob "$d/test_data_set_0/input_*.pb" | tr '\n' ' ')
        MODEL_EXPECT[$m]=$(sorted_glob "$d/test_data_set_0/output_*.pb" | tr '\n' ' ')
        ;;
    esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/onnxcc-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---- the machine ----

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
cpu_flags=
for fl in fma avx2 avx512f avx512_vnni avx512_bf16 avx_vnni amx_tile amx_bf16 amx_int8; do
    grep -m1 '^flags' /proc/cpuinfo | grep -qw "$fl" && cpu_flags+="$fl "
done
cpu_line="$cpu_model, $(nproc) cores, flags: ${cpu_flags:-none of avx2/avx512/amx}"
cpu_line=${cpu_line% }
# every vector extension onnxcc can use, as its own CPU probe sees them
cpu_probe=$("$ONNXCC" --version | sed -n 's/^cpu: //p')
cc_line=$("${CC:-cc}" --version 2> /dev/null | head -1 || echo "${CC:-cc}: unknown")
ort_ver=$("$NODE" -p "require('$BENCH_DIR/node_modules/onnxruntime-node/package.json').version")
node_ver=$("$NODE" --version)
rev=$(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo "no commit")
[[ -n $(git -C "$ROOT" status --porcelain 2> /dev/null | head -1) ]] && rev+=" (modified tree)"
date_line=$(date -u '+%Y-%m-%d %H:%M UTC')
load=$(cut -d' ' -f1-3 /proc/loadavg)

echo "date:      $date_line"
echo "cpu:       $cpu_line"
echo "probe:     $cpu_probe"
echo "target:    --target $TARGET"
echo "compiler:  $cc_line"
echo "ort:       onnxruntime-node $ort_ver (node $node_ver)"
echo "onnxcc:    $ONNXCC at $rev"
echo "load avg:  $load (1/5/15 min; above ~0.5 the 2-core numbers are noisy)"
echo "runs:      $N timed runs per measurement, $ROUNDS interleaved rounds"
echo

# ---- measuring ----

# Prints the median of a latency line in ms. The line's exact wording belongs to
# runtime/rt_main.c and ort_bench.js; only "median <number> [unit]" is relied on.
median_ms() {
    grep -i -m1 'median' "$1" |
        grep -oiE 'median[^0-9]*[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?[[:space:]]*(ns|us|µs|ms|s)?' |
        sed -E 's/^[Mm][Ee][Dd][Ii][Aa][Nn][^0-9]*//' |
        awk '{
            v = $1 + 0; u = $2
            if (u == "ns") v /= 1e6; else if (u == "us" || u == "µs") v /= 1e3
            else if (u == "s") v *= 1e3
            printf "%.4f\n", v
        }'
}

# Median of the numbers on stdin (one per line); "-" when there are none.
median_of() {
    sort -g | awk 'NF { v[++n] = $1 } END {
        if (n == 0) print "-"
        else if (n % 2) print v[(n + 1) / 2]
        else printf "%.4f\n", (v[n / 2] + v[n / 2 + 1]) / 2
    }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b
    }'
}

# Runs "$@", saving its output to $log; returns the median in $got or fails.
measure() {
    local log=$1
    shift
    if ! "$@" > "$log" 2>&1; then
        echo "  failed: $*" >&2
        tail -3 "$log" | sed 's/^/    /' >&2
        return 1
    fi
    got=$(median_ms "$log")
    if [[ -z $got ]]; then
        echo "  no 'median' in the output of: $*" >&2
        tail -3 "$log" | sed 's/^/    /' >&2
        return 1
    fi
}

# ONNX Runtime's figures include its per-call cost through Node (feeds wrapped,
# a setImmediate hop, outputs copied out); an Identity model shows that floor,
# which matters for models that run in well under a millisecond.
floor=-
ident=/usr/share/libonnx-testdata/data/node/test_identity
if [[ -f $ident/model.onnx ]] &&
    measure "$WORK/floor" "$NODE" "$BENCH_DIR/ort_bench.js" "$ident/model.onnx" \
        "$ident/test_data_set_0/input_0.pb" --bench 1000 --threads 1; then
    floor=$got
fi
echo "ORT floor: $floor ms per call through Node (Identity model, median)"
echo

ROWS=()
status=0
for m in $MODELS; do
    w=$WORK/$m
    mkdir -p "$w"
    model=${MODEL_FILE[$m]}
    read -r -a inputs <<< "${MODEL_INPUTS[$m]}"
    read -r -a expect <<< "${MODEL_EXPECT[$m]}"
    echo "== $m"

    t0=$EPOCHREALTIME
    if ! "$ONNXCC" build "$model" --target "$TARGET" -o "$w/model_bin" > "$w/build.log" 2>&1; then
        echo "  onnxcc build failed:" >&2
        tail -5 "$w/build.log" | sed 's/^/    /' >&2
        ROWS+=("$m|build failed|-|-|-|-|-|-")
        status=1
        continue
    fi
    t1=$EPOCHREALTIME
    compile_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }')
    echo "  compile: $compile_s s"

    # Correctness first: a fast wrong answer is not a result. ONNX Runtime's
    # output is the reference for onnxcc's, and the .pb expected outputs (when
    # the model comes with them) check that both read the same inputs.
    check=ok
    exp_args=()
    for e in "${expect[@]}"; do exp_args+=(--expect "$e"); done
    if ! "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "${inputs[@]}" "${exp_args[@]}" \
        --bench 1 --quiet > "$w/check_ort.log" 2>&1; then
        check="ORT != expected"
        sed 's/^/    /' "$w/check_ort.log" >&2
    fi
    if ! "$w/model_bin" "${inputs[@]}" --out "$w/out" > "$w/run.log" 2>&1; then
        check="run failed"
        tail -3 "$w/run.log" | sed 's/^/    /' >&2
    elif [[ $check == ok ]]; then
        exp_args=()
        while read -r f; do
            exp_args+=(--expect "$f")
        done < <(sorted_glob "$w/out/output_*.pb")
        if [[ ${#exp_args[@]} -eq 0 ]]; then
            check="no output"
        elif ! "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "${inputs[@]}" "${exp_args[@]}" \
            --bench 1 --quiet > "$w/check_cc.log" 2>&1; then
            check=MISMATCH
            sed 's/^/    /' "$w/check_cc.log" >&2
        fi
    fi
    echo "  output check vs ONNX Runtime: $check"
    [[ $check == ok ]] || status=1

    # Interleaving spreads the shared machine's load bursts over all three
    # contestants instead of letting one of them absorb a burst whole.
    cc_ms=() o1_ms=() od_ms=()
    for ((r = 1; r <= ROUNDS; r++)); do
        a='?' b='?' c='?'
        measure "$w/cc.$r" "$w/model_bin" "${inputs[@]}" --bench "$N" && a=$got
        measure "$w/o1.$r" "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "${inputs[@]}" \
            --bench "$N" --threads 1 && b=$got
        measure "$w/od.$r" "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "${inputs[@]}" \
            --bench "$N" --threads 0 && c=$got
        echo "  round $r: onnxcc $a ms, ORT-1t $b ms, ORT-default $c ms"
        [[ $a == '?' ]] || cc_ms+=("$a")
        [[ $b == '?' ]] || o1_ms+=("$b")
        [[ $c == '?' ]] || od_ms+=("$c")
    done
    cc=$(printf '%s\n' "${cc_ms[@]}" | median_of)
    o1=$(printf '%s\n' "${o1_ms[@]}" | median_of)
    od=$(printf '%s\n' "${od_ms[@]}" | median_of)
    [[ $cc != - && $o1 != - && $od != - ]] || status=1
    ROWS+=("$m|$cc|$o1|$od|$(ratio "$o1" "$cc")|$(ratio "$od" "$cc")|$compile_s|$check")
done

# ---- the table ----

HDR="model|onnxcc ms|ORT-1t ms|ORT-default ms|ORT-1t/onnxcc|ORT-def/onnxcc|compile s|check"
echo
for row in "$HDR" "${ROWS[@]}"; do
    IFS='|' read -r -a c <<< "$row"
    printf '%-13s %10s %10s %14s %14s %15s %10s  %s\n' "${c[@]}"
done
echo
echo "ratio = ORT median / onnxcc median: above 1 means onnxcc is faster"

{
    echo "# onnxcc vs ONNX Runtime"
    echo
    echo "Made by \`bench/run.sh $N\`; see bench/README.md for how to read it."
    echo
    echo "- date: $date_line"
    echo "- CPU: $cpu_line"
    echo "- onnxcc's CPU probe: $cpu_probe"
    echo "- binaries built with: --target $TARGET"
    echo "- C compiler: $cc_line"
    echo "- ONNX Runtime: onnxruntime-node $ort_ver (node $node_ver), CPU execution provider"
    echo "- onnxcc: $rev"
    echo "- load average at start: $load"
    echo "- ONNX Runtime's per-call floor through Node (Identity model, median): $floor ms"
    echo "- each figure: median over $ROUNDS interleaved rounds of the median of $N timed runs"
    echo
    echo "| ${HDR//|/ | } |"
    echo "|---|--:|--:|--:|--:|--:|--:|---|"
    for row in "${ROWS[@]}"; do echo "| ${row//|/ | } |"; done
    echo
    echo "Ratio = ORT median / onnxcc median: above 1 means onnxcc is faster. ORT-1t uses one"
    echo "intra-op thread (like-for-like with onnxcc's single-threaded binary); ORT-default uses"
    echo "ONNX Runtime's default thread count. Compile time is the wall clock of \`onnxcc build\`."
} > "$RESULTS"
echo "wrote $RESULTS"
exit $status
