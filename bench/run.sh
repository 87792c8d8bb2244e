#!/usr/bin/env bash
# run.sh: times onnxcc-built binaries (1 and 2 threads) against ONNX Runtime (1 and 2 intra-op threads); writes RESULTS.md.
#
# usage: bench/run.sh [N]      N timed runs per measurement (default 20)
# environment:
#   ONNXCC      the compiler (default: build/onnxcc)
#   MODELS_DIR  output folder of bench/make_models.py (default: build/bench-models)
#   MODELS      which models, space-separated (default: the whole set, see bench/README.md)
#   ROUNDS      interleaved rounds per model (default 3)
#   THREADS     the multi-threaded count for both contestants (default 2)
#   RESULTS     markdown file to write (default: bench/RESULTS.md)
#   TARGET      onnxcc's --target for the binaries (default: native)
set -euo pipefail

N=${1:-20}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
ONNXCC=${ONNXCC:-$ROOT/build/onnxcc}
MODELS_DIR=${MODELS_DIR:-$ROOT/build/bench-models}
MODELS=${MODELS:-digits transformer bert squeezenet1_1 mobilenet_v3_small shufflenet_v2_x1_0 \
mobilenet_v2 efficientnet_b0 resnet18 densenet121 convnext_tiny swin_t vit_b_16}
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
[[ $THREADS =~ ^[1-9][0-9]*$ ]] || die "THREADS must be a positive integer, got '$THREADS'"

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
                "'/usr/bin/python3 $ROOT/bench/make_models.py $MODELS_DIR'" \
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
echo "runs:      $N timed runs per measurement, $ROUNDS interleaved rounds, 1 and $THREADS threads"
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

# Prints a/b with two decimals, "-" if either is missing.
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

# Peak resident memory (MB) of "$@" into $rss, "-" without GNU time; the
# command's own output goes to $log.
RSS_TIME=
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M true > /dev/null 2>&1; then
    RSS_TIME=/usr/bin/time
fi
run_rss() {
    local log=$1
    shift
    rss=-
    if [[ -z $RSS_TIME ]]; then
        "$@" > "$log" 2>&1
        return
    fi
    local rc=0
    "$RSS_TIME" -f 'rss_kb %M' -o "$log.rss" "$@" > "$log" 2>&1 || rc=$?
    rss=$(awk '/^rss_kb/ { printf "%.0f\n", $2 / 1024 }' "$log.rss")
    [[ -n $rss ]] || rss=-
    return $rc
}

# What one core can do, measured by the runtime itself (runtime/rt_peak.c,
# the figures --profile prints): fp32 FMA GFLOP/s and read GB/s. A profiled
# build of the digits model, run once, writes them into its JSON.
peak_gflops=- peak_gbs=-
if "$ONNXCC" build "$ROOT/examples/digits/digits.onnx" --target "$TARGET" --profile \
    -o "$WORK/peak_bin" > "$WORK/peak.log" 2>&1 &&
    "$WORK/peak_bin" "$(sorted_glob "$ROOT/examples/digits/samples/*.pb" | head -1)" \
        --profile-json "$WORK/peak.json" >> "$WORK/peak.log" 2>&1; then
    peak_gflops=$(sed -n 's/.*"peak_gflops": *\([0-9.]*\).*/\1/p' "$WORK/peak.json")
    peak_gbs=$(sed -n 's/.*"peak_read_gbs": *\([0-9.]*\).*/\1/p' "$WORK/peak.json")
fi
echo "peak:      $peak_gflops GFLOP/s fp32 FMA, $peak_gbs GB/s read (one core, measured)"
echo "ORT floor: $floor ms per call through Node (Identity model, median)"
echo

