#!/usr/bin/env bash
# wq_act.sh: --wq-act int8 (int8 activations for weight-only MatMul) end to end: charlm's perplexity, and MatMulNBits accuracy_level 4.
#
# Usage: tests/wq_act.sh ONNXCC SRC WORK
# Checks, each printing its figures:
#   charlm int4 rtn at batch 8 (the int8-activation kernel's rows), 256
#     held-out windows: --wq-act int8 perplexity within 1% of --wq-act
#     float's, and its logits not the float build's (the path ran);
#   a MatMulNBits (4 bits, block 64, one row) marked accuracy_level 4: its
#     outputs within 2% of max |y| of the float reference and not the
#     accuracy_level 0 build's; --wq-act float overrides it: byte for byte
#     the accuracy_level 0 build.
set -uo pipefail
onnxcc=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
. "$(dirname "$0")/tally.sh"
py=${PYTHON:-/usr/bin/python3} # Debian's, with numpy and onnx
data="$py $src/tools/quant_data.py"
lm=$src/examples/charlm

# ---- charlm at batch 8 ----
$data windows "$lm/heldout.txt" "$work/t" 256 8 "$work/targets.txt" ||
    { bad "could not prepare the inputs"; finish wq_act; exit; }
declare -A ppl
for act in float int8; do
    if ! "$onnxcc" build "$lm/charlm.onnx" "$work/t/w0000.pb" --dim batch=8 -o "$work/lm_$act" \
        --quantize-weights int4 --wq-act $act > "$work/log_$act" 2>&1; then
        bad "charlm --wq-act $act: onnxcc build failed: $(grep -m1 '^onnxcc' "$work/log_$act")"
        continue
    fi
    for f in "$work"/t/w*.pb; do
        "$work/lm_$act" "$f" --out "$work/o_$act/$(basename "$f" .pb)" > /dev/null ||
            { bad "charlm --wq-act $act: the binary failed on $f"; continue 2; }
    done
    ppl[$act]=$($data ppl "$work/targets.txt" "$work/o_$act"/w*)
done
if [[ ${ppl[float]:-} =~ ^[0-9.]+$ && ${ppl[int8]:-} =~ ^[0-9.]+$ ]]; then
    echo "charlm int4 rtn, batch 8: perplexity float activations ${ppl[float]}, int8 ${ppl[int8]}"
    awk -v f="${ppl[float]}" -v i="${ppl[int8]}" \
        'BEGIN { exit !(i <= f * 1.01 && i >= f * 0.99) }' &&
        ok || bad "charlm --wq-act int8 perplexity ${ppl[int8]} not within 1% of ${ppl[float]}"
    cmp -s "$work/o_float/w0000/output_0.pb" "$work/o_int8/w0000/output_0.pb" &&
        bad "charlm --wq-act int8 gave the float build's logits: the path did not run" || ok
else
    bad "charlm: no perplexity (float '${ppl[float]:-}', int8 '${ppl[int8]:-}')"
fi

# ---- MatMulNBits accuracy_level 4 ----
case_dir=$src/tests/data/matmul_nbits/nbits4_block64_gemv
in=$case_dir/test_data_set_0/input_0.pb
if ! "$py" - "$case_dir/model.onnx" "$work/nbits_acc4.onnx" <<'EOF'; then
import sys
import onnx
m = onnx.load(sys.argv[1])
m.graph.node[0].attribute.append(onnx.helper.make_attribute("accuracy_level", 4))
onnx.save(m, sys.argv[2])
EOF
    bad "could not write the accuracy_level 4 model"
    finish wq_act
    exit
fi
built=1
for v in "acc0 $case_dir/model.onnx" "acc4 $work/nbits_acc4.onnx" \
    "acc4_float $work/nbits_acc4.onnx --wq-act float"; do
    set -- $v
    name=$1 model=$2
    shift 2
    "$onnxcc" build "$model" "$in" -o "$work/$name" "$@" > "$work/log_$name" 2>&1 &&
        "$work/$name" "$in" --out "$work/out_$name" > /dev/null ||
        { bad "MatMulNBits $name: build or run failed"; built=0; }
done
if [ $built = 1 ]; then
    if err=$("$py" - "$case_dir/test_data_set_0/output_0.pb" "$work/out_acc4/output_0.pb" <<'EOF'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
ref, got = (numpy_helper.to_array(onnx.load_tensor(p)).astype(np.float64) for p in sys.argv[1:])
print("%.3g %.3g" % (np.abs(got - ref).max(), np.abs(ref).max()))
EOF
    ); then
        read -r e m <<< "$err"
        echo "MatMulNBits accuracy_level 4 (int8 activations): max |y - ref| $e, max |ref| $m"
        awk -v e="$e" -v m="$m" 'BEGIN { exit !(e <= 0.02 * m) }' && ok ||
            bad "MatMulNBits accuracy_level 4: error $e above 2% of $m"
    else
        bad "MatMulNBits accuracy_level 4: could not compare the outputs"
    fi
    cmp -s "$work/out_acc0/output_0.pb" "$work/out_acc4/output_0.pb" &&
        bad "MatMulNBits accuracy_level 4 gave the float build's output" || ok
    cmp -s "$work/out_acc0/output_0.pb" "$work/out_acc4_float/output_0.pb" && ok ||
        bad "--wq-act float did not override accuracy_level 4"
fi
finish wq_act
