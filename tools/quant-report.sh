#!/usr/bin/env bash
# quant-report.sh: builds the two quantization examples in every format and method, measures them and writes docs/quantization.md.
#
# Usage: tools/quant-report.sh [--onnxcc PATH] [--out FILE] [--work DIR] [--windows N]
#                              [--bench N] [--only REGEX]
#   --onnxcc   the compiler (default build/onnxcc)
#   --out      the Markdown written (default docs/quantization.md)
#   --work     scratch folder (default build/quant-report; emptied first)
#   --windows  charlm held-out windows scored (default 2048, a multiple of 256)
#   --bench    timed runs per binary for the median latency (default 200; fewer for a
#              slow charlm binary: about 2 s of runs, at least 5)
#   --only     measure only the configurations whose name matches (for trying things out;
#              the Markdown then lists only those)
#
# Then (chartf_rows) the transformer of examples/chartf: fp32 and static int8 with and
# without RepQuant's parts (--repquant ln, log2), configurations named tf-*.
#
# For each configuration (fp32; static int8 with three calibration methods; weight-only
# int8..int2 with three methods; ternary, ternary5, sherry; MX and NVFP4; for digits also
# int8..int2 with rtn and gptq on the Gemm alone, its Conv layers kept float) it runs
# `onnxcc build MODEL SAMPLE -o BIN --weights file OPTIONS --calibrate DIR` (calibration
# samples are training data), runs BIN on the held-out data and scores the outputs with
# tools/quant_data.py (python only scores and prepares inputs; it never runs a model).
# A configuration the compiler refuses is recorded as failed with the compiler's message
# and the script goes on: no figure is ever made up. Then tools/quant_report.py writes
# the Markdown from the results table (WORK/results.tsv).
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
onnxcc=$src/build/onnxcc
out=$src/docs/quantization.md
work=$src/build/quant-report
nwin=2048
nbench=200
only=.
py=/usr/bin/python3
while [ $# -gt 0 ]; do
    case "$1" in
    --onnxcc) onnxcc=$(realpath "$2"); shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --work) work=$(realpath -m "$2"); shift 2 ;;
    --windows) nwin=$2; shift 2 ;;
    --bench) nbench=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "quant-report: unknown option '$1' (see the head of $0)" >&2; exit 2 ;;
    esac
done
[ -x "$onnxcc" ] || { echo "quant-report: no compiler at $onnxcc (build onnxcc first)" >&2; exit 2; }
data="$py $src/tools/quant_data.py"
batch=256  # charlm windows per binary run
t_start=$(date +%s)

# the scratch folder is emptied: only when it is one this script made (or empty)
if [ -d "$work" ] && [ ! -f "$work/results.tsv" ] && [ -n "$(ls -A "$work")" ]; then
    echo "quant-report: $work is not empty and not a previous quant-report folder" >&2
    exit 2
fi
rm -rf "$work" && mkdir -p "$work" || exit 2
dig=$src/examples/digits
lm=$src/examples/charlm
tf=$src/examples/chartf

# ---- inputs: digits' held-out images one file each; charlm's windows in batches ----
$data split "$dig/heldout.pb" "$work/digits_test" || exit 2
$data split "$dig/calib.pb" "$work/digits_calib" || exit 2
n_dig=$(ls "$work/digits_test" | wc -l)
$data windows "$lm/heldout.txt" "$work/charlm_test" "$nwin" "$batch" "$work/charlm_targets.txt" ||
    exit 2
# 1024 training windows (4 batches) from calib.txt for calibration; 256 single windows
# for the batch-1 build that measures latency
$data windows "$lm/calib.txt" "$work/charlm_calib" 1024 "$batch" || exit 2
$data windows "$lm/calib.txt" "$work/charlm_calib1" 256 1 || exit 2
$data windows "$lm/heldout.txt" "$work/charlm_one" 1 1 || exit 2
# chartf reads the same windows of the same text (its heldout.txt and calib.txt are charlm's)
$data windows "$tf/heldout.txt" "$work/chartf_test" "$nwin" "$batch" "$work/chartf_targets.txt" ||
    exit 2