ROWS=()
LOG_R1=() LOG_R2=()
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
        ROWS+=("$m|-|build failed: $(tail -1 "$w/build.log" | tr '|' '/')|-|-|-|-|-|-|-|-|-|-|-|-|-")
        status=1
        continue
    fi
    t1=$EPOCHREALTIME
    compile_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }')
    size_b=$(stat -c %s "$w/model_bin")
    [[ -f $w/model_bin.bin ]] && size_b=$((size_b + $(stat -c %s "$w/model_bin.bin")))
    size_mb=$(awk -v b="$size_b" 'BEGIN { printf "%.1f\n", b / 1048576 }')
    # the compiler's FLOP count of the graph it compiled (ir/cost.c)
    gflop=$("$ONNXCC" cost "$model" 2> /dev/null | sed -n 's/^total: .*, \([0-9.]*\) GFLOP,.*/\1/p')
    [[ -z $gflop ]] || gflop=$(awk -v g="$gflop" 'BEGIN { printf "%.4g\n", g }')
    [[ -n $gflop ]] || gflop=-
    echo "  compile: $compile_s s, binary $size_mb MB, $gflop GFLOP per run"

    # Correctness first: a fast wrong answer is not a result. ONNX Runtime's
    # output is the reference for onnxcc's at 1 and at $THREADS threads, and
    # the .pb expected outputs (when the model comes with them) check that
    # both read the same inputs.
    check=ok rss_cc=- rss_ort=-
    exp_args=()
    for e in "${expect[@]}"; do exp_args+=(--expect "$e"); done
    if ! run_rss "$w/check_ort.log" "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "${inputs[@]}" \
        "${exp_args[@]}" --bench 1 --quiet --threads 1; then
        check="ORT != expected"
        sed 's/^/    /' "$w/check_ort.log" >&2
    fi
    rss_ort=$rss
    for t in 1 "$THREADS"; do
        if ! run_rss "$w/run$t.log" "$w/model_bin" "${inputs[@]}" --threads "$t" \
            --out "$w/out$t"; then
            check="run failed ($t threads)"
            tail -3 "$w/run$t.log" | sed 's/^/    /' >&2
            break
        fi
        [[ $t == 1 ]] && rss_cc=$rss
        [[ $check == ok ]] || continue
        exp_args=()
        while read -r f; do
            exp_args+=(--expect "$f")
        done < <(sorted_glob "$w/out$t/output_*.pb")
        if [[ ${#exp_args[@]} -eq 0 ]]; then
            check="no output"
        elif ! "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "${inputs[@]}" "${exp_args[@]}" \
            --bench 1 --quiet --threads 1 > "$w/check_cc$t.log" 2>&1; then
            check="MISMATCH ($t threads)"
            sed 's/^/    /' "$w/check_cc$t.log" >&2
        fi
    done
    same=
    if [[ $check == ok ]]; then
        diff -r "$w/out1" "$w/out$THREADS" > /dev/null && same=", ${THREADS}t bit-identical to 1t"
    fi
    echo "  output check vs ONNX Runtime: $check$same; peak RSS onnxcc $rss_cc MB, ORT $rss_ort MB"
    [[ $check == ok ]] || status=1

    # Interleaving spreads the shared machine's load bursts over all four
    # contestants instead of letting one of them absorb a burst whole.
    c1_ms=() c2_ms=() o1_ms=() o2_ms=()
    for ((r = 1; r <= ROUNDS; r++)); do
        a='?' b='?' c='?' d='?'
        measure "$w/c1.$r" "$w/model_bin" "${inputs[@]}" --bench "$N" --threads 1 && a=$got
        measure "$w/o1.$r" "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "${inputs[@]}" \
            --bench "$N" --threads 1 && b=$got
        measure "$w/c2.$r" "$w/model_bin" "${inputs[@]}" --bench "$N" --threads "$THREADS" && c=$got
        measure "$w/o2.$r" "$NODE" "$BENCH_DIR/ort_bench.js" "$model" "${inputs[@]}" \
            --bench "$N" --threads "$THREADS" && d=$got
        echo "  round $r: onnxcc-1t $a ms, ORT-1t $b ms, onnxcc-${THREADS}t $c ms, ORT-${THREADS}t $d ms"
        [[ $a == '?' ]] || c1_ms+=("$a")
        [[ $b == '?' ]] || o1_ms+=("$b")
        [[ $c == '?' ]] || c2_ms+=("$c")
        [[ $d == '?' ]] || o2_ms+=("$d")
    done
    c1=$(printf '%s\n' "${c1_ms[@]}" | median_of)
    o1=$(printf '%s\n' "${o1_ms[@]}" | median_of)
    c2=$(printf '%s\n' "${c2_ms[@]}" | median_of)
    o2=$(printf '%s\n' "${o2_ms[@]}" | median_of)
    [[ $c1 != - && $o1 != - && $c2 != - && $o2 != - ]] || status=1
    r1=$(ratio "$o1" "$c1") r2=$(ratio "$o2" "$c2")
    [[ $r1 == - ]] || LOG_R1+=("$r1")
    [[ $r2 == - ]] || LOG_R2+=("$r2")
    # GFLOP/s of the 1-thread binary and its share of one core's measured peak
    gfs=- pct=-
    if [[ $gflop != - && $c1 != - ]]; then
        gfs=$(awk -v f="$gflop" -v ms="$c1" 'BEGIN { printf "%.1f\n", f / (ms / 1e3) }')
        [[ $peak_gflops == - ]] || pct=$(awk -v g="$gfs" -v p="$peak_gflops" \
            'BEGIN { printf "%.0f\n", 100 * g / p }')
    fi
    ROWS+=("$m|$gflop|$c1|$o1|$r1|$c2|$o2|$r2|$gfs|$pct|$compile_s|$size_mb|$rss_cc|$rss_ort|$check")
done

# Geometric mean of a list of ratios; "-" for none.
geomean() {
    printf '%s\n' "$@" | awk 'NF && $1 > 0 { s += log($1); n++ }
        END { if (n) printf "%.2f\n", exp(s / n); else print "-" }'
}
gm1=$(geomean "${LOG_R1[@]}")
gm2=$(geomean "${LOG_R2[@]}")

# ---- the table ----

T=$THREADS
HDR="model|GFLOP|cc-1t ms|ORT-1t ms|ORT/cc 1t|cc-${T}t ms|ORT-${T}t ms|ORT/cc ${T}t"
HDR+="|GFLOP/s 1t|%peak 1t|compile s|binary MB|RSS cc MB|RSS ORT MB|check"
echo
for row in "$HDR" "${ROWS[@]}"; do
    IFS='|' read -r -a c <<< "$row"
    printf '%-18s %7s %9s %9s %9s %9s %9s %9s %10s %8s %9s %9s %9s %10s  %s\n' "${c[@]}"
done
echo
echo "geometric mean of ORT/onnxcc: $gm1 at 1 thread, $gm2 at $T threads" \
    "(above 1: onnxcc is faster)"

# Sections other benchmarks wrote below the table ("## ..." onward) stay.
others=
if [[ -f $RESULTS ]]; then others=$(sed -n '/^## /,$p' "$RESULTS"); fi

{
    echo "# onnxcc vs ONNX Runtime"
    echo
    echo "Made by \`bench/run.sh $N\`; see bench/README.md for how to read it."
    echo
    echo "- date: $date_line"
    echo "- CPU: $cpu_line"
    echo "- onnxcc's CPU probe: $cpu_probe"
    echo "- one core's measured peak (runtime/rt_peak.c): $peak_gflops GFLOP/s fp32 FMA," \
        "$peak_gbs GB/s read"
    echo "- binaries built with: --target $TARGET"
    echo "- C compiler: $cc_line"
    echo "- ONNX Runtime: onnxruntime-node $ort_ver (node $node_ver), CPU execution provider"
    echo "- onnxcc: $rev"
    echo "- load average at start: $load"
    echo "- ONNX Runtime's per-call floor through Node (Identity model, median): $floor ms"
    echo "- each figure: median over $ROUNDS interleaved rounds of the median of $N timed runs"
    echo
    echo "| ${HDR//|/ | } |"
    echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
    for row in "${ROWS[@]}"; do echo "| ${row//|/ | } |"; done
    echo
    echo "Geometric mean of ORT/onnxcc: **$gm1** at 1 thread, **$gm2** at $T threads."
    echo
    echo "ORT/cc = ONNX Runtime's median / onnxcc's median: above 1 means onnxcc is faster."
    echo "1t: onnxcc's binary with --threads 1 against ONNX Runtime with one intra-op thread;"
    echo "${T}t: --threads $T against $T intra-op threads. GFLOP is the compiler's count of one run"
    echo "(\`onnxcc cost\`, a multiply-add is 2); GFLOP/s and %peak are the 1-thread binary's"
    echo "against one core's measured FMA peak. Compile time is the wall clock of \`onnxcc build\`;"
    echo "binary MB includes the weights. RSS is the peak resident memory of one run (GNU time):"
    echo "ONNX Runtime's includes Node itself (about 40 MB)."
    if [[ -n $others ]]; then
        echo
        printf '%s\n' "$others"
    fi
} > "$RESULTS"
echo "wrote $RESULTS"
exit $status
