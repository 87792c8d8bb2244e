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

echo "save_onnx: $checked models saved, checked and reloaded; $fails failed"
[ $fails -eq 0 ] && [ $checked -gt 0 ]
