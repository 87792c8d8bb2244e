#!/usr/bin/python3
"""make_malformed.py: builds broken and hostile ONNX models from real ones, with the one line
onnxcc must answer each with.

usage: make_malformed.py OUT_DIR
Writes OUT_DIR/NAME/model.onnx (and any side files) per case and OUT_DIR/cases.tsv:
name, command (compile|build), extra options (- for none), expected message with {M} for the
model path. run_malformed.sh runs them."""
import os
import shutil
import sys

import onnx
from onnx import TensorProto, helper, numpy_helper
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DIGITS = os.path.join(ROOT, "examples", "digits", "digits.onnx")
NODE = "/usr/share/libonnx-testdata/data/node"

cases = []


def node_model(name):
    return onnx.load(os.path.join(NODE, name, "model.onnx"))


def simple(nodes, inputs, outputs, inits=(), opset=13, **kw):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], **kw)
    return m


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def case(name, model, expect, cmd="compile", opts="", side=None):
    """model: a ModelProto or bytes; side(d) writes side files into the case folder."""
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    data = model if isinstance(model, bytes) else model.SerializeToString()
    with open(path, "wb") as f:
        f.write(data)
    if side:
        side(d)
    cases.append((name, cmd, opts or "-", expect))


def attr_node(op, inputs, outputs, **attrs):
    return helper.make_node(op, inputs, outputs, name="n", **attrs)


def with_attr(node, name, attr_proto):
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    attr_proto.name = name
    node.attribute.append(attr_proto)
    return node


