#!/usr/bin/env python3
"""make_fixtures.py: writes the small hand-made ONNX models the C tests use (run from this folder)."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Names a model file may legally hold that would break naive C generation:
# comment terminators, quotes, backslashes, trigraphs, newlines.
x = 'in */ "x" \\ ??/\nend'
y = 'out */ "y" ??='
node = helper.make_node("Add", [x, x], [y], name='add */ "node" \\')
graph = helper.make_graph(
    [node], "hostile",
    [helper.make_tensor_value_info(x, TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info(y, TensorProto.FLOAT, [2, 3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, "hostile_names.onnx")
arr = np.arange(6, dtype=np.float32).reshape(2, 3)
open("hostile_names_input.pb", "wb").write(numpy_helper.from_array(arr).SerializeToString())

# Distinct names that sanitize to the same C identifier (x_y) must still
# give distinct parameters of the generated NAME_run().
node = helper.make_node("Sub", ["x.y", "x_y"], ["x-y"])
graph = helper.make_graph(
    [node], "clash",
    [helper.make_tensor_value_info("x.y", TensorProto.FLOAT, [2, 3]),
     helper.make_tensor_value_info("x_y", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("x-y", TensorProto.FLOAT, [2, 3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, "name_clash.onnx")