$data windows "$tf/calib.txt" "$work/chartf_calib" 1024 "$batch" || exit 2
$data windows "$tf/calib.txt" "$work/chartf_calib1" 256 1 || exit 2
n_params_dig=$($data params "$dig/digits.onnx")
n_params_lm=$($data params "$lm/charlm.onnx")

# name | options ("" for fp32); every quantized build gets --calibrate
configs="fp32|
int8-minmax|--quantize int8 --calib-method minmax
int8-percentile|--quantize int8 --calib-method percentile
int8-entropy|--quantize int8 --calib-method entropy"
for b in int8 int4 int3 int2; do
    for m in rtn gptq decoupleq; do
        configs="$configs
w-$b-$m|--quantize-weights $b --method $m"
    done
done
for f in ternary ternary5 sherry mxint8 mxfp8 mxfp4 nvfp4; do
    configs="$configs
w-$f|--quantize-weights $f"
done
# digits only (charlm has no Conv): the weight-only formats with digits' Conv layers kept
# in float (ConvWQ's absence), beside the rows above where its second Conv is quantized too
for b in int8 int4 int3 int2; do
    for m in rtn gptq; do
        configs="$configs
w-$b-$m-gemm|--quantize-weights $b --method $m --keep-float /features/*|digits"
    done
done

# HGF's low-rank correction of ternary at ranks 8, 16, 32, and the Hadamard rotation
# before the 4-bit formats (block = the group, and 128): tools/quant_report.py gives
# them their own section (hgf_section)
for r in 8 16 32; do
    configs="$configs
w-ternary-lr$r|--quantize-weights ternary --lowrank $r"
done
for f in int4 mxfp4 nvfp4; do
    configs="$configs
w-$f-rot|--quantize-weights $f --rotate hadamard
w-$f-rot128|--quantize-weights $f --rotate hadamard --rotate-block 128"
done

# chartf (examples/chartf), by chartf_rows below: static int8 with and without RepQuant
tf_configs="tf-fp32|
tf-int8-minmax|--quantize int8 --calib-method minmax
tf-int8-percentile|--quantize int8 --calib-method percentile
tf-int8-minmax-ln|--quantize int8 --calib-method minmax --repquant ln
tf-int8-percentile-ln|--quantize int8 --calib-method percentile --repquant ln
tf-int8-minmax-log2|--quantize int8 --calib-method minmax --repquant log2
tf-int8-minmax-ln-log2|--quantize int8 --calib-method minmax --repquant ln,log2
tf-int8-percentile-ln-log2|--quantize int8 --calib-method percentile --repquant ln,log2"

res=$work/results.tsv
printf 'model\tconfig\toptions\tstatus\tmessage\tmetric\tagree\tbin_bytes\tparams\tmedian_ms\tmedian1_ms\n' \
    > "$res"

# build MODEL CONFIG OPTIONS SAMPLE CALIB EXTRA...: 0 and BIN, or 1 and the compiler's message
build() {
    local model=$1 name=$2 opts=$3 sample=$4 calib=$5
    shift 5
    bin=$work/bin/$(basename "$model" .onnx)_$name
    mkdir -p "$work/bin"
    local cal=()
    [ -n "$opts" ] && cal=(--calibrate "$calib")
    # shellcheck disable=SC2086 # opts is a list of words (no globbing: --keep-float's pattern)
    set -f
    if ! "$onnxcc" build "$model" "$sample" -o "$bin" --weights file "$@" $opts "${cal[@]}" \
        > "$work/log_$(basename "$model" .onnx)_$name.txt" 2>&1; then
        set +f
        msg=$(grep -m1 '^onnxcc' "$work/log_$(basename "$model" .onnx)_$name.txt" ||
              tail -n1 "$work/log_$(basename "$model" .onnx)_$name.txt")
        msg=${msg//$'\t'/ }
        msg=${msg//$src\//}
        return 1
    fi
    set +f
    return 0
}

median_ms() { "$@" 2>/dev/null | sed -n 's/^latency: .*median \([0-9.]*\) ms.*/\1/p'; }