def build_all():
    digits = onnx.load(DIGITS)
    raw = digits.SerializeToString()

    # ---- files that are not models ----
    case("empty_file", b"", "{M}: not a valid ONNX model (the file is empty)")
    case("truncated", raw[: len(raw) // 2], "{M}: not a valid ONNX model (protobuf parse failed)")
    case("truncated_header", raw[:3], "{M}: not a valid ONNX model (protobuf parse failed)")
    # field 1 (ir_version) declared as a length-delimited string: a bad wire type
    case("bad_wire_type", b"\x0a\x05hello" + raw[2:],
         "{M}: not a valid ONNX model (protobuf parse failed)")
    case("not_protobuf", b"\xff" * 64, "{M}: not a valid ONNX model (protobuf parse failed)")
    case("model_too_big", raw, "{M}: the model is %d bytes, above the limit of 1000 "
         "(--limit model-bytes=N raises it; store large weights as external data)" % len(raw),
         opts="--limit model-bytes=1000")
    nograph = onnx.ModelProto()
    nograph.ir_version = 8
    case("no_graph", nograph, "{M}: not a valid ONNX model (no graph)")

    # ---- shapes: huge, negative, overflowing, rank ----
    big = 1 << 21
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [big] * 4)], [f32("y", [big] * 4)])
    case("input_dims_overflow", m, "{M}: input 'x' would have more than 2^63 bytes, above the "
         "limit of 4294967296 (--limit tensor-bytes=N raises it)")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [1 << 41])], [f32("y", [1 << 41])])
    case("input_2p41_elems", m, "{M}: input 'x' would take 8796093022208 bytes, above the "
         "limit of 4294967296 (--limit tensor-bytes=N raises it)")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [100])], [f32("y", [100])])
    case("elems_limit_lowered", m, "{M}: input 'x' would have 100 elements, above the limit "
         "of 10 (--limit tensor-elems=N raises it)", opts="--limit tensor-elems=10")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [1 << 31])], [f32("y", [1 << 31])])
    case("input_8gib", m, "{M}: input 'x' would take 8589934592 bytes, above the limit of "
         "4294967296 (--limit tensor-bytes=N raises it)")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [1] * 9)], [f32("y", [1] * 9)])
    case("input_rank9", m, "{M}: input 'x': rank 9 is above the limit of 8")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [2, 2])], [f32("y", [2, 2])])
    case("rank_limit_lowered", m, "{M}: input 'x': rank 2 is above the limit of 1",
         opts="--limit rank=1")
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-2], float_data=[1.0, 2.0])
    m = simple([helper.make_node("Add", ["x", "w"], ["y"], name="a")],
               [f32("x", [2])], [f32("y", [2])], inits=[t])
    case("negative_dim_init", m, "{M}: initializer 'w': dim 0 is negative (-2)")
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1] * 9, float_data=[1.0])
    m = simple([helper.make_node("Add", ["x", "w"], ["y"], name="a")],
               [f32("x", [1])], [f32("y", [1])], inits=[t])
    case("init_rank9", m, "{M}: initializer 'w': rank 9 exceeds onnxcc's limit of 8")
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[big] * 4, raw_data=b"")
    m = simple([helper.make_node("Add", ["x", "w"], ["y"], name="a")],
               [f32("x", [1])], [f32("y", [1])], inits=[t])
    case("init_dims_overflow", m, "{M}: initializer 'w': float32[2097152,2097152,2097152,"
         "2097152] would have more than 2^63 bytes, above the limit of 4294967296 (--limit "
         "tensor-bytes=N raises it)")
    shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20], np.int64), "s")
    m = simple([helper.make_node("ConstantOfShape", ["s"], ["y"], name="c")],
               [], [f32("y", None)], inits=[shape])
    case("constantofshape_4tib", m, "{M}: node 'c' (ConstantOfShape): output 'y' would take "
         "4398046511104 bytes, above the limit of 4294967296 (--limit tensor-bytes=N raises it)")
    shape = numpy_helper.from_array(np.array([1 << 14, 1 << 14], np.int64), "s")
    m = simple([helper.make_node("ConstantOfShape", ["s"], ["c1"], name="c"),
                helper.make_node("Add", ["c1", "x"], ["y"], name="a")],
               [f32("x", [1 << 14, 1 << 14])], [f32("y", None)], inits=[shape])
    case("arena_limit", m, "{M}: the memory plan needs an arena of at least 1073741824 bytes, "
         "above the limit of 1000000 (--limit arena-bytes=N raises it)",
         opts="--limit arena-bytes=1000000")
    case("weight_limit", digits, "{M}: initializer 'features.3.weight': the model's constants take "
         "at least 19072 bytes with this one, above the limit of 1000 (--limit weight-bytes=N "
         "raises it)", opts="--limit weight-bytes=1000")
    case("node_limit", digits, "{M}: graph 'torch_jit' has %d nodes, above the limit of 2 "
         "(--limit nodes=N raises it)" % len(digits.graph.node), opts="--limit nodes=2")
    case("bad_limit_name", digits, "bad --limit 'bogus=1' (expected NAME=N, NAME one of "
         "model-bytes, tensor-bytes, tensor-elems, rank, nodes, depth, arena-bytes, "
         "weight-bytes, loop-iters, max-elements)", opts="--limit bogus=1")

    # ---- graph structure ----
    m = simple([helper.make_node("Relu", ["b"], ["a"], name="r1"),
                helper.make_node("Relu", ["a"], ["b"], name="r2")],
               [f32("x", [1])], [f32("b", [1])])
    case("cycle", m, "{M}: node 'r1' (Relu): input 'b' is not produced by any earlier node or "
         "graph input")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                helper.make_node("Relu", ["x"], ["y"], name="r2")],
               [f32("x", [1])], [f32("y", [1])])
    case("duplicate_value", m, "{M}: node 'r2' (Relu): output 'y' is already defined by an "
         "earlier node, input or initializer")
    m = simple([helper.make_node("Add", ["x", "nope"], ["y"], name="a")],
               [f32("x", [1])], [f32("y", [1])])
    case("missing_input", m, "{M}: node 'a' (Add): input 'nope' is not produced by any earlier "
         "node or graph input")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [1])], [f32("zz", [1])])
    case("missing_output", m, "{M}: graph output 'zz' is not produced by any node, input or "
         "initializer")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [helper.make_tensor_value_info("x", 99, [1])], [f32("y", [1])])
    case("unknown_dtype_input", m, "{M}: input 'x': dtype unknown (99) is not supported")
    t = helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0])
    t.data_type = 77
    m = simple([helper.make_node("Add", ["x", "w"], ["y"], name="a")],
               [f32("x", [1])], [f32("y", [1])], inits=[t])
    case("unknown_dtype_init", m, "{M}: initializer 'w': dtype unknown (77) is not supported")
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2])
    t.string_data.extend([b"1", b"2"])
    m = simple([helper.make_node("Add", ["x", "w"], ["y"], name="a")],
               [f32("x", [2])], [f32("y", [2])], inits=[t])
    case("string_data_for_float", m, "{M}: initializer 'w': float_data has 0 values, expected "
         "2 for float32[2]")
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4], raw_data=b"\0" * 7)
    m = simple([helper.make_node("Add", ["x", "w"], ["y"], name="a")],
               [f32("x", [4])], [f32("y", [4])], inits=[t])
    case("raw_data_short", m, "{M}: initializer 'w': raw_data has 7 bytes, expected 16 for "
         "float32[4]")
    m = simple([helper.make_node("NoSuchOp", ["x"], ["y"], name="u")],
               [f32("x", [1])], [f32("y", [1])])
    case("unknown_op", m, "{M}: node 'u' (NoSuchOp): not supported")

    # ---- external data ----
    def ext_model(loc, offset=None, length=None):
        t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4])
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", loc), ("offset", offset), ("length", length)):
            if v is not None:
                e = t.external_data.add()
                e.key, e.value = k, str(v)
        return simple([helper.make_node("Add", ["x", "w"], ["y"], name="a")],
                      [f32("x", [4])], [f32("y", [4])], inits=[t])

    def write(name, n):
        return lambda d: open(os.path.join(d, name), "wb").write(b"\0" * n)

    case("ext_missing", ext_model("w.bin"), "{M}: initializer 'w': external data file "
         "'{D}/w.bin' cannot be opened: No such file or directory")
    case("ext_short", ext_model("w.bin"), "{M}: initializer 'w': external data file "
         "'{D}/w.bin' has 8 bytes after offset 0, expected 16 for float32[4]", side=write("w.bin", 8))
    case("ext_offset_past_end", ext_model("w.bin", offset=100), "{M}: initializer 'w': "
         "external data offset 100 is past the end of '{D}/w.bin' (16 bytes)",
         side=write("w.bin", 16))
    case("ext_absolute", ext_model("/etc/passwd"), "{M}: initializer 'w': external data "
         "location '/etc/passwd' is an absolute path; it must be relative to the model's folder")
    case("ext_dotdot", ext_model("../w.bin"), "{M}: initializer 'w': external data location "
         "'../w.bin' leaves the model's folder")
    case("ext_symlink_file", ext_model("w.bin"), "{M}: initializer 'w': external data location "
         "'w.bin' leads outside the model's folder (through a symbolic link)",
         side=lambda d: os.symlink("/etc/passwd", os.path.join(d, "w.bin")))
    case("ext_symlink_dir", ext_model("sub/passwd"), "{M}: initializer 'w': external data "
         "location 'sub/passwd' leads outside the model's folder (through a symbolic link)",
         side=lambda d: os.symlink("/etc", os.path.join(d, "sub")))
    case("ext_not_regular", ext_model("w.bin"), "{M}: initializer 'w': external data file "
         "'{D}/w.bin' is not a regular file", side=lambda d: os.mkdir(os.path.join(d, "w.bin")))



