#!/usr/bin/env bash
# quant_e2e.sh: quantized builds of the two examples keep their task quality (a bounded slice of tools/quant-report.sh).
#
# Usage: tests/quant_e2e.sh ONNXCC SRC WORK
# Checks, each printing its figures:
#   digits, all 450 held-out images: --quantize int8 (minmax) agrees with fp32's top-1 on
#     >= 99% of them; --quantize-weights int4 (rtn) top-1 within 1 point of fp32's
#   charlm, 1024 held-out windows: int4 rtn perplexity within 5% of fp32's; 2-bit
#     decoupleq perplexity below 2-bit rtn's
# Calibration uses training data only (examples/digits/calib.pb, examples/charlm/calib.txt).
set -uo pipefail
onnxcc=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
. "$(dirname "$0")/tally.sh"
data="${PYTHON:-/usr/bin/python3} $src/tools/quant_data.py"  # Debian's, with numpy and onnx
dig=$src/examples/digits
lm=$src/examples/charlm
batch=256

$data split "$dig/heldout.pb" "$work/digits_test" &&
    $data split "$dig/calib.pb" "$work/digits_calib" &&
    $data windows "$lm/heldout.txt" "$work/charlm_test" 1024 $batch "$work/targets.txt" &&
    $data windows "$lm/calib.txt" "$work/charlm_calib" 512 $batch ||
    { bad "could not prepare the inputs"; finish quant_e2e; exit; }

# digits NAME OPTIONS...: builds, runs every held-out image; 0 and $work/out_NAME, or 1
digits() {
    local name=$1
    shift
    if ! "$onnxcc" build "$dig/digits.onnx" "$dig/samples/digit_3_0.pb" -o "$work/digits_$name" \
        "$@" > "$work/log_digits_$name" 2>&1; then
        bad "digits $name: onnxcc build failed: $(grep -m1 '^onnxcc' "$work/log_digits_$name")"
        return 1
    fi
    for f in "$work"/digits_test/s*.pb; do
        if ! "$work/digits_$name" "$f" --out "$work/out_$name/$(basename "$f" .pb)" \
            > /dev/null 2> "$work/err"; then
            bad "digits $name: the binary failed on $f: $(head -n1 "$work/err")"
            return 1
        fi
    done
}

# charlm NAME OPTIONS...: sets ppl to the perplexity over the held-out windows, or fails
charlm() {
    local name=$1
    shift
    if ! "$onnxcc" build "$lm/charlm.onnx" "$work/charlm_test/w0000.pb" --dim batch=$batch \
        -o "$work/charlm_$name" "$@" > "$work/log_charlm_$name" 2>&1; then
        bad "charlm $name: onnxcc build failed: $(grep -m1 '^onnxcc' "$work/log_charlm_$name")"
        return 1
    fi
    for f in "$work"/charlm_test/w*.pb; do
        if ! "$work/charlm_$name" "$f" --out "$work/out_$name/$(basename "$f" .pb)" \
            > /dev/null 2> "$work/err"; then
            bad "charlm $name: the binary failed on $f: $(head -n1 "$work/err")"
            return 1
        fi
    done
    ppl=$($data ppl "$work/targets.txt" "$work/out_$name"/w*) && [[ $ppl =~ ^[0-9]+\.[0-9]+$ ]] ||
        { bad "charlm $name: no finite perplexity ('$ppl')"; return 1; }
}

# counts A N: A and N were read (a scoring failure must not pass as 0 of 0)
counts() { [[ $1 =~ ^[0-9]+$ && $2 =~ ^[1-9][0-9]*$ ]]; }

# ---- digits ----
if digits fp32 && read -r c32 n < <($data top1 "$dig/heldout_labels.txt" "$work/out_fp32"/s*) &&
    counts "$c32" "$n"; then
    echo "digits fp32: top-1 $c32/$n"
    if digits int8 --quantize int8 --calibrate "$work/digits_calib"; then
        read -r a m < <($data agree "$work/out_fp32" "$work/out_int8" "$n")
        read -r c8 _ < <($data top1 "$dig/heldout_labels.txt" "$work/out_int8"/s*)
        echo "digits int8 PTQ: agrees with fp32 on $a/$m, top-1 $c8/$n (need >= 99% agreement)"
        counts "$a" "$m" && [ "$m" = "$n" ] && [ $((a * 100)) -ge $((99 * n)) ] && ok ||
            bad "digits int8 PTQ agrees with fp32 on only '$a' of '$m' images"
    fi
    if digits int4 --quantize-weights int4 --method rtn; then
        read -r c4 m < <($data top1 "$dig/heldout_labels.txt" "$work/out_int4"/s*)
        echo "digits int4 rtn: top-1 $c4/$m against fp32 $c32/$n (need within 1 point)"
        # within 1 percentage point: 100*(c32-c4) <= n
        counts "$c4" "$m" && [ "$m" = "$n" ] && [ $((100 * (c32 - c4))) -le "$n" ] && ok ||
            bad "digits int4 rtn top-1 '$c4' of '$m', fp32 $c32/$n"
    fi
else
    bad "digits fp32 failed: no baseline"
fi

# ---- charlm ----
if charlm fp32; then
    p32=$ppl
    echo "charlm fp32: perplexity $p32 on 1024 held-out windows"
    if charlm int4 --quantize-weights int4 --method rtn; then
        p4=$ppl
        echo "charlm int4 rtn: perplexity $p4 against fp32 $p32 (need <= 5% above)"
        awk -v a="$p4" -v b="$p32" 'BEGIN{exit !(a <= 1.05 * b)}' && ok ||
            bad "charlm int4 rtn perplexity $p4 is more than 5% above fp32's $p32"
    fi
    if charlm int2rtn --quantize-weights int2 --method rtn && r2=$ppl &&
        charlm int2dq --quantize-weights int2 --method decoupleq \
            --calibrate "$work/charlm_calib" && d2=$ppl; then
        echo "charlm int2: decoupleq perplexity $d2, rtn $r2 (need decoupleq < rtn)"
        awk -v a="$d2" -v b="$r2" 'BEGIN{exit !(a < b)}' && ok ||
            bad "charlm int2 decoupleq perplexity $d2 is not below rtn's $r2"
    fi
else
    bad "charlm fp32 failed: no baseline"
fi
finish quant_e2e
