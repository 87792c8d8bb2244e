#!/usr/bin/env python3
"""make_legacy_opsets.py: writes legacy_opsets/, one ONNX-test-layout case per opset variant
of ops whose inputs moved between attributes and inputs, and the models the C tests use for
variants onnxcc refuses (run from this folder).

ONNX's own node tests use each op's newest version; these cover the older
ones (and a few newer than the installed test data), with expected outputs
computed here by NumPy from the spec's formulas."""
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = "legacy_opsets"
F32, I32, I64, BOOL = TensorProto.FLOAT, TensorProto.INT32, TensorProto.INT64, TensorProto.BOOL
NP = {F32: np.float32, I32: np.int32, I64: np.int64, BOOL: np.bool_}


def dtype_of(a):
    return {np.dtype(v): k for k, v in NP.items()}[a.dtype]


def case(name, opset, op, inputs, outputs, inits=(), **attrs):
    """inputs/outputs: [(name, array)]; inits: [(name, array)] become initializers."""
    node = helper.make_node(op, [n for n, _ in inputs] + [n for n, _ in inits],
                            [n for n, _ in outputs], **attrs)
    _write(name, opset, [node], inputs, outputs, inits)


def case_nodes(name, opset, nodes, inputs, outputs, inits=()):
    _write(name, opset, nodes, inputs, outputs, inits)


