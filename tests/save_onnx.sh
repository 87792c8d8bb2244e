#!/bin/sh
# save_onnx.sh: --save-onnx end to end: quantized digits and conformance models are written,
# pass Debian's onnx.checker (full_check, shape inference) and load back with the same outputs.
# usage: save_onnx.sh ONNXCC SOURCE_DIR OUT_DIR
set -u
B=$1
SRC=$2
O=$3
DATA=/usr/share/libonnx-testdata/data/node
PY=/usr/bin/python3
rm -rf "$O"
mkdir -p "$O"
if ! $PY -c "import onnx.checker" 2>/dev/null; then
    echo "save_onnx: python3 with onnx is missing: skipped"
    exit 77
fi
fails=0
checked=0
fail() {
    echo "FAIL: $*"
    fails=$((fails + 1))
}

# run NAME MODEL 'INPUTS' [FLAGS...]: save, check, reload by input name, compare every output
run() {
    name=$1
    model=$2
    ins=$3
    shift 3
    if ! $B run "$model" $ins --save-onnx "$O/$name.onnx" --out "$O/$name.a" "$@" \
        >/dev/null 2>"$O/$name.err"; then
        fail "$name: save: $(cat "$O/$name.err")"
        return
    fi
    if ! $PY - "$O/$name.onnx" >"$O/$name.chk" 2>&1 <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
PY
    then
        fail "$name: onnx.checker: $(tail -1 "$O/$name.chk")"
        return
    fi
    # inputs compiled into the model (they decided a shape) are no longer inputs
    args=$($PY - "$model" "$O/$name.onnx" $ins <<'PY'
import sys, onnx
a, b = onnx.load(sys.argv[1]), onnx.load(sys.argv[2])
inits = {i.name for i in a.graph.initializer}
orig = [i.name for i in a.graph.input if i.name not in inits]
files = sys.argv[3:]
print(' '.join(f'{i.name}={files[orig.index(i.name)]}' for i in b.graph.input))
PY
)
    if ! $B run "$O/$name.onnx" $args --out "$O/$name.b" >/dev/null 2>"$O/$name.err"; then
        fail "$name: reload: $(cat "$O/$name.err")"
        return
    fi
    for f in "$O/$name.a"/*; do
        if ! cmp -s "$f" "$O/$name.b/$(basename "$f")"; then
            fail "$name: $(basename "$f") differs after the reload"
            return
        fi
    done
    checked=$((checked + 1))
}

D=$SRC/examples/digits
for m in minmax percentile entropy; do
    run "digits_int8_$m" "$D/digits.onnx" "$D/samples/digit_7_0.pb" \
        --quantize int8 --calibrate "$D/samples" --calib-method $m
done
run digits_keep_gemm "$D/digits.onnx" "$D/samples/digit_2_1.pb" \
    --quantize int8 --calibrate "$D/samples" --keep-float '/classifier/*'
run digits_float "$D/digits.onnx" "$D/samples/digit_5_0.pb"
run digits_float_O1 "$D/digits.onnx" "$D/samples/digit_5_0.pb" -O1

# ONNX's own cases: quantized where they hold a Conv, Gemm or MatMul (their
# test_data_set_0 is the calibration set), as they are otherwise; control flow,
# old opsets, hidden inputs, data-dependent extents, inputs compiled in
for c in test_conv_with_strides_padding test_gemm_all_attributes test_matmul_4d \
         test_basic_conv_with_padding; do
    run "$c.int8" "$DATA/$c/model.onnx" "$(ls "$DATA/$c/test_data_set_0"/input_*.pb | sort -V)" \
        --quantize int8 --calibrate "$DATA/$c"
done
for c in test_if test_loop11 test_scan9_sum test_scan_sum test_nonzero_example \
         test_tfidfvectorizer_tf_only_bigrams_skip0 test_split_variable_parts_1d \
         test_resize_upsample_scales_linear test_layer_normalization_2d_axis0 \
         test_strnormalizer_export_monday_casesensintive_lower test_gru_defaults \
         test_clip_default_inbounds test_squeeze; do
    run "$c" "$DATA/$c/model.onnx" "$(ls "$DATA/$c/test_data_set_0"/input_*.pb | sort -V)"
done

# Weight-only formats: each MatMulWQ written as a blocked DequantizeLinear of
# its codes + MatMul (+ Add of the bias). Debian's onnx (1.12) knows neither
# opset 21 nor the 4- and 2-bit types, so its checker cannot read these files:
# wq_check.py checks the DequantizeLinear-21/23/25 rules it would (types,
# shapes, attributes, imports), and ONNX Runtime, where present, loads them
# with the schemas of the new opsets and runs them.
W=$SRC/tests/data/wq_mlp
ORT=$SRC/bench/ort_bench.js
have_ort=0
if command -v node >/dev/null && [ -d "$SRC/bench/node_modules/onnxruntime-node" ]; then
    have_ort=1
else
    echo "save_onnx: onnxruntime-node is missing (bench/node_modules): ONNX Runtime checks skipped"
fi
$PY - "$W/model.onnx" "$O" <<'PY'
import sys, onnx
from onnx import helper
m = onnx.load(sys.argv[1])
m.opset_import[0].version = 25  # the 2-bit types' opset: the same graph reads the same there
m.ir_version = 13
onnx.save(m, sys.argv[2] + '/wq_mlp25.onnx')
m = onnx.load(sys.argv[1])
m.graph.node.append(helper.make_node('Softmax', ['y'], ['p'], name='softmax_11', axis=1))
m.graph.output[0].name = 'p'
m.opset_import[0].version = 11  # Softmax's meaning changed at 13: no raise to 21
onnx.save(m, sys.argv[2] + '/wq_mlp11.onnx')
PY
cat >"$O/wq_check.py" <<'PY'
import sys, onnx, numpy as np
from onnx import numpy_helper
path, fmt, opset_in = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = onnx.load(path)
opset = [o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')][0]
two = opset >= 25
U8, I8, U4, I4, F8, F4, U2, I2 = 2, 3, 21, 22, 17, 23, 25, 26
want = {'int8': U8, 'int4': U4, 'int3': U4, 'int2': U2 if two else U4,
        'ternary': I2 if two else I4, 'ternary5': I2 if two else I4,
        'sherry': I2 if two else I4, 'mxint8': I8, 'mxfp8': F8, 'mxfp4': F4, 'nvfp4': F4}[fmt]
bits = {U8: 8, I8: 8, F8: 8, U4: 4, I4: 4, F4: 4, U2: 2, I2: 2}
need = 25 if two else 23 if want == F4 else 21
group = 16 if fmt == 'nvfp4' else 32
assert opset == max(opset_in, need), f'opset {opset}, expected {max(opset_in, need)}'
assert m.ir_version >= {21: 10, 23: 11, 25: 13}[need], f'ir_version {m.ir_version}'
inits = {t.name: t for t in m.graph.initializer}
dqs = [n for n in m.graph.node if n.op_type == 'DequantizeLinear']
assert len(dqs) == 3, f'{len(dqs)} DequantizeLinear nodes, expected 3 (one per layer)'
assert not [t for t in inits.values() if t.data_type == U8 and want != U8 and len(t.dims) == 2], \
    'a packed matrix was written as well'
for n in dqs:
    a = {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
    assert a.get('axis') == 0 and a.get('block_size') == group, f'{n.name}: attributes {a}'
    c, s = inits[n.input[0]], inits[n.input[1]]
    k, nn = c.dims
    assert c.data_type == want, f'{n.name}: codes of type {c.data_type}, expected {want}'
    assert len(c.raw_data) == (k * nn * bits[want] + 7) // 8, f'{n.name}: {len(c.raw_data)} bytes'
    assert s.data_type == 1 and list(s.dims) == [(k + group - 1) // group, nn], \
        f'{n.name}: scale {list(s.dims)}'
    zero = fmt in ('int8', 'int4', 'int3', 'int2')
    assert (len(n.input) == 3) == zero, f'{n.name}: {len(n.input)} inputs'
    if zero:
        z = inits[n.input[2]]
        assert z.data_type == c.data_type and list(z.dims) == list(s.dims), f'{n.name}: zero'
    assert [u.op_type for u in m.graph.node if n.output[0] in u.input] == ['MatMul'], \
        f'{n.name}: not read by one MatMul'
PY
cat >"$O/close.py" <<'PY'
import sys, onnx, numpy as np
from onnx import numpy_helper
a, b = (numpy_helper.to_array(onnx.load_tensor(f)) for f in sys.argv[1:3])
# relative to the output's scale: |a - b| <= 1e-5 (|a| + max |a|)
bad = np.abs(a - b) > 1e-5 * (np.abs(a) + np.abs(a).max())
if a.shape != b.shape or bad.any():
    sys.exit(f'max |diff| {np.abs(a - b).max()} of max |a| {np.abs(a).max()}')
PY

# wq NAME MODEL OPSET FMT: quantize and save, check the file, reload in onnxcc
# (outputs within 1e-5 of the quantized model's), run in ONNX Runtime
wq() {
    name=$1 model=$2 opset=$3 fmt=$4
    shift 4
    if ! $B run "$model" "$W/input_0.pb" --quantize-weights "$fmt" --save-onnx "$O/$name.onnx" \
        --out "$O/$name.a" >/dev/null 2>"$O/$name.err"; then
        fail "$name: save: $(cat "$O/$name.err")"
        return
    fi
    if ! $PY "$O/wq_check.py" "$O/$name.onnx" "$fmt" "$opset" >"$O/$name.chk" 2>&1; then
        fail "$name: $(tail -1 "$O/$name.chk")"
        return
    fi
    if ! $B run "$O/$name.onnx" "$W/input_0.pb" --out "$O/$name.b" >/dev/null 2>"$O/$name.err"; then
        fail "$name: reload: $(cat "$O/$name.err")"
        return
    fi
    if ! $PY "$O/close.py" "$O/$name.a/output_0.pb" "$O/$name.b/output_0.pb" >"$O/$name.cmp" 2>&1
    then
        fail "$name: the reloaded model differs: $(tail -1 "$O/$name.cmp")"
        return
    fi
    checked=$((checked + 1))
    [ $have_ort -eq 1 ] || return
    # ONNX Runtime fuses DequantizeLinear + MatMul into MatMulNBits: float
    # activations there (--qdq-float), or the graph as written (--opt basic)
    if node "$ORT" "$O/$name.onnx" "$W/input_0.pb" --expect "$O/$name.a/output_0.pb" --bench 1 \
        "$@" >"$O/$name.ort" 2>&1; then
        ort_ok=$((ort_ok + 1))
    elif grep -q "Could not find an implementation for DequantizeLinear" "$O/$name.ort"; then
        echo "save_onnx: $name: ONNX Runtime loads it but has no kernel: $(tail -1 "$O/$name.ort")"
        ort_nokernel=$((ort_nokernel + 1))
    else
        fail "$name: ONNX Runtime: $(tail -1 "$O/$name.ort")"
    fi
}
ort_ok=0
ort_nokernel=0
for f in int8 int4 int3 int2 ternary ternary5 sherry mxint8 mxfp8 mxfp4 nvfp4; do
    wq "wq_$f" "$W/model.onnx" 17 $f --qdq-float
    wq "wq25_$f" "$O/wq_mlp25.onnx" 25 $f --opt basic
done
# Conv: digits' second Conv as ConvWQ, written as DequantizeLinear of codes
# [N, K] blocked along K + Reshape to W's shape + Conv (+ Relu), its Gemm as
# above; reloaded in onnxcc and run in ONNX Runtime (NVFP4's float4 has no
# DequantizeLinear kernel there: counted as loaded only)
for f in int8 int4 int2 mxfp4 nvfp4; do
    n=digits_wq_$f
    if ! $B run "$D/digits.onnx" "$D/samples/digit_7_0.pb" --quantize-weights $f \
        --save-onnx "$O/$n.onnx" --out "$O/$n.a" >/dev/null 2>"$O/$n.err"; then
        fail "$n: save: $(cat "$O/$n.err")"
        continue
    fi
    if ! $PY -c "import onnx, sys; m = onnx.load(sys.argv[1]); sys.exit(sum(
            x.op_type == 'DequantizeLinear' for x in m.graph.node) != 2)" "$O/$n.onnx" ||
        ! $B run "$O/$n.onnx" "$D/samples/digit_7_0.pb" --out "$O/$n.b" >/dev/null \
            2>"$O/$n.err" ||
        ! $PY "$O/close.py" "$O/$n.a/output_0.pb" "$O/$n.b/output_0.pb" >"$O/$n.cmp" 2>&1; then
        fail "$n: not two DequantizeLinear, or the reload differs: $(cat "$O/$n.err" "$O/$n.cmp")"
        continue
    fi
    checked=$((checked + 1))
    [ $have_ort -eq 1 ] || continue
    if node "$ORT" "$O/$n.onnx" "$D/samples/digit_7_0.pb" --expect "$O/$n.a/output_0.pb" \
        --bench 1 --opt basic >"$O/$n.ort" 2>&1; then
        ort_ok=$((ort_ok + 1))
    elif grep -q "Could not find an implementation for DequantizeLinear" "$O/$n.ort"; then
        ort_nokernel=$((ort_nokernel + 1))
    else
        fail "$n: ONNX Runtime: $(tail -1 "$O/$n.ort")"
    fi
done
# raising the opset to 21 would change what Softmax-11 means: refused, naming it
if $B run "$O/wq_mlp11.onnx" "$W/input_0.pb" --quantize-weights int4 \
    --save-onnx "$O/wq_mlp11_int4.onnx" >/dev/null 2>"$O/wq11.err" ||
    ! grep -q "softmax_11.*need opset 21.*imports 11" "$O/wq11.err"; then
    fail "wq_mlp11: expected a refusal naming softmax_11 and opset 21: $(cat "$O/wq11.err")"
elif [ -e "$O/wq_mlp11_int4.onnx" ]; then
    fail "wq_mlp11: refused but wrote the file"
else
    checked=$((checked + 1))
fi
[ $have_ort -eq 1 ] && echo "save_onnx: ONNX Runtime matched $ort_ok weight-only models," \
    "loaded $ort_nokernel without a kernel to run"

echo "save_onnx: $checked models saved, checked and reloaded; $fails failed"
[ $fails -eq 0 ] && [ $checked -gt 0 ]
