#!/usr/bin/env python3
"""make_wq_mlp.py: writes wq_mlp/, a small MLP for the weight-only quantization tests (run
from this folder): fc1 Gemm (transB, bias) -> Relu -> fc2 MatMul -> Add -> Relu -> fc3 Gemm
(alpha 0.5, beta 2, bias), input [4, 64], output [4, 10], one input sample and four
calibration samples (calib/sample_K/input_0.pb)."""
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = "wq_mlp"
rng = np.random.default_rng(11)


def t(shape, scale):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


w1, b1 = t((96, 64), 1 / 8), t((96,), 0.1)       # [N, K]: transB = 1
w2, b2 = t((96, 40), 1 / np.sqrt(96)), t((40,), 0.1)  # [K, N]
w3, c3 = t((40, 10), 1 / np.sqrt(40)), t((10,), 0.1)
nodes = [
    helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1", transB=1),
    helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
    helper.make_node("MatMul", ["r1", "w2"], ["m2"], name="fc2"),
    helper.make_node("Add", ["m2", "b2"], ["h2"], name="add2"),
    helper.make_node("Relu", ["h2"], ["r2"], name="relu2"),
    helper.make_node("Gemm", ["r2", "w3", "c3"], ["y"], name="fc3", alpha=0.5, beta=2.0),
]
graph = helper.make_graph(
    nodes, "wq_mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, (4, 64))],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, (4, 10))],
    [numpy_helper.from_array(a, n) for n, a in
     (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2), ("w3", w3), ("c3", c3))])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
onnx.save(model, os.path.join(OUT, "model.onnx"))
with open(os.path.join(OUT, "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(t((4, 64), 1.0), "x").SerializeToString())
for k in range(4):
    d = os.path.join(OUT, "calib", f"sample_{k}")
    os.makedirs(d)
    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(t((4, 64), 1.0), "x").SerializeToString())