# bench_ms BIN INPUT: the median over --bench runs, fewer for a slow binary (about 2 s
# of runs, at least 5, at most --bench) so that one slow kernel cannot stall the report
bench_ms() {
    local m n
    m=$(median_ms "$1" "$2" --bench 3)
    [ -n "$m" ] || return 0
    n=$(awk -v m="$m" -v hi="$nbench" 'BEGIN{n = (m > 0) ? int(2000 / m) : hi;
        print (n < 5) ? 5 : (n > hi) ? hi : n}')
    median_ms "$1" "$2" --bench "$n"
}

# record MODEL CONFIG OPTIONS STATUS MESSAGE METRIC AGREE BIN_BYTES PARAMS MEDIAN [MEDIAN1]
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${@:1:10}" "${11:--}" >> "$res"; }

cpu_line=""
echo "quant-report: $(echo "$configs" | grep -c .) configurations x 2 models and" \
    "$(echo "$tf_configs" | grep -c .) of chartf; work in $work"
while IFS='|' read -r name opts scope; do
    [[ $name =~ $only ]] || continue
    # ---- digits: top-1 on the 450 held-out images, agreement with fp32 ----
    if build "$dig/digits.onnx" "$name" "$opts" "$dig/samples/digit_3_0.pb" "$work/digits_calib"; then
        o=$work/out/digits_$name
        ok=1
        for f in "$work"/digits_test/s*.pb; do
            s=$(basename "$f" .pb)
            "$bin" "$f" --out "$o/$s" > /dev/null 2>"$work/err.txt" || { ok=0; break; }
        done
        if [ $ok = 1 ]; then
            read -r c t < <($data top1 "$dig/heldout_labels.txt" "$o"/s*)
            agree=-
            if [ -d "$work/out/digits_fp32" ]; then
                read -r a n < <($data agree "$work/out/digits_fp32" "$o" "$n_dig")
                agree=$(awk -v a="$a" -v n="$n" 'BEGIN{printf "%.2f", 100*a/n}')
            fi
            top=$(awk -v c="$c" -v t="$t" 'BEGIN{printf "%.2f", 100*c/t}')
            size=$(stat -c %s "$bin.bin" 2>/dev/null || echo 0)
            bench_out=$("$bin" "$dig/samples/digit_3_0.pb" --bench "$nbench" 2>/dev/null)
            [ -z "$cpu_line" ] && cpu_line=$(sed -n 's/^cpu: //p' <<< "$bench_out")
            med=$(sed -n 's/^latency: .*median \([0-9.]*\) ms.*/\1/p' <<< "$bench_out")
            record digits "$name" "$opts" ok "" "$top" "$agree" "$size" "$n_params_dig" "$med"
            echo "digits $name: top-1 $top% agreement $agree% weights $size B median ${med} ms"
        else
            msg=$(head -n1 "$work/err.txt")
            record digits "$name" "$opts" failed "run: ${msg//$'\t'/ }" - - - "$n_params_dig" -
            echo "digits $name: the binary failed: $msg"
        fi
    else
        record digits "$name" "$opts" failed "$msg" - - - "$n_params_dig" -
        echo "digits $name: failed: $msg"
    fi
    [ "$scope" = digits ] && continue
    # ---- charlm: perplexity over the bounded held-out windows ----
    if build "$lm/charlm.onnx" "$name" "$opts" "$work/charlm_test/w0000.pb" "$work/charlm_calib" \
        --dim "batch=$batch"; then
        o=$work/out/charlm_$name
        ok=1
        for f in "$work"/charlm_test/w*.pb; do
            s=$(basename "$f" .pb)
            "$bin" "$f" --out "$o/$s" > /dev/null 2>"$work/err.txt" || { ok=0; break; }
        done
        if [ $ok = 1 ] && p=$($data ppl "$work/charlm_targets.txt" "$o"/w* 2>"$work/err.txt"); then
            size=$(stat -c %s "$bin.bin" 2>/dev/null || echo 0)
            med=$(bench_ms "$bin" "$work/charlm_test/w0000.pb")
            # latency for one window (matrix-vector products): a batch-1 build
            med1=-
            if build "$lm/charlm.onnx" "${name}_b1" "$opts" "$work/charlm_one/w0000.pb" \
                "$work/charlm_calib1" --dim batch=1; then
                med1=$(bench_ms "$bin" "$work/charlm_one/w0000.pb")
            fi
            record charlm "$name" "$opts" ok "" "$p" - "$size" "$n_params_lm" "$med" "${med1:--}"
            echo "charlm $name: perplexity $p weights $size B median ${med} ms per $batch windows," \
                "${med1} ms per window at batch 1"
        else
            msg=$(head -n1 "$work/err.txt")
            record charlm "$name" "$opts" failed "run: ${msg//$'\t'/ }" - - - "$n_params_lm" -
            echo "charlm $name: failed at run time: $msg"
        fi
    else
        record charlm "$name" "$opts" failed "$msg" - - - "$n_params_lm" -
        echo "charlm $name: failed: $msg"
    fi
