#!/usr/bin/python3
"""Writes a QDQ int8 resnet18 (uint8 activations, int8 per-channel weights) from the fp32 bench model.

Usage: /usr/bin/python3 bench/qdq_resnet18.py [FP32_MODEL] [OUT_DIR]

FP32_MODEL defaults to build/bench-models/resnet18/model.onnx (bench/make_models.py;
BatchNorm is already folded into the Convs). OUT_DIR (default build/bench-models/
resnet18_qdq) gets model.onnx and test_data_set_0/{input_0,output_0}.pb, the output
being the fp32 model's on the same input (so ort_bench's --expect is not used on it:
int8 is not within 1e-3 of fp32).

Calibration: the fp32 graph is run here in torch (its seven op types) on the sample
input and 7 seeded random normal images; each activation's range is [min, max] over
them (min/max calibration, with 0 always inside). The QDQ form is the one ONNX
Runtime's quantize_static writes: a Relu after a Conv or Add is dropped and the
QuantizeLinear after it gets a [0, max] range (zero point 0, so the uint8 clamp is
the Relu); MaxPool and Flatten keep their input's scale and zero point; weights are
int8 symmetric per output channel (scale max|w|/127), biases int32 with scale
x_scale * w_scale; the model's output stays float32.
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper as nh
import torch
import torch.nn.functional as F
from onnx import helper, TensorProto

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def run_fp32(model, x):
    """Every tensor of the graph on input x, in torch."""
    env = {model.graph.input[0].name: torch.from_numpy(x.copy())}
    for t in model.graph.initializer:
        env[t.name] = torch.from_numpy(nh.to_array(t).copy())
    for n in model.graph.node:
        a = attrs(n)
        i = [env[k] for k in n.input if k]
        if n.op_type == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            assert p[0] == p[2] and p[1] == p[3]
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]),
                         (p[0], p[1]), a.get("dilations", [1, 1]), a.get("group", 1))
        elif n.op_type == "Relu":
            y = F.relu(i[0])
        elif n.op_type == "Add":
            y = i[0] + i[1]
        elif n.op_type == "MaxPool":
            p = a.get("pads", [0, 0, 0, 0])
            y = F.max_pool2d(i[0], a["kernel_shape"], a.get("strides", [1, 1]), (p[0], p[1]))
        elif n.op_type == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif n.op_type == "Flatten":
            y = torch.flatten(i[0], a.get("axis", 1))
        elif n.op_type == "Gemm":
            w = i[1].t() if a.get("transB", 0) else i[1]
            y = i[0] @ w + (i[2] if len(i) > 2 else 0)
        else:
            raise SystemExit(f"qdq_resnet18: op {n.op_type} not handled")
        env[n.output[0]] = y
    return env


def u8_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    s = (hi - lo) / 255.0 or 1.0
    z = int(np.clip(np.round(-lo / s), 0, 255))
    return np.float32(s), np.uint8(z)


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "build/bench-models/resnet18/model.onnx")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        ROOT, "build/bench-models/resnet18_qdq")
    model = onnx.load(src)
    g = model.graph
    sample = nh.to_array(onnx.load_tensor(os.path.join(os.path.dirname(src),
                                                       "test_data_set_0/input_0.pb")))
    rng = np.random.default_rng(7)
    inputs = [sample] + [rng.standard_normal(sample.shape).astype(np.float32) for _ in range(7)]
    lo, hi = {}, {}
    with torch.no_grad():
        for x in inputs:
            for k, v in run_fp32(model, x).items():
                if k in {t.name for t in g.initializer}:
                    continue
                lo[k] = min(lo.get(k, 0.0), float(v.min()))
                hi[k] = max(hi.get(k, 0.0), float(v.max()))
        ref = run_fp32(model, sample)[g.output[0].name].numpy()

    inits = {t.name: nh.to_array(t) for t in g.initializer}
    readers = {}
    for n in g.node:
        for k in n.input:
            readers.setdefault(k, []).append(n)
    # A Relu after a Conv or Add goes: its producer's output takes its name and range.
    rename, drop = {}, set()
    for n in g.node:
        if n.op_type == "Relu":
            p = [m for m in g.node if n.input[0] in m.output][0]
            if p.op_type in ("Conv", "Add") and len(readers[n.input[0]]) == 1:
                rename[n.input[0]] = n.output[0]
                drop.add(id(n))
    nodes, new_inits, qp = [], [], {}

    def const(name, arr):
        new_inits.append(nh.from_array(arr, name))
        return name

    def qdq(name, params=None):
        """name (float) -> Q -> DQ: returns the dequantized tensor's name."""
        s, z = params or u8_params(lo[name], hi[name])
        qp[name] = (s, z)
        sn, zn = const(name + "_scale", np.array(s, np.float32)), const(name + "_zp", np.array(z, np.uint8))
        nodes.append(helper.make_node("QuantizeLinear", [name, sn, zn], [name + "_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [name + "_q", sn, zn], [name + "_dq"]))
        return name + "_dq"

    dq = {g.input[0].name: qdq(g.input[0].name)}
    for n in g.node:
        if id(n) in drop:
            continue
        n = onnx.NodeProto.FromString(n.SerializeToString())
        outs = [rename.get(o, o) for o in n.output]
        del n.output[:]
        n.output.extend(outs)
        x = n.input[0]
        xs = qp[x][0]
        ins = [dq[k] if k in dq else k for k in n.input]
        if n.op_type in ("Conv", "Gemm"):
            w = inits[n.input[1]]
            ws = np.maximum(np.abs(w.reshape(w.shape[0], -1)).max(axis=1), 1e-12) / 127.0
            ws = ws.astype(np.float32)
            wq = np.clip(np.round(w / ws.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127)
            wn = n.input[1]
            const(wn + "_q", wq.astype(np.int8))
            const(wn + "_s", ws)
            const(wn + "_z", np.zeros(ws.shape, np.int8))
            nodes.append(helper.make_node("DequantizeLinear", [wn + "_q", wn + "_s", wn + "_z"],
                                          [wn + "_dq"], axis=0))
            ins[1] = wn + "_dq"
            if len(n.input) > 2:
                b, bs = inits[n.input[2]], (xs * ws).astype(np.float32)
                bn = n.input[2]
                const(bn + "_q", np.round(b / bs).astype(np.int32))
                const(bn + "_s", bs)
                const(bn + "_z", np.zeros(bs.shape, np.int32))
                nodes.append(helper.make_node("DequantizeLinear", [bn + "_q", bn + "_s", bn + "_z"],
                                              [bn + "_dq"], axis=0))
                ins[2] = bn + "_dq"
        del n.input[:]
        n.input.extend(ins)
        nodes.append(n)
        y = n.output[0]
        if y == g.output[0].name:
            continue
        shared = qp[x] if n.op_type in ("MaxPool", "Flatten") else None
        dq[y] = qdq(y, shared)

    keep = {i.name for i in g.initializer} - {k for n in g.node if n.op_type in ("Conv", "Gemm")
                                              for k in n.input[1:]}
    graph = helper.make_graph(nodes, g.name + "_qdq", list(g.input), list(g.output),
                              [t for t in g.initializer if t.name in keep] + new_inits)
    qm = helper.make_model(graph, opset_imports=model.opset_import,
                           producer_name="onnxcc bench/qdq_resnet18.py")
    onnx.checker.check_model(qm)
    os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
    onnx.save(qm, os.path.join(out, "model.onnx"))
    onnx.save_tensor(nh.from_array(sample, "input"), os.path.join(out, "test_data_set_0/input_0.pb"))
    onnx.save_tensor(nh.from_array(ref, g.output[0].name),
                     os.path.join(out, "test_data_set_0/output_0.pb"))
    print(f"wrote {out}/model.onnx: {len(nodes)} nodes, {len(qp)} quantized activations")


if __name__ == "__main__":
    main()
