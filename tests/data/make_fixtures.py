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

# Model-local functions (ModelProto.functions), as newer exporters emit them:
# ScaledAdd(x, y) = x * alpha + y with alpha an attribute of the call, and
# Twice calling ScaledAdd twice (a function calling a function). The case
# follows ONNX's test layout so the conformance runner checks it.
import os
scaled_add = helper.make_function(
    "custom", "ScaledAdd", ["x", "y"], ["z"],
    [helper.make_node("Constant", [], ["a"], value_float=0.0),
     helper.make_node("Mul", ["x", "a"], ["t"]),
     helper.make_node("Add", ["t", "y"], ["z"])],
    [helper.make_opsetid("", 13)], ["alpha"])
# the Constant's value comes from the call's alpha
scaled_add.node[0].attribute[0].ref_attr_name = "alpha"
scaled_add.node[0].attribute[0].ClearField("f")
twice = helper.make_function(
    "custom", "Twice", ["x", "y"], ["z"],
    [helper.make_node("ScaledAdd", ["x", "y"], ["t"], domain="custom", alpha=2.0),
     helper.make_node("ScaledAdd", ["t", "y"], ["z"], domain="custom", alpha=0.5)],
    [helper.make_opsetid("", 13), helper.make_opsetid("custom", 1)], [])
graph = helper.make_graph(
    [helper.make_node("ScaledAdd", ["x", "y"], ["u"], domain="custom", alpha=3.0, name="call"),
     helper.make_node("Twice", ["u", "y"], ["v"], domain="custom", name="twice")],
    "local_functions",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
     helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    [helper.make_tensor_value_info("v", TensorProto.FLOAT, [2, 3])])
model = helper.make_model(graph, functions=[scaled_add, twice],
                          opset_imports=[helper.make_opsetid("", 13),
                                         helper.make_opsetid("custom", 1)])
case = "cases/test_local_functions"
os.makedirs(case + "/test_data_set_0", exist_ok=True)
onnx.save(model, case + "/model.onnx")
xv = np.arange(6, dtype=np.float32).reshape(2, 3)
yv = np.full((2, 3), 0.25, dtype=np.float32)
u = xv * 3 + yv
v = (u * 2 + yv) * 0.5 + yv
for k, arr in enumerate([xv, yv]):
    open(f"{case}/test_data_set_0/input_{k}.pb", "wb").write(
        numpy_helper.from_array(arr).SerializeToString())
open(f"{case}/test_data_set_0/output_0.pb", "wb").write(
    numpy_helper.from_array(v.astype(np.float32)).SerializeToString())

# If whose branches disagree in shape: the output's shape depends on the
# condition, so onnxcc must compile the condition in rather than select.
then_g = helper.make_graph(
    [helper.make_node("Constant", [], ["t"], value=numpy_helper.from_array(
        np.array([1, 2, 3], dtype=np.float32)))], "then", [],
    [helper.make_tensor_value_info("t", TensorProto.FLOAT, [3])])
else_g = helper.make_graph(
    [helper.make_node("Constant", [], ["e"], value=numpy_helper.from_array(
        np.array([7], dtype=np.float32)))], "else", [],
    [helper.make_tensor_value_info("e", TensorProto.FLOAT, [1])])
graph = helper.make_graph(
    [helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)],
    "if_shapes", [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
case = "cases/test_if_branch_shapes"
os.makedirs(case + "/test_data_set_0", exist_ok=True)
onnx.save(model, case + "/model.onnx")
open(f"{case}/test_data_set_0/input_0.pb", "wb").write(
    numpy_helper.from_array(np.array(True)).SerializeToString())
open(f"{case}/test_data_set_0/output_0.pb", "wb").write(
    numpy_helper.from_array(np.array([1, 2, 3], dtype=np.float32)).SerializeToString())
# String tensors through every layer: a string input, string constants with
# characters C needs escaped, Cast to string and StringNormalizer (both make
# strings in a pool) and a Concat that reads them after the pools' nodes ran.
nodes = [
    helper.make_node("Constant", [], ["c"], value=helper.make_tensor(
        "c", TensorProto.STRING, [3], [b'a"b??/', "caf\u00e9".encode(), b"x\\y"])),
    helper.make_node("Cast", ["x"], ["xs"], to=TensorProto.STRING),
    helper.make_node("StringNormalizer", ["s"], ["n"], case_change_action="UPPER"),
    helper.make_node("Concat", ["xs", "c", "n"], ["y"], axis=0),
]
graph = helper.make_graph(
    nodes, "strings",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3]),
     helper.make_tensor_value_info("s", TensorProto.STRING, [2])],
    [helper.make_tensor_value_info("y", TensorProto.STRING, [8])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, "strings.onnx")