def build_attrs_opsets():
    # ---- wrong-typed attributes ----
    conv = node_model("test_conv_with_strides_padding")
    n = conv.graph.node[0]
    n.name = "c"
    with_attr(n, "strides", helper.make_attribute("strides", [2.0, 2.0]))
    case("conv_strides_float", conv, "{M}: node 'c' (Conv): attribute 'strides' is FLOATS, "
         "expected INTS")
    gat = node_model("test_gather_0")
    gat.graph.node[0].name = "g"
    with_attr(gat.graph.node[0], "axis", helper.make_attribute("axis", "zero"))
    case("gather_axis_string", gat, "{M}: node 'g' (Gather): attribute 'axis' is STRING, "
         "expected INT")
    cast = node_model("test_cast_FLOAT_to_DOUBLE")
    cast.graph.node[0].name = "k"
    with_attr(cast.graph.node[0], "to", helper.make_attribute("to", 1.5))
    case("cast_to_float", cast, "{M}: node 'k' (Cast): attribute 'to' is FLOAT, expected INT")
    def leaky(**fields):
        m = simple([helper.make_node("LeakyRelu", ["x"], ["y"], name="l")],
                   [f32("x", [1])], [f32("y", [1])])
        m.graph.node[0].attribute.append(onnx.AttributeProto(name="alpha", **fields))
        return m

    case("attr_undefined", leaky(type=onnx.AttributeProto.UNDEFINED), "{M}: node 'l' "
         "(LeakyRelu): attribute 'alpha' has no value")
    case("ref_attr_outside_function", leaky(type=onnx.AttributeProto.FLOAT,
                                            ref_attr_name="beta"),
         "{M}: node 'l' (LeakyRelu): attribute 'alpha' refers to 'beta', which only a "
         "function body may do")
    case("attr_type_field_mismatch", leaky(type=onnx.AttributeProto.FLOAT, i=3),
         "{M}: node 'l' (LeakyRelu): attribute 'alpha' is declared FLOAT but holds INT")
    body = helper.make_graph([helper.make_node("Identity", ["c_in"], ["c_out"], name="bi"),
                              helper.make_node("Identity", ["v_in"], ["v_out"], name="vi")],
                             "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                                      f32("c_in", []), f32("v_in", [1])],
                             [f32("c_out", []), f32("v_out", [1])])
    cond = numpy_helper.from_array(np.array(1.0, np.float32), "cond")
    trip = numpy_helper.from_array(np.array(2, np.int64), "trip")
    m = simple([helper.make_node("Loop", ["trip", "cond", "x"], ["y"], name="loop", body=body)],
               [f32("x", [1])], [f32("y", [1])], inits=[cond, trip])
    case("loop_float_condition", m, "{M}: node 'loop' (Loop): the condition is float32, "
         "expected bool")

    # ---- opsets ----
    for nm, ver in (("opset_0", 0), ("opset_999", 999)):
        m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
                   [f32("x", [1])], [f32("y", [1])], opset=ver)
        case(nm, m, "{M}: the model imports opset %d of the default domain; onnxcc knows "
             "opsets 1 to 28" % ver)
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [1])], [f32("y", [1])])
    del m.opset_import[:]
    case("no_opset_import", m, "{M}: the model imports no opset (opset_import is empty)")
    m = simple([helper.make_node("Gelu", ["x"], ["y"], name="ge")],
               [f32("x", [1])], [f32("y", [1])], opset=13)
    case("op_before_its_opset", m, "{M}: node 'ge' (Gelu): Gelu first appears in opset 20; "
         "the model imports opset 13")
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [1])], [f32("y", [1])])
    m.opset_import.append(helper.make_opsetid("", 13))
    case("opset_twice", m, "{M}: opset_import lists the domain '' twice")



