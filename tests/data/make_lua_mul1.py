#!/usr/bin/env python3
"""make_lua_mul1.py: writes lua_mul1/, the model examples/lua/fold_mul_one.lua is tested on
(run from this folder): MatMul -> Mul by a scalar 1.0 -> Relu -> Mul by a vector of ones ->
Add -> Mul by 0.5 (which must stay), input x [2, 16], output y [2, 8]; with one input and
the output numpy computes for it (input_0.pb, output_0.pb)."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = "lua_mul1"
rng = np.random.default_rng(23)
w = (rng.standard_normal((16, 8)) / 4).astype(np.float32)
b = (rng.standard_normal((8,)) / 10).astype(np.float32)
one = np.array(1.0, np.float32)
ones = np.ones((8,), np.float32)
half = np.array(0.5, np.float32)
nodes = [
    helper.make_node("MatMul", ["x", "w"], ["m"], name="fc"),
    helper.make_node("Mul", ["m", "one"], ["m1"], name="scale_one"),
    helper.make_node("Relu", ["m1"], ["r"], name="relu"),
    helper.make_node("Mul", ["ones", "r"], ["r1"], name="gain_ones"),
    helper.make_node("Add", ["r1", "b"], ["a"], name="bias"),
    helper.make_node("Mul", ["a", "half"], ["y"], name="scale_half"),
]
graph = helper.make_graph(
    nodes, "lua_mul1",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, (2, 16))],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, (2, 8))],
    [numpy_helper.from_array(a, n) for n, a in
     (("w", w), ("b", b), ("one", one), ("ones", ones), ("half", half))])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
os.makedirs(OUT, exist_ok=True)
onnx.save(model, os.path.join(OUT, "model.onnx"))
x = rng.standard_normal((2, 16)).astype(np.float32)
y = ((np.maximum(x @ w, 0) + b) * 0.5).astype(np.float32)
for name, arr, vname in (("input_0.pb", x, "x"), ("output_0.pb", y, "y")):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(numpy_helper.from_array(arr, vname).SerializeToString())
