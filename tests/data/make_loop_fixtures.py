#!/usr/bin/env python3
"""make_loop_fixtures.py: Loops whose trip count or condition is a run-time input (run from this folder).

Each case follows ONNX's test layout; the conformance runner builds one
binary per case and runs every data set through it, so the sets below give
the same binary several trip counts. The default bound (--loop-max) is 4096.
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BOUND = 4096


def write_sets(case, sets):
    for s, (ins, outs) in enumerate(sets):
        d = f"{case}/test_data_set_{s}"
        os.makedirs(d, exist_ok=True)
        for k, arr in enumerate(ins):
            open(f"{d}/input_{k}.pb", "wb").write(numpy_helper.from_array(arr).SerializeToString())
        for k, arr in enumerate(outs):
            open(f"{d}/output_{k}.pb", "wb").write(numpy_helper.from_array(arr).SerializeToString())


def save(graph, case, opset=13):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model)
    os.makedirs(case, exist_ok=True)
    onnx.save(model, case + "/model.onnx")


def const(name, arr):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(arr))


# A for-loop with the trip count M an input and no condition: y carried and
# also scanned, two values swapped every iteration (a <- b, b <- a + 1: the
# results overlap each other's state), the iteration number and an outer
# value read in the body. Trip counts 0, 1, 5 and the bound.
f = TensorProto.FLOAT
body = helper.make_graph(
    [const("half", np.array(0.5, np.float32)),
     const("one", np.array(1.0, np.float32)),
     helper.make_node("Cast", ["i"], ["i_f"], to=f),
     helper.make_node("Mul", ["y_in", "half"], ["y_half"]),
     helper.make_node("Add", ["x", "i_f"], ["x_i"]),
     helper.make_node("Add", ["y_half", "x_i"], ["y_out"]),
     helper.make_node("Identity", ["b_in"], ["a_out"]),
     helper.make_node("Add", ["a_in", "one"], ["b_out"]),
     helper.make_node("Mul", ["y_out", "a_in"], ["scan"]),
     helper.make_node("Identity", ["c_in"], ["c_out"])],
    "body",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("y_in", f, [3]),
     helper.make_tensor_value_info("a_in", f, [1]),
     helper.make_tensor_value_info("b_in", f, [1])],
    [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("y_out", f, [3]),
     helper.make_tensor_value_info("a_out", f, [1]),
     helper.make_tensor_value_info("b_out", f, [1]),
     helper.make_tensor_value_info("scan", f, [3])])
graph = helper.make_graph(
    [helper.make_node("Loop", ["M", "", "x", "a0", "b0"], ["y", "a", "b", "ys"], body=body)],
    "loop_trip_count",
    [helper.make_tensor_value_info("M", TensorProto.INT64, []),
     helper.make_tensor_value_info("x", f, [3]),
     helper.make_tensor_value_info("a0", f, [1]),
     helper.make_tensor_value_info("b0", f, [1])],
    [helper.make_tensor_value_info("y", f, [3]),
     helper.make_tensor_value_info("a", f, [1]),
     helper.make_tensor_value_info("b", f, [1]),
     helper.make_tensor_value_info("ys", f, [None, 3])])
save(graph, "cases/test_loop_runtime_trip_count")


def trip_ref(m, x, a, b):
    y, ys = x.copy(), []
    for i in range(m):
        y = (y * np.float32(0.5) + (x + np.float32(i))).astype(np.float32)
        ys.append(y * a)
        a, b = b, (a + np.float32(1)).astype(np.float32)
    return [y, a, b, np.array(ys, np.float32).reshape(m, 3)]


x = np.array([1.0, -2.0, 0.25], np.float32)
a0, b0 = np.array([2.0], np.float32), np.array([-1.0], np.float32)
write_sets("cases/test_loop_runtime_trip_count",
           [([np.array(m, np.int64), x, a0, b0], trip_ref(m, x, a0, b0))
            for m in (5, 0, 1, BOUND)])

# A loop that the condition ends: M (an input, here above the bound) only
# caps it; acc grows by x (even iterations) or 2x (odd: an If on a value of
# the iteration, so a run-time branch inside the body) until its sum reaches
# the limit. The scan output's length is the trip count.
then_g = helper.make_graph([helper.make_node("Add", ["acc_in", "x"], ["t"])], "then", [],
                           [helper.make_tensor_value_info("t", f, [2])])
else_g = helper.make_graph([helper.make_node("Add", ["acc_in", "x2"], ["e"])], "else", [],
                           [helper.make_tensor_value_info("e", f, [2])])
body = helper.make_graph(
    [const("two", np.array(2, np.int64)),
     const("zero", np.array(0, np.int64)),
     helper.make_node("Mod", ["i", "two"], ["odd"]),
     helper.make_node("Equal", ["odd", "zero"], ["even"]),
     helper.make_node("Add", ["x", "x"], ["x2"]),
     helper.make_node("If", ["even"], ["acc_out"], then_branch=then_g, else_branch=else_g),
     helper.make_node("ReduceSum", ["acc_out"], ["total"], keepdims=0),
     helper.make_node("Less", ["total", "limit"], ["c_out"])],
    "body",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("acc_in", f, [2])],
    [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("acc_out", f, [2]),
     helper.make_tensor_value_info("acc_out", f, [2])])
graph = helper.make_graph(
    [helper.make_node("Loop", ["M", "c0", "acc0"], ["acc", "accs"], body=body)],
    "loop_condition",
    [helper.make_tensor_value_info("M", TensorProto.INT64, []),
     helper.make_tensor_value_info("c0", TensorProto.BOOL, []),
     helper.make_tensor_value_info("acc0", f, [2]),
     helper.make_tensor_value_info("x", f, [2]),
     helper.make_tensor_value_info("limit", f, [])],
    [helper.make_tensor_value_info("acc", f, [2]),
     helper.make_tensor_value_info("accs", f, [None, 2])])
save(graph, "cases/test_loop_condition_exit")


def cond_ref(m, c, acc, x, limit):
    accs, i = [], 0
    while i < m and c:
        acc = (acc + (x if i % 2 == 0 else x + x)).astype(np.float32)
        accs.append(acc)
        c = acc.sum() < limit
        i += 1
    return [acc, np.array(accs, np.float32).reshape(len(accs), 2)]


sets = []
for m, c, limit in ((1 << 40, True, 30.0), (3, True, 30.0), (1 << 40, False, 30.0),
                    (1 << 40, True, -1.0), (1 << 40, True, 3000.0)):
    ins = [np.array(m, np.int64), np.array(c), np.array([0.5, 0.25], np.float32),
           np.array([1.0, 2.0], np.float32), np.array(limit, np.float32)]
    sets.append((ins, cond_ref(*ins)))
write_sets("cases/test_loop_condition_exit", sets)

# The same body with M = 10 and the initial condition constants: the first
# iteration unrolls, the second's condition is known only at run time, so
# the Loop starts over as a run-time loop from its first inputs.
graph = helper.make_graph(
    [const("M", np.array(10, np.int64)), const("c0", np.array(True)),
     helper.make_node("Loop", ["M", "c0", "acc0"], ["acc", "accs"], body=body)],
    "loop_condition_restart",
    [helper.make_tensor_value_info("acc0", f, [2]),
     helper.make_tensor_value_info("x", f, [2]),
     helper.make_tensor_value_info("limit", f, [])],
    [helper.make_tensor_value_info("acc", f, [2]),
     helper.make_tensor_value_info("accs", f, [None, 2])])
save(graph, "cases/test_loop_condition_restart")
sets = []
for limit in (30.0, -1.0, 3000.0):
    ins = [np.array([0.5, 0.25], np.float32), np.array([1.0, 2.0], np.float32),
           np.array(limit, np.float32)]
    sets.append((ins, cond_ref(10, True, *ins)))
write_sets("cases/test_loop_condition_restart", sets)

# Not a conformance case: a run-time Loop whose carried value grows every
# iteration (Concat), which onnxcc refuses with the value's name
# (tests/unit/test_loop.c).
body = helper.make_graph(
    [helper.make_node("Concat", ["v_in", "v_in"], ["v_out"], axis=0),
     helper.make_node("Identity", ["c_in"], ["c_out"])],
    "body",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("v_in", f, [None])],
    [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("v_out", f, [None])])
graph = helper.make_graph(
    [helper.make_node("Loop", ["M", "", "v0"], ["v"], body=body)], "loop_growing",
    [helper.make_tensor_value_info("M", TensorProto.INT64, []),
     helper.make_tensor_value_info("v0", f, [2])],
    [helper.make_tensor_value_info("v", f, [None])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, "loop_growing.onnx")

# Nested run-time loops: the outer loop runs M1 times; each iteration an
# inner loop runs M2 times (M2 read from the outer scope) adding i * j + x to
# the inner value, which the outer body adds to its own and also scans.
inner = helper.make_graph(
    [helper.make_node("Mul", ["i", "j"], ["ij"]),
     helper.make_node("Cast", ["ij"], ["ij_f"], to=f),
     helper.make_node("Add", ["s_in", "ij_f"], ["s1"]),
     helper.make_node("Add", ["s1", "x"], ["s_out"]),
     helper.make_node("Identity", ["ci"], ["co"])],
    "inner",
    [helper.make_tensor_value_info("j", TensorProto.INT64, []),
     helper.make_tensor_value_info("ci", TensorProto.BOOL, []),
     helper.make_tensor_value_info("s_in", f, [2])],
    [helper.make_tensor_value_info("co", TensorProto.BOOL, []),
     helper.make_tensor_value_info("s_out", f, [2])])
outer = helper.make_graph(
    [const("z", np.zeros(2, np.float32)),
     helper.make_node("Loop", ["M2", "", "z"], ["s"], body=inner),
     helper.make_node("Add", ["t_in", "s"], ["t_out"]),
     helper.make_node("Identity", ["c_in"], ["c_out"])],
    "outer",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("t_in", f, [2])],
    [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("t_out", f, [2]),
     helper.make_tensor_value_info("s", f, [2])])
graph = helper.make_graph(
    [helper.make_node("Loop", ["M1", "", "t0"], ["t", "ss"], body=outer)],
    "loop_nested",
    [helper.make_tensor_value_info("M1", TensorProto.INT64, []),
     helper.make_tensor_value_info("M2", TensorProto.INT64, []),
     helper.make_tensor_value_info("t0", f, [2]),
     helper.make_tensor_value_info("x", f, [2])],
    [helper.make_tensor_value_info("t", f, [2]),
     helper.make_tensor_value_info("ss", f, [None, 2])])
save(graph, "cases/test_loop_nested")


def nested_ref(m1, m2, t, x):
    ss = []
    for i in range(m1):
        s = np.zeros(2, np.float32)
        for j in range(m2):
            s = (s + np.float32(i * j) + x).astype(np.float32)
        t = (t + s).astype(np.float32)
        ss.append(s)
    return [t, np.array(ss, np.float32).reshape(len(ss), 2)]


sets = []
for m1, m2 in ((3, 4), (0, 2), (2, 0), (7, 1)):
    ins = [np.array(m1, np.int64), np.array(m2, np.int64), np.array([1.0, -1.0], np.float32),
           np.array([0.5, 2.0], np.float32)]
    sets.append((ins, nested_ref(*ins)))
write_sets("cases/test_loop_nested", sets)

# Not a conformance case: a run-time Loop's scan output (its length is the
# trip count, known only at run time) read by another node, which onnxcc
# refuses by name (tests/unit/test_loop.c).
body = helper.make_graph(
    [helper.make_node("Identity", ["c_in"], ["c_out"]),
     helper.make_node("Identity", ["v_in"], ["v_out"]),
     helper.make_node("Identity", ["v_in"], ["scan"])],
    "body",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("c_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("v_in", f, [2])],
    [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("v_out", f, [2]),
     helper.make_tensor_value_info("scan", f, [2])])
graph = helper.make_graph(
    [helper.make_node("Loop", ["M", "", "v0"], ["v", "vs"], body=body),
     helper.make_node("Relu", ["vs"], ["r"])], "loop_scan_consumed",
    [helper.make_tensor_value_info("M", TensorProto.INT64, []),
     helper.make_tensor_value_info("v0", f, [2])],
    [helper.make_tensor_value_info("r", f, [None, 2])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, "loop_scan_consumed.onnx")