arr = np.array([0.5, -2, 1e-5], dtype=np.float32)
open("strings_x.pb", "wb").write(numpy_helper.from_array(arr).SerializeToString())
arr = np.array(["Gr\u00fc\u00dfe", "abc"], dtype=object)
open("strings_s.pb", "wb").write(numpy_helper.from_array(arr).SerializeToString())

# If on a run-time condition runs only the branch taken: the then-branch
# gathers rows by an index input that is out of range whenever the else-
# branch is taken, so running both branches would fail those sets. The
# nested case puts a second If inside the outer then-branch.
def write_sets(case, sets):
    for s, (ins, out) in enumerate(sets):
        d = f"{case}/test_data_set_{s}"
        os.makedirs(d, exist_ok=True)
        for k, arr in enumerate(ins):
            open(f"{d}/input_{k}.pb", "wb").write(
                numpy_helper.from_array(arr).SerializeToString())
        open(f"{d}/output_0.pb", "wb").write(numpy_helper.from_array(out).SerializeToString())


def gather_branch(name, out):
    return helper.make_graph(
        [helper.make_node("Gather", ["data", "idx"], [out], axis=0)], name, [],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [2, 3])])


def slice_branch(name, out, neg):
    nodes = [helper.make_node("Constant", [], [name + "_s"], value=numpy_helper.from_array(
                 np.array([0], dtype=np.int64))),
             helper.make_node("Constant", [], [name + "_e"], value=numpy_helper.from_array(
                 np.array([2], dtype=np.int64))),
             helper.make_node("Slice", ["data", name + "_s", name + "_e"],
                              [name + "_t" if neg else out])]
    if neg:
        nodes.append(helper.make_node("Neg", [name + "_t"], [out]))
    return helper.make_graph(nodes, name, [],
                             [helper.make_tensor_value_info(out, TensorProto.FLOAT, [2, 3])])


data = np.arange(12, dtype=np.float32).reshape(4, 3)
good, bad = np.array([3, 1], dtype=np.int64), np.array([7, -9], dtype=np.int64)
io = [helper.make_tensor_value_info("data", TensorProto.FLOAT, [4, 3]),
      helper.make_tensor_value_info("idx", TensorProto.INT64, [2])]
graph = helper.make_graph(
    [helper.make_node("If", ["c"], ["y"], then_branch=gather_branch("then", "g"),
                      else_branch=slice_branch("else", "e", False))],
    "if_untaken", [helper.make_tensor_value_info("c", TensorProto.BOOL, [])] + io,
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
case = "cases/test_if_untaken_branch"
os.makedirs(case, exist_ok=True)
onnx.save(model, case + "/model.onnx")
write_sets(case, [([np.array(False), data, bad], data[0:2]),
                  ([np.array(True), data, good], data[good])])

inner = helper.make_graph(
    [helper.make_node("If", ["c2"], ["i"], then_branch=gather_branch("ithen", "ig"),
                      else_branch=slice_branch("ielse", "ie", True))],
    "outer_then", [], [helper.make_tensor_value_info("i", TensorProto.FLOAT, [2, 3])])
graph = helper.make_graph(
    [helper.make_node("If", ["c1"], ["y"], then_branch=inner,
                      else_branch=slice_branch("oelse", "oe", False))],
    "if_nested_untaken",
    [helper.make_tensor_value_info("c1", TensorProto.BOOL, []),
     helper.make_tensor_value_info("c2", TensorProto.BOOL, [])] + io,
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
case = "cases/test_if_nested_untaken_branch"
os.makedirs(case, exist_ok=True)
onnx.save(model, case + "/model.onnx")
t, f = np.array(True), np.array(False)
write_sets(case, [([f, t, data, bad], data[0:2]),
                  ([t, f, data, bad], -data[0:2]),
                  ([t, t, data, good], data[good]),
                  ([f, f, data, bad], data[0:2])])