def _write(name, opset, nodes, inputs, outputs, inits):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, dtype_of(a), a.shape) for n, a in inputs],
        [helper.make_tensor_value_info(n, dtype_of(a), a.shape) for n, a in outputs],
        [numpy_helper.from_array(a, n) for n, a in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    if opset <= 17:  # what the installed onnx package knows
        onnx.checker.check_model(model)
    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for kind, vals in (("input", inputs), ("output", outputs)):
        for i, (n, a) in enumerate(vals):
            with open(os.path.join(d, "test_data_set_0", f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a, n).SerializeToString())


shutil.rmtree(OUT, ignore_errors=True)
rng = np.random.default_rng(7)
x24 = rng.standard_normal((2, 4)).astype(np.float32)
x6 = np.arange(6, dtype=np.float32)
x7 = np.arange(7, dtype=np.float32)

# ---- Split: 'split' attribute (2-12), input (1 and 13+), num_outputs (18) ----
case("split_attr_opset11", 11, "Split", [("x", x24)],
     [("a", x24[:, :1]), ("b", x24[:, 1:])], axis=1, split=[1, 3])
case("split_equal_opset2", 2, "Split", [("x", x6)], [("a", x6[:2]), ("b", x6[2:4]), ("c", x6[4:])])
case("split_input_opset1", 1, "Split", [("x", x6)], [("a", x6[:4]), ("b", x6[4:])],
     [("split", np.array([4, 2], np.int64))])
case("split_input_opset13", 13, "Split", [("x", x24)], [("a", x24[:, :3]), ("b", x24[:, 3:])],
     [("split", np.array([3, 1], np.int64))], axis=-1)
case("split_num_outputs_opset18", 18, "Split", [("x", x7)],
     [("a", x7[:3]), ("b", x7[3:6]), ("c", x7[6:])], num_outputs=3)

# ---- Squeeze / Unsqueeze: 'axes' attribute before 13, input from 13 ----
x131 = rng.standard_normal((1, 3, 1)).astype(np.float32)
case("squeeze_attr_opset11", 11, "Squeeze", [("x", x131)], [("y", x131.reshape(3, 1))], axes=[0])
case("squeeze_all_opset1", 1, "Squeeze", [("x", x131)], [("y", x131.reshape(3))])
case("squeeze_input_opset13", 13, "Squeeze", [("x", x131)], [("y", x131.reshape(1, 3))],
     [("axes", np.array([-1], np.int64))])
x23 = rng.standard_normal((2, 3)).astype(np.float32)
case("unsqueeze_attr_opset1", 1, "Unsqueeze", [("x", x23)], [("y", x23.reshape(1, 2, 1, 3))],
     axes=[0, 2])
case("unsqueeze_attr_opset11", 11, "Unsqueeze", [("x", x23)], [("y", x23.reshape(2, 3, 1))],
     axes=[-1])
case("unsqueeze_input_opset13", 13, "Unsqueeze", [("x", x23)], [("y", x23.reshape(2, 1, 3))],
     [("axes", np.array([1], np.int64))])

# ---- Reductions: ReduceSum's axes is an input from 13, the others' from 18 ----
x234 = rng.standard_normal((2, 3, 4)).astype(np.float32)
case("reducesum_attr_opset11", 11, "ReduceSum", [("x", x234)],
     [("y", x234.sum(axis=1))], axes=[1], keepdims=0)
case("reducesum_input_opset13", 13, "ReduceSum", [("x", x234)],
     [("y", x234.sum(axis=(0, 2), keepdims=True))], [("axes", np.array([0, -1], np.int64))])
case("reducesum_all_opset13", 13, "ReduceSum", [("x", x234)],
     [("y", x234.sum(keepdims=True))])
case("reducesum_noop_opset13", 13, "ReduceSum", [("x", x234)], [("y", x234)],
     noop_with_empty_axes=1)
case("reducemean_attr_opset13", 13, "ReduceMean", [("x", x234)],
     [("y", x234.mean(axis=2, keepdims=True))], axes=[2])
case("reducemax_input_opset18", 18, "ReduceMax", [("x", x234)],
     [("y", x234.max(axis=0))], [("axes", np.array([0], np.int64))], keepdims=0)
# no axes and noop_with_empty_axes: nothing is reduced, but the element-wise
# steps still apply (as ONNX's spec was clarified in 2025): sqrt(x^2) = |x|
case("reducel2_noop_opset18", 18, "ReduceL2", [("x", x234)], [("y", np.abs(x234))],
     noop_with_empty_axes=1)

# ---- Clip: 'min'/'max' attributes before 11, inputs from 11 ----
x8 = np.linspace(-3, 3, 8).astype(np.float32)
case("clip_attrs_opset6", 6, "Clip", [("x", x8)], [("y", np.clip(x8, -1, 2))], min=-1.0, max=2.0)
case("clip_max_only_opset6", 6, "Clip", [("x", x8)], [("y", np.minimum(x8, 0.5))], max=0.5)
case("clip_attrs_opset1", 1, "Clip", [("x", x8)], [("y", np.clip(x8, -0.5, 0.5))],
     min=-0.5, max=0.5)
case_nodes("clip_min_input_opset11", 11,
           [helper.make_node("Clip", ["x", "lo", ""], ["y"])], [("x", x8)],
           [("y", np.maximum(x8, -1.5))], [("lo", np.array(-1.5, np.float32))])
xi = np.arange(-4, 4, dtype=np.int32)
case("clip_int_opset12", 12, "Clip", [("x", xi)], [("y", np.clip(xi, -2, 1))],
     [("lo", np.array(-2, np.int32)), ("hi", np.array(1, np.int32))])

# ---- Pad: 'paddings' (1) / 'pads' (2-10) and 'value' attributes, inputs from 11 ----
x22 = np.array([[1, 2], [3, 4]], np.float32)
case("pad_paddings_opset1", 1, "Pad", [("x", x22)],
     [("y", np.pad(x22, ((1, 0), (0, 2)), constant_values=9))], paddings=[1, 0, 0, 2], value=9.0)
case("pad_pads_opset2", 2, "Pad", [("x", x22)],
     [("y", np.pad(x22, ((0, 1), (2, 0)), constant_values=1.5))], pads=[0, 2, 1, 0], value=1.5)
case("pad_reflect_opset2", 2, "Pad", [("x", x23)],
     [("y", np.pad(x23, ((0, 0), (2, 1)), mode="reflect"))], pads=[0, 2, 0, 1], mode="reflect")
case("pad_edge_opset2", 2, "Pad", [("x", x23)],
     [("y", np.pad(x23, ((1, 1), (0, 0)), mode="edge"))], pads=[1, 0, 1, 0], mode="edge")
case("pad_input_opset11", 11, "Pad", [("x", x22)],
     [("y", np.pad(x22, ((1, 1), (1, 1)), constant_values=-1))],
     [("pads", np.array([1, 1, 1, 1], np.int64)), ("v", np.array(-1, np.float32))])
case_nodes("pad_axes_opset18", 18,
           [helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"])], [("x", x22)],
           [("y", np.pad(x22, ((0, 0), (1, 2))))],
           [("pads", np.array([1, 2], np.int64)), ("axes", np.array([-1], np.int64))])

# ---- Upsample (7: 'scales' attribute, 9: input) and Resize (10: X, scales; 11+) ----
x1122 = np.array([[[[1, 2], [3, 4]]]], np.float32)
near = x1122.repeat(2, axis=2).repeat(3, axis=3)
case("upsample_attr_opset7", 7, "Upsample", [("x", x1122)], [("y", near)],
     scales=[1.0, 1.0, 2.0, 3.0])
case("upsample_input_opset9", 9, "Upsample", [("x", x1122)], [("y", near)],
     [("scales", np.array([1, 1, 2, 3], np.float32))])
# asymmetric linear: source = dst / scale, clamped at the last row/column
lin = np.array([[[[1, 1.5, 2, 2], [2, 2.5, 3, 3], [3, 3.5, 4, 4], [3, 3.5, 4, 4]]]], np.float32)
case("upsample_linear_opset7", 7, "Upsample", [("x", x1122)], [("y", lin)],
     scales=[1.0, 1.0, 2.0, 2.0], mode="linear")
case("resize_linear_opset10", 10, "Resize", [("x", x1122)], [("y", lin)],
     [("scales", np.array([1, 1, 2, 2], np.float32))], mode="linear")
# Resize-10 nearest downsampling rounds the source index up: dst 1 / 0.6 -> 2
x1124 = np.arange(1, 9, dtype=np.float32).reshape(1, 1, 2, 4)
case("resize_downsample_nearest_opset10", 10, "Resize", [("x", x1124)],
     [("y", np.array([[[[1, 3]]]], np.float32))],
     [("scales", np.array([1, 1, 0.6, 0.6], np.float32))])
# Resize-11: roi and scales present but empty, sizes given; half_pixel, round_prefer_floor
case("resize_sizes_nearest_opset11", 11, "Resize", [("x", x1122)],
     [("y", x1122.repeat(2, axis=2).repeat(2, axis=3))],
     [("roi", np.zeros(0, np.float32)), ("scales", np.zeros(0, np.float32)),
      ("sizes", np.array([1, 1, 4, 4], np.int64))])

# ---- Slice: attributes before 10 ----
x35 = np.arange(15, dtype=np.float32).reshape(3, 5)
case("slice_attrs_opset1", 1, "Slice", [("x", x35)], [("y", x35[1:, 1:4])],
     starts=[1, 1], ends=[1000, -1])
case("slice_attrs_axes_opset9", 9, "Slice", [("x", x35)], [("y", x35[:, -3:])],
     starts=[-3], ends=[2 ** 62], axes=[1])

# ---- TopK: 'k' attribute before 10 ----
x25 = np.array([[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]], np.float32)
idx = np.argsort(-x25, axis=1, kind="stable")[:, :2]
case("topk_attr_opset1", 1, "TopK", [("x", x25)],
     [("v", np.take_along_axis(x25, idx, 1)), ("i", idx.astype(np.int64))], k=2)
case("topk_input_opset10", 10, "TopK", [("x", x25)],
     [("v", np.take_along_axis(x25, idx, 1)), ("i", idx.astype(np.int64))],
     [("k", np.array([2], np.int64))])

# ---- Dropout: 'ratio' attribute before 12 (mask is T before 10), inputs from 12 ----
case("dropout_ratio_opset7", 7, "Dropout", [("x", x23)], [("y", x23)], ratio=0.3)
case("dropout_is_test_opset6", 6, "Dropout", [("x", x23)], [("y", x23)], is_test=1, ratio=0.3)
case("dropout_mask_opset10", 10, "Dropout", [("x", x23)],
     [("y", x23), ("m", np.ones((2, 3), np.bool_))], ratio=0.3)
case("dropout_inputs_opset13", 13, "Dropout", [("x", x23)],
     [("y", x23), ("m", np.ones((2, 3), np.bool_))],
     [("r", np.array(0.4, np.float32)), ("t", np.array(False))])

# ---- BatchNormalization: 'spatial' attribute (7-8), 'is_test' (6) ----
xb = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
s, b = np.array([1, 2, 0.5], np.float32), np.array([0, 1, -1], np.float32)
m, v = np.array([0.1, -0.2, 0.3], np.float32), np.array([1, 0.5, 2], np.float32)
bn = (s[:, None, None] * (xb - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-5)
      + b[:, None, None]).astype(np.float32)
for opset, extra in ((6, {"is_test": 1}), (7, {"spatial": 1}), (9, {})):
    case(f"batchnorm_opset{opset}", opset, "BatchNormalization", [("x", xb)], [("y", bn)],
         [("s", s), ("b", b), ("m", m), ("v", v)], **extra)

# spatial=0 (per-activation statistics, opsets 1-8) is reported as not
# supported (test_legacy_opsets.c); kept outside the suite, which must pass
sp = [("s", np.ones((3, 2, 2), np.float32)), ("b", np.zeros((3, 2, 2), np.float32)),
      ("m", np.zeros((3, 2, 2), np.float32)), ("v", np.ones((3, 2, 2), np.float32))]
case("batchnorm_spatial0_opset7", 7, "BatchNormalization", [("x", xb)], [("y", xb)], sp,
     spatial=0)
shutil.move(os.path.join(OUT, "batchnorm_spatial0_opset7", "model.onnx"),
            "batchnorm_spatial0_opset7.onnx")
shutil.rmtree(os.path.join(OUT, "batchnorm_spatial0_opset7"))

with open(os.path.join(OUT, "expected_pass.txt"), "w") as f:
    for name in sorted(os.listdir(OUT)):
        if os.path.isdir(os.path.join(OUT, name)):
            f.write(f"{OUT}/{name}\n")