done <<< "$configs"

# ---- chartf: static int8 of a transformer, with and without RepQuant's parts ----
chartf_rows() {
    local name opts o f s ok p size med med1
    local n_params_tf
    n_params_tf=$($data params "$tf/chartf.onnx")
    while IFS='|' read -r name opts; do
        [[ $name =~ $only ]] || continue
        if ! build "$tf/chartf.onnx" "$name" "$opts" "$work/chartf_test/w0000.pb" \
            "$work/chartf_calib" --dim "batch=$batch"; then
            record chartf "$name" "$opts" failed "$msg" - - - "$n_params_tf" -
            echo "chartf $name: failed: $msg"
            continue
        fi
        o=$work/out/chartf_$name
        ok=1
        for f in "$work"/chartf_test/w*.pb; do
            s=$(basename "$f" .pb)
            "$bin" "$f" --out "$o/$s" > /dev/null 2>"$work/err.txt" || { ok=0; break; }
        done
        if [ $ok = 1 ] && p=$($data ppl "$work/chartf_targets.txt" "$o"/w* 2>"$work/err.txt"); then
            size=$(stat -c %s "$bin.bin" 2>/dev/null || echo 0)
            med=$(bench_ms "$bin" "$work/chartf_test/w0000.pb")
            med1=-
            if build "$tf/chartf.onnx" "${name}_b1" "$opts" "$work/charlm_one/w0000.pb" \
                "$work/chartf_calib1" --dim batch=1; then
                med1=$(bench_ms "$bin" "$work/charlm_one/w0000.pb")
            fi
            record chartf "$name" "$opts" ok "" "$p" - "$size" "$n_params_tf" "$med" "${med1:--}"
            echo "chartf $name: perplexity $p median ${med} ms per $batch windows, ${med1} ms" \
                "per window at batch 1"
        else
            msg=$(head -n1 "$work/err.txt")
            record chartf "$name" "$opts" failed "run: ${msg//$'\t'/ }" - - - "$n_params_tf" -
            echo "chartf $name: failed at run time: $msg"
        fi
    done <<< "$tf_configs"
}
chartf_rows

elapsed=$(( $(date +%s) - t_start ))
$py "$src/tools/quant_report.py" "$res" "$out" \
    --cpu "${cpu_line:-$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')}" \
    --date "$(date -u '+%Y-%m-%d %H:%M UTC')" --windows "$nwin" --batch "$batch" \
    --bench "$nbench" --digits-images "$n_dig" --seconds "$elapsed" \
    --load "$(cut -d' ' -f1-3 /proc/loadavg)" --onnxcc-version "$("$onnxcc" --version 2>&1 | head -n1)" \
    --commit "$(git -C "$src" describe --always 2>/dev/null || echo unknown)" ||
    exit 1
echo "quant-report: wrote $out in ${elapsed}s"