def build_nesting():
    # ---- subgraph nesting ----
    inner = helper.make_graph([helper.make_node("Identity", ["x"], ["o"], name="id")], "g0",
                              [], [f32("o", [1])])
    for k in range(1, 6):
        br = inner
        node = helper.make_node("If", ["c"], ["o"], name="if%d" % k, then_branch=br,
                                else_branch=br)
        inner = helper.make_graph([node], "g%d" % k, [], [f32("o", [1])])
    m = simple(list(inner.node), [f32("x", [1]),
               helper.make_tensor_value_info("c", TensorProto.BOOL, [])], [f32("o", [1])])
    case("subgraph_too_deep", m, "{M}: subgraph 'g1' is nested 4 deep, above the limit of 3 "
         "(--limit depth=N raises it)", opts="--limit depth=3")

    # ---- build, not just compile ----
    m = simple([helper.make_node("Relu", ["x"], ["y"], name="r")],
               [f32("x", [1 << 31])], [f32("y", [1 << 31])])
    case("build_input_8gib", m, "{M}: input 'x' would take 8589934592 bytes, above the limit "
         "of 4294967296 (--limit tensor-bytes=N raises it)", cmd="build")
    raw = onnx.load(DIGITS).SerializeToString()
    case("build_truncated", raw[:100], "{M}: not a valid ONNX model (protobuf parse failed)",
         cmd="build")


if __name__ == "__main__":
    OUT = sys.argv[1]
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    build_all()
    build_attrs_opsets()
    build_nesting()
    with open(os.path.join(OUT, "cases.tsv"), "w") as f:
        for c in cases:
            f.write("\t".join(c) + "\n")
    print("%d malformed models in %s" % (len(cases), OUT))
