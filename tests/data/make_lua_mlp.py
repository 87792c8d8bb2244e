#!/usr/bin/env python3
"""make_lua_mlp.py: writes lua_mlp/, the model examples/lua/matmul_add_gemm.lua is tested on
(run from this folder): an MLP as exporters write it, 2-D MatMul then Add of a bias, twice
(with a Relu between), then Softmax; input x [4, 32], output y [4, 10]; with one input
and the output numpy computes for it (input_0.pb, output_0.pb)."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = "lua_mlp"
rng = np.random.default_rng(29)
w1 = (rng.standard_normal((32, 64)) / 6).astype(np.float32)
b1 = (rng.standard_normal((64,)) / 10).astype(np.float32)
w2 = (rng.standard_normal((64, 10)) / 8).astype(np.float32)
b2 = (rng.standard_normal((10,)) / 10).astype(np.float32)
nodes = [
    helper.make_node("MatMul", ["x", "w1"], ["m1"], name="fc1/MatMul"),
    helper.make_node("Add", ["m1", "b1"], ["a1"], name="fc1/Add"),
    helper.make_node("Relu", ["a1"], ["r1"], name="relu"),
    helper.make_node("MatMul", ["r1", "w2"], ["m2"], name="fc2/MatMul"),
    helper.make_node("Add", ["b2", "m2"], ["a2"], name="fc2/Add"),
    helper.make_node("Softmax", ["a2"], ["y"], name="softmax", axis=-1),
]
graph = helper.make_graph(
    nodes, "lua_mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, (4, 32))],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, (4, 10))],
    [numpy_helper.from_array(a, n) for n, a in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2))])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
os.makedirs(OUT, exist_ok=True)
onnx.save(model, os.path.join(OUT, "model.onnx"))
x = rng.standard_normal((4, 32)).astype(np.float32)
z = np.maximum(x @ w1 + b1, 0) @ w2 + b2
e = np.exp(z - z.max(axis=-1, keepdims=True))
y = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
for name, arr, vname in (("input_0.pb", x, "x"), ("output_0.pb", y, "y")):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(numpy_helper.from_array(arr, vname).SerializeToString())
