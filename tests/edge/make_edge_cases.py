#!/usr/bin/python3
"""Writes onnxcc's edge-case conformance cases: small one- or two-node models.

Usage: /usr/bin/python3 tests/edge/make_edge_cases.py OUTDIR

Covers what ONNX's own node tests touch thinly: broadcasting corners, empty
tensors, rank-0 tensors, negative axes, and the same op at the opsets where
its signature changed (attributes that became inputs). Each case goes to
OUTDIR/test_<name>/model.onnx with test_data_set_0/input_K.pb and output_K.pb,
the layout of ONNX's backend test data, so onnxcc_conformance runs them as it
runs those. Expected outputs are computed here with NumPy from the ONNX spec
(ONNX 1.12 has no reference evaluator); inputs come from a fixed seed.
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(7)
CASES = []


def case(name, nodes, inputs, outputs, opset=17, consts=None):
    """Registers a case: inputs/outputs are (name, array) lists in graph order,
    consts (name, array) become initializers (values known at compile time)."""
    CASES.append((name, nodes, inputs, outputs, opset, consts or []))


def vinfo(name, a):
    a = np.asarray(a)
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a.dtype)
                                         if hasattr(helper, "np_dtype_to_tensor_dtype")
                                         else onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype],
                                         list(a.shape))


def write(outdir, name, nodes, inputs, outputs, opset, consts):
    graph = helper.make_graph(
        nodes, name, [vinfo(n, a) for n, a in inputs], [vinfo(n, a) for n, a in outputs],
        initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in consts])
    model = helper.make_model(graph, producer_name="onnxcc-edge",
                              opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    d = os.path.join(outdir, "test_" + name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for prefix, items in (("input", inputs), ("output", outputs)):
        for k, (n, a) in enumerate(items):
            t = numpy_helper.from_array(np.asarray(a), n)
            with open(os.path.join(d, "test_data_set_0", "%s_%d.pb" % (prefix, k)), "wb") as f:
                f.write(t.SerializeToString())


def rnd(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def irnd(*shape, lo=-5, hi=6, dtype=np.int64):
    return RNG.integers(lo, hi, size=shape).astype(dtype)


def i64(*v):
    return np.array(v, dtype=np.int64)


N = helper.make_node


def f32(a):
    return np.asarray(a, dtype=np.float32)


# ---- broadcasting corners ----
def binary(name, op, a, b, want, opset=17):
    case(name, [N(op, ["a", "b"], ["y"])], [("a", a), ("b", b)], [("y", want)], opset)


a, b = rnd(), rnd(2, 3, 4, 5)
binary("bcast_scalar_rank4_add", "Add", a, b, a + b)
a, b = rnd(2, 1, 3, 1), rnd()
binary("bcast_rank4_scalar_mul", "Mul", a, b, a * b)
a, b = rnd(1, 3, 1, 5), rnd(4, 1, 2, 1)
binary("bcast_size1_both_sides_sub", "Sub", a, b, a - b)
a, b = rnd(3, 1, 5), rnd(4, 1)
binary("bcast_315_41_add", "Add", a, b, a + b)
a, b = rnd(4, 1), rnd(3, 1, 5)
binary("bcast_41_315_div", "Div", a, b + np.float32(3.0), a / (b + np.float32(3.0)))
a, b = np.abs(rnd(2, 3, 4)) + np.float32(0.5), rnd(4)
binary("bcast_rank3_rank1_pow", "Pow", a, b, np.power(a, b))
a, b = RNG.integers(0, 2, (2, 1, 3)).astype(bool), RNG.integers(0, 2, (4, 1)).astype(bool)
binary("bcast_bool_and", "And", a, b, a & b)
a, b = RNG.integers(0, 2, ()).astype(bool), RNG.integers(0, 2, (3,)).astype(bool)
binary("bcast_bool_scalar_xor", "Xor", np.array(a), b, a ^ b)
a, b = irnd(3, 1, dtype=np.int32), irnd(1, 4, dtype=np.int32)
binary("bcast_int32_equal", "Equal", a, b, a == b)
a, b = irnd(1), irnd(2, 3)
binary("bcast_int64_sub", "Sub", a, b, a - b)
a, b = irnd(2, 1, 3, dtype=np.int32), irnd(3, dtype=np.int32)
binary("bcast_int32_mul", "Mul", a, b, a * b)
a, b = rnd(2, 3), rnd(3)
binary("bcast_float_greater", "Greater", a, b, a > b)
c, x, y = RNG.integers(0, 2, (3, 1)).astype(bool), rnd(), rnd(1, 4)
case("bcast_where_three_ways", [N("Where", ["c", "x", "y"], ["z"])],
     [("c", c), ("x", x), ("y", y)], [("z", np.where(c, x, y))])
a, b, c = rnd(3, 1), rnd(1, 4), rnd()
case("bcast_max_variadic", [N("Max", ["a", "b", "c"], ["y"])], [("a", a), ("b", b), ("c", c)],
     [("y", np.maximum(np.maximum(a, b), c))])
a, b = rnd(1, 1), rnd(1)
binary("bcast_all_ones_add", "Add", a, b, a + b)

# ---- empty tensors ----
a, b = rnd(0, 3), rnd(1, 3)
binary("empty_add_bcast", "Add", a, b, a + b)
a, b = rnd(2, 0, 3), rnd(3)
binary("empty_middle_dim_mul", "Mul", a, b, a * b)
a = rnd(0, 4)
case("empty_relu", [N("Relu", ["x"], ["y"])], [("x", a)], [("y", np.maximum(a, 0))])
a, b = rnd(0, 3), rnd(3, 4)
binary("empty_matmul_m0", "MatMul", a, b, a @ b)
a, b = rnd(2, 0), rnd(0, 4)
binary("empty_matmul_k0_zeros", "MatMul", a, b, np.zeros((2, 4), np.float32))
a, b = rnd(2, 3), rnd(3, 0)
binary("empty_matmul_n0", "MatMul", a, b, a @ b)
a, b = rnd(2, 3, 0), rnd(2, 0, 4)
binary("empty_matmul_batched_k0_zeros", "MatMul", a, b, np.zeros((2, 3, 4), np.float32))
a, b, c = rnd(2, 0), rnd(0, 3), rnd(3)
case("empty_gemm_k0_bias", [N("Gemm", ["a", "b", "c"], ["y"], beta=2.0)],
     [("a", a), ("b", b), ("c", c)], [("y", np.broadcast_to(2 * c, (2, 3)).copy())])
a, b = rnd(2, 0), rnd(2, 3)
case("empty_concat_part_axis1", [N("Concat", ["a", "b"], ["y"], axis=1)], [("a", a), ("b", b)],
     [("y", np.concatenate([a, b], 1))])
a, b, c = rnd(0, 3), rnd(2, 3), rnd(0, 3)
case("empty_concat_parts_axis0", [N("Concat", ["a", "b", "c"], ["y"], axis=0)],
     [("a", a), ("b", b), ("c", c)], [("y", np.concatenate([a, b, c], 0))])
a = rnd(2, 0, 3)
case("empty_reshape_allowzero", [N("Reshape", ["x", "s"], ["y"], allowzero=1)], [("x", a)],
     [("y", a.reshape(0, 6))], consts=[("s", i64(0, 6))])
a = rnd(0, 3)
case("empty_reshape_infer", [N("Reshape", ["x", "s"], ["y"])], [("x", a)],
     [("y", a.reshape(3, 0))], consts=[("s", i64(3, -1))])
a = rnd(2, 0, 3)
case("empty_transpose", [N("Transpose", ["x"], ["y"], perm=[2, 0, 1])], [("x", a)],
     [("y", a.transpose(2, 0, 1))])


def reduce_case(name, op, x, axes, want, keepdims=1, opset=13):
    """ReduceSum takes axes as an input from opset 13 (the others from 18, past ONNX 1.12)."""
    if op == "ReduceSum" and opset >= 13:
        case(name, [N(op, ["x", "axes"], ["y"], keepdims=keepdims)], [("x", x)], [("y", want)],
             opset, consts=[("axes", i64(*axes))])
    else:
        case(name, [N(op, ["x"], ["y"], axes=list(axes), keepdims=keepdims)], [("x", x)],
             [("y", want)], opset)


a = rnd(2, 0, 3)
reduce_case("empty_reducesum_keepdims", "ReduceSum", a, [1], np.zeros((2, 1, 3), np.float32))
reduce_case("empty_reducesum_nokeep", "ReduceSum", a, [1], np.zeros((2, 3), np.float32), 0)
# An empty reduction yields the op's identity: -inf for max, +inf for min, 1 for prod.
reduce_case("empty_reducemax_keepdims", "ReduceMax", a, [1],
            np.full((2, 1, 3), -np.inf, np.float32))
reduce_case("empty_reducemin_nokeep", "ReduceMin", a, [1], np.full((2, 3), np.inf, np.float32), 0)
reduce_case("empty_reduceprod", "ReduceProd", a, [1], np.ones((2, 1, 3), np.float32))
reduce_case("empty_reducel2", "ReduceL2", a, [1], np.zeros((2, 1, 3), np.float32))
reduce_case("empty_reducesum_other_axis", "ReduceSum", a, [2], np.zeros((2, 0, 1), np.float32))
reduce_case("empty_reducemax_other_axis", "ReduceMax", a, [0], np.zeros((1, 0, 3), np.float32))
a = rnd(4, 3)
case("empty_slice_start_eq_end", [N("Slice", ["x", "s", "e", "ax"], ["y"])], [("x", a)],
     [("y", a[:, 2:2])], consts=[("s", i64(2)), ("e", i64(2)), ("ax", i64(1))])
case("empty_slice_start_past_end", [N("Slice", ["x", "s", "e"], ["y"])], [("x", a)],
     [("y", a[3:1])], consts=[("s", i64(3)), ("e", i64(1))])
case("empty_slice_neg_step", [N("Slice", ["x", "s", "e", "ax", "st"], ["y"])], [("x", a)],
     [("y", a[1:3:-1])], consts=[("s", i64(1)), ("e", i64(3)), ("ax", i64(0)), ("st", i64(-1))])
a = rnd(3, 4)
case("empty_gather_indices", [N("Gather", ["x", "i"], ["y"])], [("x", a)],
     [("y", a[np.zeros(0, np.int64)])], consts=[("i", np.zeros(0, np.int64))])
case("empty_gather_indices_axis1", [N("Gather", ["x", "i"], ["y"], axis=1)],
     [("x", a), ("i", np.zeros((2, 0), np.int64))],
     [("y", np.take(a, np.zeros((2, 0), np.int64), axis=1))])
a = rnd(0, 5)
case("empty_softmax", [N("Softmax", ["x"], ["y"])], [("x", a)], [("y", a)])
a = rnd(4, 0)
case("empty_split", [N("Split", ["x"], ["y0", "y1"], axis=0)], [("x", a)],
     [("y0", a[:2]), ("y1", a[2:])])
a = rnd(0, 3)
case("empty_cast", [N("Cast", ["x"], ["y"], to=TensorProto.INT32)], [("x", a)],
     [("y", a.astype(np.int32))])
case("empty_constant_of_shape", [N("ConstantOfShape", ["s"], ["y"])], [],
     [("y", np.zeros((2, 0), np.float32))], consts=[("s", i64(2, 0))])
a = rnd(0, 3)
case("empty_shape_of_empty", [N("Shape", ["x"], ["y"])], [("x", a)], [("y", i64(0, 3))])
case("empty_size_of_empty", [N("Size", ["x"], ["y"])], [("x", a)],
     [("y", np.array(0, np.int64))])

# ---- rank-0 (scalar) tensors ----
a, b = rnd(), rnd()
binary("scalar_add", "Add", a, b, np.array(a + b))
a = rnd()
case("scalar_exp", [N("Exp", ["x"], ["y"])], [("x", a)], [("y", np.exp(a))])
a = rnd(1, 1)
case("scalar_reshape_to_rank0", [N("Reshape", ["x", "s"], ["y"])], [("x", a)],
     [("y", a.reshape(()))], consts=[("s", np.zeros(0, np.int64))])
a = rnd()
case("scalar_reshape_from_rank0", [N("Reshape", ["x", "s"], ["y"])], [("x", a)],
     [("y", a.reshape(1, 1))], consts=[("s", i64(1, 1))])
case("scalar_unsqueeze", [N("Unsqueeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(1))], consts=[("ax", i64(0))])
case("scalar_unsqueeze_two", [N("Unsqueeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(1, 1))], consts=[("ax", i64(0, -1))])
a = rnd(1, 1)
case("scalar_squeeze_all", [N("Squeeze", ["x"], ["y"])], [("x", a)], [("y", a.reshape(()))])
a = rnd(1)
case("scalar_squeeze_axis", [N("Squeeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(()))], consts=[("ax", i64(0))])
a = rnd(3, 4)
case("scalar_gather_index", [N("Gather", ["x", "i"], ["y"])], [("x", a), ("i", i64(2)[0])],
     [("y", a[2])])
case("scalar_gather_index_axis1_neg", [N("Gather", ["x", "i"], ["y"], axis=1)],
     [("x", a), ("i", np.array(-1, np.int64))], [("y", a[:, -1])])
a = rnd(4)
case("scalar_gather_from_1d", [N("Gather", ["x", "i"], ["y"])],
     [("x", a), ("i", np.array(1, np.int64))], [("y", np.array(a[1]))])
a = np.array(3, np.int32)
case("scalar_cast_int_to_float", [N("Cast", ["x"], ["y"], to=TensorProto.FLOAT)], [("x", a)],
     [("y", np.array(3.0, np.float32))])
a = rnd(2, 3)
case("scalar_reducesum_all", [N("ReduceSum", ["x"], ["y"], keepdims=0)], [("x", a)],
     [("y", np.array(a.sum(dtype=np.float32)))])
a, b = rnd(3), rnd(3)
binary("scalar_matmul_1d_1d", "MatMul", a, b, np.array(a @ b))
a, b = rnd(3), rnd(3, 4)
binary("matmul_1d_2d", "MatMul", a, b, a @ b)
a, b = rnd(2, 3, 4), rnd(4)
binary("matmul_3d_1d", "MatMul", a, b, a @ b)
c, x, y = np.array(True), rnd(2), rnd()
case("scalar_where_cond", [N("Where", ["c", "x", "y"], ["z"])], [("c", c), ("x", x), ("y", y)],
     [("z", np.where(c, x, y))])
a = rnd()
case("scalar_shape", [N("Shape", ["x"], ["y"])], [("x", a)], [("y", np.zeros(0, np.int64))])
case("scalar_size", [N("Size", ["x"], ["y"])], [("x", a)], [("y", np.array(1, np.int64))])
case("scalar_identity", [N("Identity", ["x"], ["y"])], [("x", a)], [("y", a)])
a = rnd(5)
case("scalar_argmax_1d", [N("ArgMax", ["x"], ["y"], keepdims=0)], [("x", a)],
     [("y", np.array(np.argmax(a), np.int64))])
a = rnd()
case("scalar_clip_bounds", [N("Clip", ["x", "lo", "hi"], ["y"])],
     [("x", a), ("lo", np.array(-0.1, np.float32)), ("hi", np.array(0.1, np.float32))],
     [("y", np.clip(a, np.float32(-0.1), np.float32(0.1)))])
a = rnd()
case("scalar_expand", [N("Expand", ["x", "s"], ["y"])], [("x", a)],
     [("y", np.broadcast_to(a, (2, 3)).copy())], consts=[("s", i64(2, 3))])


# ---- negative axes ----
def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


a, b = rnd(2, 3, 1), rnd(2, 3, 2)
case("neg_axis_concat", [N("Concat", ["a", "b"], ["y"], axis=-1)], [("a", a), ("b", b)],
     [("y", np.concatenate([a, b], -1))])
a = rnd(2, 3, 4)
case("neg_axis_softmax", [N("Softmax", ["x"], ["y"], axis=-2)], [("x", a)],
     [("y", softmax(a, -2))])
case("neg_axis_logsoftmax", [N("LogSoftmax", ["x"], ["y"], axis=-3)], [("x", a)],
     [("y", np.log(softmax(a, 0)))])
case("neg_axis_gather", [N("Gather", ["x", "i"], ["y"], axis=-1)],
     [("x", a), ("i", i64(3, -4, 0))], [("y", np.take(a, [3, 0, 0], axis=-1))])
case("neg_axis_gather_neg_indices", [N("Gather", ["x", "i"], ["y"], axis=-2)],
     [("x", a), ("i", np.array([[-1, -3], [0, 2]], np.int64))],
     [("y", np.take(a, [[2, 0], [0, 2]], axis=1))])
reduce_case("neg_axis_reducemean", "ReduceMean", a, [-1, -3], a.mean(axis=(0, 2), keepdims=True))
reduce_case("neg_axis_reducesum_input", "ReduceSum", a, [-2], a.sum(axis=1), keepdims=0)
case("neg_axis_split", [N("Split", ["x", "s"], ["y0", "y1"], axis=-1)], [("x", a)],
     [("y0", a[..., :1]), ("y1", a[..., 1:])], consts=[("s", i64(1, 3))])
a = rnd(2, 1, 3, 1)
case("neg_axis_squeeze", [N("Squeeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(2, 1, 3))], consts=[("ax", i64(-1))])
case("neg_axis_squeeze_two", [N("Squeeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(2, 3))], consts=[("ax", i64(-3, -1))])
a = rnd(3, 4)
# Unsqueeze's negative axes count from the end of the output's rank.
case("neg_axis_unsqueeze", [N("Unsqueeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(1, 3, 4, 1))], consts=[("ax", i64(-1, 0))])
case("neg_axis_unsqueeze_middle", [N("Unsqueeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(3, 1, 4))], consts=[("ax", i64(-2))])
a = rnd(2, 3, 4)
case("neg_axis_flatten", [N("Flatten", ["x"], ["y"], axis=-1)], [("x", a)],
     [("y", a.reshape(6, 4))])
case("neg_axis_flatten_first", [N("Flatten", ["x"], ["y"], axis=-3)], [("x", a)],
     [("y", a.reshape(1, 24))])
case("flatten_axis0", [N("Flatten", ["x"], ["y"], axis=0)], [("x", a)], [("y", a.reshape(1, 24))])
case("neg_axis_argmax", [N("ArgMax", ["x"], ["y"], axis=-1, keepdims=0)], [("x", a)],
     [("y", np.argmax(a, -1).astype(np.int64))])
t = np.array([[1, 1, 3], [2, 0, 0]], np.float32).T.copy()
case("neg_axis_argmin_last_index", [N("ArgMin", ["x"], ["y"], axis=-2, select_last_index=1)],
     [("x", t)], [("y", np.array([[1, 2]], np.int64))])
case("argmax_ties_first_index", [N("ArgMax", ["x"], ["y"], axis=0)], [("x", -t)],
     [("y", np.array([[0, 1]], np.int64))])
case("neg_axis_cumsum", [N("CumSum", ["x", "ax"], ["y"])], [("x", a)],
     [("y", np.cumsum(a, -1))], consts=[("ax", np.array(-1, np.int64))])
rev_excl = np.flip(np.cumsum(np.flip(a, 1), 1), 1) - a
case("neg_axis_cumsum_reverse_exclusive",
     [N("CumSum", ["x", "ax"], ["y"], exclusive=1, reverse=1)], [("x", a)], [("y", rev_excl)],
     consts=[("ax", np.array(-2, np.int32))])
order = np.argsort(-a, axis=-1, kind="stable")[..., :2]
case("neg_axis_topk", [N("TopK", ["x", "k"], ["v", "i"], axis=-1)], [("x", a)],
     [("v", np.take_along_axis(a, order, -1)), ("i", order.astype(np.int64))],
     consts=[("k", i64(2))])
order = np.argsort(a, axis=-3, kind="stable")[:1]
case("neg_axis_topk_smallest", [N("TopK", ["x", "k"], ["v", "i"], axis=-3, largest=0)],
     [("x", a)], [("v", np.take_along_axis(a, order, 0)), ("i", order.astype(np.int64))],
     consts=[("k", i64(1))])
case("neg_axis_slice", [N("Slice", ["x", "s", "e", "ax"], ["y"])], [("x", a)],
     [("y", a[:, :, -3:-1])], consts=[("s", i64(-3)), ("e", i64(-1)), ("ax", i64(-1))])
a = rnd(2, 3, 4)
sc, bi = rnd(3, 4), rnd(3, 4)
mu = a.mean(axis=(-2, -1), keepdims=True)
var = ((a - mu) ** 2).mean(axis=(-2, -1), keepdims=True)
case("neg_axis_layernorm", [N("LayerNormalization", ["x", "s", "b"], ["y"], axis=-2)],
     [("x", a), ("s", sc), ("b", bi)], [("y", (a - mu) / np.sqrt(var + 1e-5) * sc + bi)])

# ---- the same op at the opsets where it changed ----
a = rnd(3, 4)
case("opset11_split_attr", [N("Split", ["x"], ["y0", "y1"], axis=0, split=[1, 2])], [("x", a)],
     [("y0", a[:1]), ("y1", a[1:])], opset=11)
case("opset13_split_input", [N("Split", ["x", "s"], ["y0", "y1"], axis=1)], [("x", a)],
     [("y0", a[:, :3]), ("y1", a[:, 3:])], opset=13, consts=[("s", i64(3, 1))])
case("opset7_split_equal", [N("Split", ["x"], ["y0", "y1"], axis=1)], [("x", a)],
     [("y0", a[:, :2]), ("y1", a[:, 2:])], opset=7)
a = rnd(3, 1, 4, 1)
case("opset11_squeeze_attr", [N("Squeeze", ["x"], ["y"], axes=[1])], [("x", a)],
     [("y", a.reshape(3, 4, 1))], opset=11)
case("opset7_squeeze_no_axes", [N("Squeeze", ["x"], ["y"])], [("x", a)],
     [("y", a.reshape(3, 4))], opset=7)
case("opset13_squeeze_input", [N("Squeeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(3, 4, 1))], opset=13, consts=[("ax", i64(1))])
a = rnd(3, 4)
case("opset9_unsqueeze_attr", [N("Unsqueeze", ["x"], ["y"], axes=[0, 3])], [("x", a)],
     [("y", a.reshape(1, 3, 4, 1))], opset=9)
case("opset11_unsqueeze_neg_attr", [N("Unsqueeze", ["x"], ["y"], axes=[-1])], [("x", a)],
     [("y", a.reshape(3, 4, 1))], opset=11)
case("opset13_unsqueeze_input", [N("Unsqueeze", ["x", "ax"], ["y"])], [("x", a)],
     [("y", a.reshape(1, 3, 4, 1))], opset=13, consts=[("ax", i64(3, 0))])
a = rnd(2, 3, 4)
reduce_case("opset11_reducesum_attr", "ReduceSum", a, [1], a.sum(1, keepdims=True), opset=11)
reduce_case("opset13_reducesum_input", "ReduceSum", a, [1], a.sum(1, keepdims=True), opset=13)
case("opset13_reducesum_no_axes", [N("ReduceSum", ["x"], ["y"])], [("x", a)],
     [("y", a.sum(keepdims=True))], opset=13)
case("opset13_reducesum_noop_empty_axes", [N("ReduceSum", ["x"], ["y"], noop_with_empty_axes=1)],
     [("x", a)], [("y", a)], opset=13)
case("opset7_reducemean_default", [N("ReduceMean", ["x"], ["y"])], [("x", a)],
     [("y", a.mean(keepdims=True))], opset=7)
a = rnd(3, 4)
case("opset6_clip_attrs", [N("Clip", ["x"], ["y"], min=-0.5, max=0.5)], [("x", a)],
     [("y", np.clip(a, -0.5, 0.5))], opset=6)
case("opset6_clip_default_bounds", [N("Clip", ["x"], ["y"], min=-0.5)], [("x", a)],
     [("y", np.maximum(a, np.float32(-0.5)))], opset=6)
case("opset11_clip_inputs", [N("Clip", ["x", "lo", "hi"], ["y"])], [("x", a)],
     [("y", np.clip(a, np.float32(-0.5), np.float32(0.5)))], opset=11,
     consts=[("lo", f32(-0.5)), ("hi", f32(0.5))])
case("opset11_clip_max_only", [N("Clip", ["x", "", "hi"], ["y"])],
     [("x", a), ("hi", f32(0.25))], [("y", np.minimum(a, np.float32(0.25)))], opset=11)
ia = irnd(3, 4, dtype=np.int32)
case("opset13_clip_int32", [N("Clip", ["x", "lo", "hi"], ["y"])], [("x", ia)],
     [("y", np.clip(ia, -2, 3).astype(np.int32))], opset=13,
     consts=[("lo", np.array(-2, np.int32)), ("hi", np.array(3, np.int32))])
a = rnd(2, 3)
case("opset2_pad_attr", [N("Pad", ["x"], ["y"], pads=[0, 1, 1, 2], value=1.5)], [("x", a)],
     [("y", np.pad(a, ((0, 1), (1, 2)), constant_values=1.5))], opset=2)
case("opset2_pad_reflect", [N("Pad", ["x"], ["y"], pads=[1, 2, 0, 1], mode="reflect")],
     [("x", a)], [("y", np.pad(a, ((1, 0), (2, 1)), mode="reflect"))], opset=2)
case("opset11_pad_input", [N("Pad", ["x", "p", "v"], ["y"])], [("x", a)],
     [("y", np.pad(a, ((0, 1), (1, 2)), constant_values=1.5))], opset=11,
     consts=[("p", i64(0, 1, 1, 2)), ("v", f32(1.5))])
case("opset11_pad_edge", [N("Pad", ["x", "p"], ["y"], mode="edge")], [("x", a)],
     [("y", np.pad(a, ((2, 0), (1, 1)), mode="edge"))], opset=11, consts=[("p", i64(2, 1, 0, 1))])
case("opset11_pad_negative", [N("Pad", ["x", "p"], ["y"])], [("x", a)],
     [("y", np.pad(a, ((0, 0), (1, 0)))[:, :-1])], opset=11, consts=[("p", i64(0, 1, 0, -1))])
a = rnd(4, 5)
case("opset1_slice_attrs", [N("Slice", ["x"], ["y"], starts=[1, 0], ends=[3, 2**62], axes=[0, 1])],
     [("x", a)], [("y", a[1:3, 0:])], opset=1)
case("opset1_slice_no_axes_neg", [N("Slice", ["x"], ["y"], starts=[-3, 1], ends=[-1, 100])],
     [("x", a)], [("y", a[-3:-1, 1:])], opset=1)
case("opset10_slice_inputs_step", [N("Slice", ["x", "s", "e", "ax", "st"], ["y"])], [("x", a)],
     [("y", a[:, 4:0:-2])], opset=10,
     consts=[("s", i64(4)), ("e", i64(0)), ("ax", i64(1)), ("st", i64(-2))])
case("opset13_slice_int32_clamped", [N("Slice", ["x", "s", "e"], ["y"])], [("x", a)],
     [("y", a[-100:2])], opset=13,
     consts=[("s", np.array([-100], np.int32)), ("e", np.array([2], np.int32))])
a = rnd(3, 4)
case("opset7_dropout", [N("Dropout", ["x"], ["y"], ratio=0.3)], [("x", a)], [("y", a)], opset=7)
case("opset10_dropout_mask", [N("Dropout", ["x"], ["y", "m"], ratio=0.3)], [("x", a)],
     [("y", a), ("m", np.ones((3, 4), bool))], opset=10)
case("opset12_dropout_ratio_input", [N("Dropout", ["x", "r"], ["y", "m"])], [("x", a)],
     [("y", a), ("m", np.ones((3, 4), bool))], opset=12, consts=[("r", f32(0.3))])
case("opset13_dropout_training_off",
     [N("Dropout", ["x", "r", "t"], ["y"])], [("x", a)], [("y", a)], opset=13,
     consts=[("r", f32(0.5)), ("t", np.array(False))])
a = rnd(2, 3, 4)
# Before opset 13 Softmax flattens the input to 2-D at axis and normalises rows.
flat = softmax(a.reshape(2, 12), 1).reshape(2, 3, 4)
case("opset11_softmax_coerce_2d", [N("Softmax", ["x"], ["y"])], [("x", a)], [("y", flat)],
     opset=11)
case("opset11_logsoftmax_neg_axis", [N("LogSoftmax", ["x"], ["y"], axis=-1)], [("x", a)],
     [("y", np.log(softmax(a, -1)))], opset=11)
case("opset13_softmax_default_last", [N("Softmax", ["x"], ["y"])], [("x", a)],
     [("y", softmax(a, -1))], opset=13)
case("opset9_flatten", [N("Flatten", ["x"], ["y"])], [("x", a)], [("y", a.reshape(2, 12))],
     opset=9)
order = np.argsort(-a, axis=1, kind="stable")[:, :2]
case("opset1_topk_attr", [N("TopK", ["x"], ["v", "i"], k=2, axis=1)], [("x", a)],
     [("v", np.take_along_axis(a, order, 1)), ("i", order.astype(np.int64))], opset=1)
case("opset10_topk_input", [N("TopK", ["x", "k"], ["v", "i"], axis=1)], [("x", a)],
     [("v", np.take_along_axis(a, order, 1)), ("i", order.astype(np.int64))], opset=10,
     consts=[("k", i64(2))])
a, b, c = rnd(2, 3), rnd(3, 4), rnd(4)
case("opset7_gemm_bias_bcast", [N("Gemm", ["a", "b", "c"], ["y"], alpha=0.5)],
     [("a", a), ("b", b), ("c", c)], [("y", 0.5 * (a @ b) + c)], opset=7)
case("opset11_gemm_no_c", [N("Gemm", ["a", "b"], ["y"], transA=1)],
     [("a", a.T.copy()), ("b", b)], [("y", a @ b)], opset=11)
a = rnd(3, 4)
case("opset11_argmax_neg_axis", [N("ArgMax", ["x"], ["y"], axis=-1)], [("x", a)],
     [("y", np.argmax(a, -1)[:, None].astype(np.int64))], opset=11)
case("opset4_concat", [N("Concat", ["a", "b"], ["y"], axis=1)], [("a", a), ("b", a)],
     [("y", np.concatenate([a, a], 1))], opset=4)
case("opset8_max_same_shape", [N("Max", ["a", "b"], ["y"])], [("a", a), ("b", -a)],
     [("y", np.abs(a))], opset=8)

# ---- more corners: integer semantics, degenerate sizes, defaults ----
a, b = i64(-7, 7, -7, 7), i64(3, -3, -3, 3)
# Mod with fmod=0 takes the divisor's sign (Python's %); fmod=1 the dividend's (C's fmod).
binary("int_mod_sign_of_divisor", "Mod", a, b, a % b)
case("float_fmod_sign_of_dividend", [N("Mod", ["a", "b"], ["y"], fmod=1)],
     [("a", a.astype(np.float32)), ("b", b.astype(np.float32))],
     [("y", np.fmod(a, b).astype(np.float32))])
a, b = irnd(2, 3, lo=1, hi=4, dtype=np.int32), irnd(3, lo=0, hi=3, dtype=np.int32)
binary("int32_pow_bcast", "Pow", a, b, np.power(a, b).astype(np.int32))
a, b = rnd(3, 4), rnd(5, 4, 2)
binary("matmul_batch_bcast", "MatMul", rnd(2, 1, 3, 4) * 0 + a, b,
       np.matmul(np.broadcast_to(a, (2, 1, 3, 4)), b))
a, b = irnd(2, 3, dtype=np.int32), irnd(3, 2, dtype=np.int32)
binary("matmul_int32", "MatMul", a, b, (a @ b).astype(np.int32))
a, b, c = rnd(2, 3), rnd(3, 4), rnd(2, 1)
case("gemm_bias_column", [N("Gemm", ["a", "b", "c"], ["y"])], [("a", a), ("b", b), ("c", c)],
     [("y", a @ b + c)])
case("gemm_bias_scalar_transb", [N("Gemm", ["a", "b", "c"], ["y"], transB=1, beta=-1.0)],
     [("a", a), ("b", b.T.copy()), ("c", f32(0.5))], [("y", a @ b - np.float32(0.5))])
a = rnd(3, 1)
case("expand_both_sides", [N("Expand", ["x", "s"], ["y"])], [("x", a)],
     [("y", np.broadcast_to(a, (2, 3, 4)).copy())], consts=[("s", i64(2, 1, 4))])
a = rnd(2, 3)
case("expand_lower_rank_shape", [N("Expand", ["x", "s"], ["y"])], [("x", a)], [("y", a)],
     consts=[("s", i64(3))])
case("tile_zero_repeat", [N("Tile", ["x", "r"], ["y"])], [("x", a)],
     [("y", np.tile(a, (0, 2)))], consts=[("r", i64(0, 2))])
case("range_empty", [N("Range", ["s", "l", "d"], ["y"])], [],
     [("y", np.arange(5, 1, 1).astype(np.int64))],
     consts=[("s", np.array(5, np.int64)), ("l", np.array(1, np.int64)),
             ("d", np.array(1, np.int64))])
case("range_negative_delta", [N("Range", ["s", "l", "d"], ["y"])],
     [("s", f32(1.0)), ("l", f32(-2.0)), ("d", f32(-0.75))],
     [("y", np.arange(1.0, -2.0, -0.75).astype(np.float32))])
a = rnd(3, 4)
case("topk_k0_empty", [N("TopK", ["x", "k"], ["v", "i"])], [("x", a)],
     [("v", np.zeros((3, 0), np.float32)), ("i", np.zeros((3, 0), np.int64))],
     consts=[("k", i64(0))])
t = np.array([[1, 3, 3, 2]], np.float32)
case("topk_ties_lower_index", [N("TopK", ["x", "k"], ["v", "i"])], [("x", t)],
     [("v", f32([[3, 3, 2]])), ("i", np.array([[1, 2, 3]], np.int64))], consts=[("k", i64(3))])
a = rnd(4, 5)
case("slice_reverse_all", [N("Slice", ["x", "s", "e", "ax", "st"], ["y"])], [("x", a)],
     [("y", a[::-1, ::-2])],
     consts=[("s", i64(-1, -1)), ("e", i64(-2**63, -2**63)), ("ax", i64(0, 1)),
             ("st", i64(-1, -2))])
a = rnd(2, 3, 4)
case("transpose_default_perm", [N("Transpose", ["x"], ["y"])], [("x", a)], [("y", a.T.copy())])
case("reshape_copy_zero_and_infer", [N("Reshape", ["x", "s"], ["y"])], [("x", a)],
     [("y", a.reshape(2, 12))], consts=[("s", i64(0, -1))])
case("reducesum_empty_axes_input_all", [N("ReduceSum", ["x", "ax"], ["y"], keepdims=0)],
     [("x", a)], [("y", np.array(a.sum(dtype=np.float32)))], consts=[("ax", i64())])
case("reducesum_empty_axes_input_noop", [N("ReduceSum", ["x", "ax"], ["y"],
                                           noop_with_empty_axes=1)],
     [("x", a)], [("y", a)], consts=[("ax", i64())])
a = rnd(2, 0, 3)
reduce_case("empty_reducemean_nan", "ReduceMean", a, [1], np.full((2, 1, 3), np.nan, np.float32))
reduce_case("empty_reducelogsumexp", "ReduceLogSumExp", a, [1],
            np.full((2, 1, 3), -np.inf, np.float32))
a = rnd(3, 1)
case("softmax_axis_size1", [N("Softmax", ["x"], ["y"])], [("x", a)],
     [("y", np.ones((3, 1), np.float32))])
a = rnd(2, 3)
case("shape_start_end", [N("Shape", ["x"], ["y"], start=-1)], [("x", a)], [("y", i64(3))],
     opset=15)
case("constant_of_shape_scalar_int32", [N("ConstantOfShape", ["s"], ["y"],
                                          value=helper.make_tensor("v", TensorProto.INT32,
                                                                   [1], [7]))],
     [], [("y", np.array(7, np.int32))], consts=[("s", i64())])
a = rnd(3, 4)
case("clip_min_above_max", [N("Clip", ["x", "lo", "hi"], ["y"])], [("x", a)],
     [("y", np.full((3, 4), 0.5, np.float32))], consts=[("lo", f32(1.0)), ("hi", f32(0.5))])
a = f32([-1.7, -0.2, 0.0, 2.9, 1.5])
case("cast_float_to_int_truncates", [N("Cast", ["x"], ["y"], to=TensorProto.INT32)], [("x", a)],
     [("y", np.array([-1, 0, 0, 2, 1], np.int32))])
case("cast_float_to_bool", [N("Cast", ["x"], ["y"], to=TensorProto.BOOL)], [("x", a)],
     [("y", a != 0)])
a = np.array([[True, False]])
case("bool_equal_not", [N("Equal", ["a", "b"], ["e"]), N("Not", ["e"], ["y"])],
     [("a", a), ("b", np.array(True))], [("y", ~(a == True))])  # noqa: E712
ind = irnd(2, 3, lo=-4, hi=4)
hot = (np.arange(4)[None, :, None] == (ind % 4)[:, None, :]).astype(np.float32)
# A negative index counts from depth; axis -2 puts the one-hot axis second of three.
case("onehot_neg_axis", [N("OneHot", ["i", "d", "v"], ["y"], axis=-2)], [("i", ind)],
     [("y", hot * 2 - 1)], consts=[("d", i64(4)), ("v", f32([-1, 1]))])
a = rnd(4)
case("gather_int32_neg_indices_1d", [N("Gather", ["x", "i"], ["y"])],
     [("x", a), ("i", np.array([[-1, 0], [-4, 2]], np.int32))],
     [("y", a[np.array([[3, 0], [0, 2]])])])
a = rnd(3, 3)
case("gather_elements_neg_indices", [N("GatherElements", ["x", "i"], ["y"], axis=-1)],
     [("x", a), ("i", np.array([[-1, 0], [1, -3], [2, 2]], np.int64))],
     [("y", np.take_along_axis(a, np.array([[2, 0], [1, 0], [2, 2]]), 1))])
ia = irnd(2, 4, dtype=np.int32)
case("cumsum_int32_exclusive", [N("CumSum", ["x", "ax"], ["y"], exclusive=1)], [("x", ia)],
     [("y", (np.cumsum(ia, 1) - ia).astype(np.int32))], consts=[("ax", i64(1))])
a = rnd(0, 3)
case("empty_identity_then_add", [N("Identity", ["x"], ["t"]), N("Add", ["t", "t"], ["y"])],
     [("x", a)], [("y", a + a)])
case("empty_trilu", [N("Trilu", ["x"], ["y"])], [("x", a)], [("y", a)])
a, b = rnd(2, 1), rnd(3)
case("mean_bcast", [N("Mean", ["a", "b"], ["y"])], [("a", a), ("b", b)], [("y", (a + b) / 2)])
case("sum_single_input", [N("Sum", ["a"], ["y"])], [("a", a)], [("y", a)])

# ---- empty reductions as intermediates: the kernel must write its identity
# value, since an arena buffer reused from an earlier node holds stale data ----
x, a, b = rnd(2, 4), rnd(2, 0), rnd(0, 4)
case("empty_matmul_k0_intermediate",
     [N("Relu", ["x"], ["t"]), N("Add", ["t", "t"], ["u"]), N("MatMul", ["a", "b"], ["m"]),
      N("Add", ["m", "u"], ["y"])],
     [("x", x), ("a", a), ("b", b)], [("y", 2 * np.maximum(x, 0))])
case("empty_gemm_k0_intermediate",
     [N("Relu", ["x"], ["t"]), N("Add", ["t", "t"], ["u"]), N("Gemm", ["a", "b"], ["m"]),
      N("Add", ["m", "u"], ["y"])],
     [("x", x), ("a", a), ("b", b)], [("y", 2 * np.maximum(x, 0))])
x, e = rnd(2, 3), rnd(2, 0, 3)
for op, ident in (("ReduceSum", 0.0), ("ReduceMax", -np.inf), ("ReduceProd", 1.0)):
    nodes = [N("Relu", ["x"], ["t"]), N("Add", ["t", "t"], ["u"])]
    if op == "ReduceSum":
        nodes.append(N(op, ["e", "ax"], ["r"], keepdims=0))
    else:
        nodes.append(N(op, ["e"], ["r"], axes=[1], keepdims=0))
    nodes.append(N("Add", ["r", "u"], ["y"]))
    case("empty_%s_intermediate" % op.lower(), nodes, [("x", x), ("e", e)],
         [("y", np.float32(ident) + 2 * np.maximum(x, 0))], consts=[("ax", i64(1))])
a = rnd(4, 3)
case("split_zero_size_part", [N("Split", ["x", "s"], ["y0", "y1"])], [("x", a)],
     [("y0", a[:0]), ("y1", a)], consts=[("s", i64(0, 4))])
a = rnd(0, 2)
case("empty_pad_grows_constant", [N("Pad", ["x", "p", "v"], ["y"])], [("x", a)],
     [("y", np.full((2, 2), 3.0, np.float32))], consts=[("p", i64(1, 0, 1, 0)), ("v", f32(3))])
a = rnd(1, 3)
case("expand_to_empty", [N("Expand", ["x", "s"], ["y"])], [("x", a)],
     [("y", np.zeros((0, 3), np.float32))], consts=[("s", i64(0, 3))])
a, b = rnd(0, 2), rnd(0, 3)
case("empty_concat_all_parts", [N("Concat", ["a", "b"], ["y"], axis=1)], [("a", a), ("b", b)],
     [("y", np.zeros((0, 5), np.float32))])
a = rnd(2, 3)
case("opset11_softmax_axis0_whole", [N("Softmax", ["x"], ["y"], axis=0)], [("x", a)],
     [("y", softmax(a.reshape(1, 6), 1).reshape(2, 3))], opset=11)

# ---- empty leading dimension through more kernels (outer extent 0) ----
a = rnd(0, 4)
case("empty_split_outer", [N("Split", ["x"], ["y0", "y1"], axis=1)], [("x", a)],
     [("y0", a[:, :2]), ("y1", a[:, 2:])])
case("empty_slice_of_empty", [N("Slice", ["x", "s", "e", "ax"], ["y"])], [("x", a)],
     [("y", a[:, 1:3])], consts=[("s", i64(1)), ("e", i64(3)), ("ax", i64(1))])
case("empty_argmax_rows", [N("ArgMax", ["x"], ["y"], axis=1)], [("x", a)],
     [("y", np.zeros((0, 1), np.int64))])
case("empty_topk_rows", [N("TopK", ["x", "k"], ["v", "i"])], [("x", a)],
     [("v", a[:, :2]), ("i", np.zeros((0, 2), np.int64))], consts=[("k", i64(2))])
case("empty_cumsum", [N("CumSum", ["x", "ax"], ["y"])], [("x", a)], [("y", a)],
     consts=[("ax", i64(1))])
case("empty_layernorm_rows", [N("LayerNormalization", ["x", "s"], ["y"])],
     [("x", a), ("s", rnd(4))], [("y", a)])
case("empty_where", [N("Where", ["c", "x", "y"], ["z"])],
     [("c", np.zeros((0, 1), bool)), ("x", a), ("y", rnd(4))], [("z", a)])
case("empty_gather_rows", [N("Gather", ["x", "i"], ["y"], axis=1)],
     [("x", a), ("i", i64(3, 0))], [("y", a[:, [3, 0]])])
a = rnd(3, 0)
case("empty_softmax_axis", [N("Softmax", ["x"], ["y"])], [("x", a)], [("y", a)])
a, w = rnd(0, 2, 5, 5), rnd(3, 2, 3, 3)
case("empty_conv_batch", [N("Conv", ["x", "w"], ["y"])], [("x", a), ("w", w)],
     [("y", np.zeros((0, 3, 3, 3), np.float32))])
case("empty_maxpool_batch", [N("MaxPool", ["x"], ["y"], kernel_shape=[2, 2])], [("x", a)],
     [("y", np.zeros((0, 2, 4, 4), np.float32))])
case("empty_global_average_pool_batch", [N("GlobalAveragePool", ["x"], ["y"])], [("x", a)],
     [("y", np.zeros((0, 2, 1, 1), np.float32))])

# ---- more opset changes: defaults and attributes of the first versions ----
a, b = rnd(2, 3), rnd(2, 1)
# Concat-1's axis was optional with default 1; Split-1 took split as an optional input.
case("opset1_concat_default_axis", [N("Concat", ["a", "b"], ["y"])], [("a", a), ("b", b)],
     [("y", np.concatenate([a, b], 1))], opset=1)
case("opset1_split_input", [N("Split", ["x", "s"], ["y0", "y1"], axis=1)], [("x", a)],
     [("y0", a[:, :1]), ("y1", a[:, 1:])], opset=1, consts=[("s", i64(1, 2))])
case("opset6_dropout_is_test", [N("Dropout", ["x"], ["y"], is_test=1, ratio=0.2)], [("x", a)],
     [("y", a)], opset=6)
case("opset6_leakyrelu_default_alpha", [N("LeakyRelu", ["x"], ["y"])], [("x", a)],
     [("y", np.where(a > 0, a, np.float32(0.01) * a))], opset=6)
case("opset1_argmax_defaults", [N("ArgMax", ["x"], ["y"])], [("x", a)],
     [("y", np.argmax(a, 0)[None].astype(np.int64))], opset=1)
ia = irnd(2, 3)
case("opset12_clip_int64_min_only", [N("Clip", ["x", "lo"], ["y"])], [("x", ia)],
     [("y", np.maximum(ia, 0))], opset=12, consts=[("lo", np.array(0, np.int64))])
case("opset13_pad_int64_default_zero", [N("Pad", ["x", "p"], ["y"])], [("x", ia)],
     [("y", np.pad(ia, ((1, 0), (0, 2))))], opset=13, consts=[("p", i64(1, 0, 0, 2))])
a = rnd(1, 1, 2, 2)
up = a.repeat(2, axis=2).repeat(3, axis=3)
case("opset7_upsample_attr", [N("Upsample", ["x"], ["y"], scales=[1.0, 1.0, 2.0, 3.0])],
     [("x", a)], [("y", up)], opset=7)
case("opset9_upsample_input", [N("Upsample", ["x", "sc"], ["y"])], [("x", a)], [("y", up)],
     opset=9, consts=[("sc", f32([1, 1, 2, 3]))])
case("opset10_resize_scales", [N("Resize", ["x", "sc"], ["y"])], [("x", a)], [("y", up)],
     opset=10, consts=[("sc", f32([1, 1, 2, 3]))])

# ---- dtypes other than float32, high ranks, special values ----
def u(*shape, dtype):
    return RNG.integers(0, 100, size=shape).astype(dtype)


for dt, nm in ((np.int8, "int8"), (np.uint8, "uint8"), (np.float16, "float16"),
               (np.float64, "float64"), (bool, "bool")):
    a = u(2, 3, 4, dtype=dt) if dt != np.float16 else rnd(2, 3, 4).astype(dt)
    case("transpose_%s" % nm, [N("Transpose", ["x"], ["y"], perm=[1, 2, 0])], [("x", a)],
         [("y", a.transpose(1, 2, 0))])
    case("concat_gather_%s" % nm,
         [N("Concat", ["x", "x"], ["c"], axis=-1), N("Gather", ["c", "i"], ["y"], axis=2)],
         [("x", a), ("i", i64(7, 0, -3))], [("y", np.concatenate([a, a], -1)[:, :, [7, 0, 5]])])
    case("pad_edge_%s" % nm, [N("Pad", ["x", "p"], ["y"], mode="edge")], [("x", a)],
         [("y", np.pad(a, ((0, 0), (1, 1), (2, 0)), mode="edge"))],
         consts=[("p", i64(0, 1, 2, 0, 1, 0))])
a, b = rnd(3, 1).astype(np.float16), rnd(1, 4).astype(np.float16)
binary("float16_add_bcast", "Add", a, b, a + b)
a, b = rnd(2, 3, 4).astype(np.float64), rnd(4).astype(np.float64)
binary("float64_div_bcast", "Div", a, b, a / b)
a = rnd(2, 3).astype(np.float64)
case("float64_softmax", [N("Softmax", ["x"], ["y"])], [("x", a)], [("y", softmax(a, -1))])
ia = u(2, 0, 3, dtype=np.int32)
reduce_case("empty_reducemax_int32_min", "ReduceMax", ia, [1],
            np.full((2, 1, 3), np.iinfo(np.int32).min, np.int32))
reduce_case("empty_reducemin_int32_max", "ReduceMin", ia, [1],
            np.full((2, 1, 3), np.iinfo(np.int32).max, np.int32))
reduce_case("empty_reducemax_int8_min", "ReduceMax", ia.astype(np.int8), [1],
            np.full((2, 1, 3), -128, np.int8))
reduce_case("empty_reducemin_uint8_max", "ReduceMin", ia.astype(np.uint8), [1],
            np.full((2, 3), 255, np.uint8), keepdims=0)
ia = u(2, 3, 4, dtype=np.int64) - 50
reduce_case("reduceprod_int64", "ReduceProd", ia % 3 + 1, [0, 2], np.prod(ia % 3 + 1, (0, 2),
                                                                          keepdims=True))
a, b = rnd(2, 1, 2, 1, 2, 1, 2, 1), rnd(1, 2, 1, 2, 1, 2, 1, 2)
binary("rank8_bcast_add", "Add", a, b, a + b)
a = rnd(2, 1, 3, 1, 2, 2)
case("rank6_transpose", [N("Transpose", ["x"], ["y"], perm=[5, 3, 1, 0, 4, 2])], [("x", a)],
     [("y", a.transpose(5, 3, 1, 0, 4, 2))])
a, ind = rnd(3, 4, 2), RNG.integers(0, 4, (2, 2, 3)).astype(np.int64)
case("gather_rank3_indices_axis1", [N("Gather", ["x", "i"], ["y"], axis=1)],
     [("x", a), ("i", ind)], [("y", np.take(a, ind, axis=1))])
a = f32([1000, 1001, -1000, 0])
case("softmax_large_values", [N("Softmax", ["x"], ["y"])], [("x", a)], [("y", softmax(a, 0))])
case("logsoftmax_large_values", [N("LogSoftmax", ["x"], ["y"])], [("x", a)],
     [("y", (a - a.max()) - np.log(np.exp(a - a.max()).sum()))])
case("sigmoid_saturates", [N("Sigmoid", ["x"], ["y"])], [("x", f32([-100, 100, -20]))],
     [("y", (1 / (1 + np.exp(-f32([-100, 100, -20]).astype(np.float64)))).astype(np.float32))])
a = f32([-1, 0, 4])
case("sqrt_log_special", [N("Sqrt", ["x"], ["s"]), N("Log", ["x"], ["l"])], [("x", a)],
     [("s", f32([np.nan, 0, 2])), ("l", f32([np.nan, -np.inf, np.log(4)]))])
a, b = f32([-2, 0, -8, 4, 2]), f32([3, 0, 1 / 3, 0.5, -1])
binary("pow_special", "Pow", a, b, f32([-8, 1, np.nan, 2, 0.5]))
a = f32([0.5, 1.5, 2.5, -0.5, -2.5, -1.5, 0.49999997])
case("round_half_even", [N("Round", ["x"], ["y"])], [("x", a)], [("y", np.round(a))])
case("floor_ceil_negative", [N("Floor", ["x"], ["f"]), N("Ceil", ["x"], ["c"])], [("x", a)],
     [("f", np.floor(a)), ("c", np.ceil(a))])
a, b = i64(-7, 7, -7, 7), i64(3, -3, -3, 3)
case("int_fmod_sign_of_dividend", [N("Mod", ["a", "b"], ["y"], fmod=1)], [("a", a), ("b", b)],
     [("y", np.fmod(a, b))])
def f16_overflows_to_inf(a):
    with np.errstate(over="ignore"):
        return a.astype(np.float16)


a = f32([1e10, 65504, 65520, 1 + 2**-11, 1 + 3 * 2**-11, -1e-8])
case("cast_float_to_float16_rounding", [N("Cast", ["x"], ["y"], to=TensorProto.FLOAT16)],
     [("x", a)], [("y", f16_overflows_to_inf(a))])
a = np.array([[True, False, True]])
case("cast_bool_int64_roundtrip", [N("Cast", ["x"], ["i"], to=TensorProto.INT64),
                                    N("Cast", ["i"], ["y"], to=TensorProto.BOOL)],
     [("x", a)], [("i", a.astype(np.int64)), ("y", a)])
a = rnd(3)
case("flatten_rank1_axis1", [N("Flatten", ["x"], ["y"])], [("x", a)], [("y", a.reshape(3, 1))])

# ---- values that are graph outputs and also feed other nodes ----
a = rnd(2, 3)
case("output_also_intermediate", [N("Relu", ["x"], ["r"]), N("Reshape", ["r", "s"], ["t"]),
                                   N("Neg", ["t"], ["y"])],
     [("x", a)], [("r", np.maximum(a, 0)), ("y", -np.maximum(a, 0).reshape(3, 2))],
     consts=[("s", i64(3, 2))])
case("identity_chain_outputs", [N("Identity", ["x"], ["a"]), N("Identity", ["a"], ["b"])],
     [("x", a)], [("a", a), ("b", a)])
case("reshape_input_to_output", [N("Reshape", ["x", "s"], ["y"])], [("x", a)],
     [("y", a.reshape(6))], consts=[("s", i64(6))])
case("squeeze_unsqueeze_roundtrip",
     [N("Unsqueeze", ["x", "ax"], ["u"]), N("Squeeze", ["u", "ax"], ["v"]),
      N("Add", ["v", "x"], ["y"])],
     [("x", a)], [("y", a + a)], consts=[("ax", i64(1))])
order = np.argsort(-a, axis=1, kind="stable")[:, :1]
case("topk_indices_only_used", [N("TopK", ["x", "k"], ["v", "i"])], [("x", a)],
     [("i", order.astype(np.int64))], consts=[("k", i64(1))])
case("split_one_output_unused", [N("Split", ["x"], ["y0", "y1", "y2"], axis=1)], [("x", a)],
     [("y2", a[:, 2:])])
case("constant_initializer_output", [N("Identity", ["c"], ["y"])], [], [("y", a)],
     consts=[("c", a)])

# ---- 64-bit integers past 2^53 (a double path would round them) and
# uint64 past 2^63 (a signed path would misorder them) ----
big = np.array([2**53 + 1, -(2**60) - 3, 2**62 + 7], np.int64)
one = np.array([1, 1, 2], np.int64)
binary("int64_big_add", "Add", big, one, big + one)
binary("int64_big_mul", "Mul", big, i64(1, 1, 1), big)
binary("int64_big_max", "Max", big, big - 1, big)
binary("int64_big_equal", "Equal", big, big + 1 - one, big == big + 1 - one)
case("int64_big_reducesum", [N("ReduceSum", ["x"], ["y"], keepdims=0)], [("x", big[:1])],
     [("y", np.array(big[0], np.int64))])
case("int64_big_cumsum", [N("CumSum", ["x", "ax"], ["y"])], [("x", big)],
     [("y", np.cumsum(big))], consts=[("ax", i64(0))])
case("int64_big_abs_neg", [N("Neg", ["x"], ["n"]), N("Abs", ["x"], ["a"])], [("x", big)],
     [("n", -big), ("a", np.abs(big))])
case("int64_big_clip", [N("Clip", ["x", "lo"], ["y"])], [("x", big)],
     [("y", np.maximum(big, big[0] - 1))], consts=[("lo", np.array(big[0] - 1, np.int64))])
ub = np.array([2**63 + 1, 5, 2**64 - 1], np.uint64)
ua = np.array([1, 2**63, 2**64 - 2], np.uint64)
binary("uint64_big_less", "Less", ub, ua, ub < ua)
binary("uint64_big_max", "Max", ub, ua, np.maximum(ub, ua))
binary("uint64_big_div", "Div", ub, np.array([3], np.uint64), ub // np.uint64(3))
case("uint64_big_argmax", [N("ArgMax", ["x"], ["y"], keepdims=0)], [("x", ub)],
     [("y", np.array(2, np.int64))])
case("uint64_big_reducemax", [N("ReduceMax", ["x"], ["y"], keepdims=0)], [("x", ub)],
     [("y", np.array(ub.max(), np.uint64))])
case("uint64_big_topk", [N("TopK", ["x", "k"], ["v", "i"])], [("x", ub)],
     [("v", np.sort(ub)[::-1][:2].copy()), ("i", i64(2, 0))], consts=[("k", i64(2))])
ui = np.array([2**32 - 1, 7, 2**31], np.uint32)
binary("uint32_big_sub_wraps", "Sub", ui, np.array([1, 8, 1], np.uint32),
       ui - np.array([1, 8, 1], np.uint32))
case("int64_big_where_gather", [N("Where", ["c", "x", "y"], ["w"]),
                                 N("Gather", ["w", "i"], ["z"])],
     [("c", np.array([True, False, True])), ("x", big), ("y", -big), ("i", i64(2, 1))],
     [("z", np.where([True, False, True], big, -big)[[2, 1]])])
a = f32([2.0**31, -2.0**31, -3e18, 3e9])  # in range: an out-of-range cast is undefined
case("cast_float_to_int64_large", [N("Cast", ["x"], ["y"], to=TensorProto.INT64)], [("x", a)],
     [("y", a.astype(np.int64))])
case("cast_uint64_big_to_float", [N("Cast", ["x"], ["y"], to=TensorProto.DOUBLE)], [("x", ub)],
     [("y", ub.astype(np.float64))])
a = rnd(4, 5)
case("slice_axes_out_of_order", [N("Slice", ["x", "s", "e", "ax"], ["y"])], [("x", a)],
     [("y", a[1:3, 2:5])], consts=[("s", i64(2, 1)), ("e", i64(5, 3)), ("ax", i64(1, 0))])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    names = set()
    for name, nodes, inputs, outputs, opset, consts in CASES:
        assert name not in names, name
        names.add(name)
        write(out, name, nodes, inputs, outputs, opset, consts)
    print("%d edge cases in %s" % (len(CASES), out))


if __name__ == "__main__":
    main()
