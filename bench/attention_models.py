#!/usr/bin/env python3
"""Writes the Attention and RotaryEmbedding benchmark models, each as the opset-23 node and as its expansion into plain ops.

Usage: python3 bench/attention_models.py [OUTDIR]      (default build/attention-models)

Standard library only (no onnx, no numpy): the protobuf messages are written
by hand, field numbers from onnx.proto. Each model goes to OUTDIR/<name>/
model.onnx with test_data_set_0/input_K.pb (deterministic pseudo-random
values), the layout bench/attention_bench.sh and bench/ort_bench.js read.

Shapes are a BERT-base / Llama-style layer's: batch 1, 12 query heads, head
size 64, sequence 128 and 512; a GQA case (4 KV heads) and a causal case. The
expanded forms follow the ONNX function body of each op (Q and K scaled by
sqrt(scale) each, MatMul, the causal bias added, Softmax, MatMul; GQA by
repeating each KV head), which is what an exporter without the fused op
would write.
"""
import math
import os
import struct
import sys

FLOAT, INT64 = 1, 7
OPSET = 23


# ---- protobuf wire format ----

def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, v):
    return key(field, 0) + varint(v)


def f_bytes(field, b):
    if isinstance(b, str):
        b = b.encode()
    return key(field, 2) + varint(len(b)) + b


def f_float(field, v):
    return key(field, 5) + struct.pack("<f", v)


# ---- ONNX messages ----

def tensor(name, dtype, dims, raw):
    return b"".join(f_varint(1, d) for d in dims) + f_varint(2, dtype) + f_bytes(8, name) + \
        f_bytes(9, raw)


def value_info(name, dtype, dims):
    shape = b"".join(f_bytes(1, f_varint(1, d)) for d in dims)
    ttype = f_varint(1, dtype) + f_bytes(2, shape)
    return f_bytes(1, name) + f_bytes(2, f_bytes(1, ttype))


def attr(name, v):
    if isinstance(v, float):
        return f_bytes(1, name) + f_float(2, v) + f_varint(20, 1)
    if isinstance(v, int):
        return f_bytes(1, name) + f_varint(3, v) + f_varint(20, 2)
    return f_bytes(1, name) + b"".join(f_varint(8, x) for x in v) + f_varint(20, 7)


def node(op, ins, outs, name, **attrs):
    return b"".join(f_bytes(1, i) for i in ins) + b"".join(f_bytes(2, o) for o in outs) + \
        f_bytes(3, name) + f_bytes(4, op) + b"".join(f_bytes(5, attr(k, v))
                                                    for k, v in attrs.items())


def model(nodes, inputs, outputs, inits=()):
    graph = b"".join(f_bytes(1, n) for n in nodes) + f_bytes(2, "g") + \
        b"".join(f_bytes(5, t) for t in inits) + \
        b"".join(f_bytes(11, value_info(*i)) for i in inputs) + \
        b"".join(f_bytes(12, value_info(*o)) for o in outputs)
    opset = f_bytes(1, "") + f_varint(2, OPSET)
    return f_varint(1, 11) + f_bytes(2, "onnxcc-bench") + f_bytes(7, graph) + f_bytes(8, opset)


# ---- data ----

class Lcg:
    """A fixed pseudo-random stream, so every run writes the same inputs."""

    def __init__(self, seed):
        self.s = seed

    def uniform(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & ((1 << 64) - 1)
        return ((self.s >> 40) / float(1 << 24)) * 2 - 1


def floats(n, rng, scale=1.0):
    return struct.pack("<%df" % n, *(rng.uniform() * scale for _ in range(n)))


def numel(dims):
    return math.prod(dims)


def write(outdir, name, onnx_bytes, inputs):
    d = os.path.join(outdir, name, "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(outdir, name, "model.onnx"), "wb") as f:
        f.write(onnx_bytes)
    for k, (iname, dtype, dims, raw) in enumerate(inputs):
        with open(os.path.join(d, "input_%d.pb" % k), "wb") as f:
            f.write(tensor(iname, dtype, dims, raw))


# ---- Attention ----

def attention(outdir, name, s, hq=12, hkv=12, d=64, causal=False):
    qd, kd = [1, hq, s, d], [1, hkv, s, d]
    rng = Lcg(sum(name.encode()) + 1)
    data = [("Q", FLOAT, qd, floats(numel(qd), rng)), ("K", FLOAT, kd, floats(numel(kd), rng)),
            ("V", FLOAT, kd, floats(numel(kd), rng))]
    ins = [(n, t, dims) for n, t, dims, _ in data]
    outs = [("Y", FLOAT, qd)]
    fused = node("Attention", ["Q", "K", "V"], ["Y"], "attn", is_causal=int(causal))
    write(outdir, name, model([fused], ins, outs), data)

    # the expansion: both operands scaled by sqrt(1/sqrt(d)), as the function body does
    sq = math.sqrt(1 / math.sqrt(d))
    inits = [tensor("sq", FLOAT, [], struct.pack("<f", sq))]
    nodes = []
    k, v = "K", "V"
    if hkv != hq:
        rep = hq // hkv
        inits += [tensor("ax2", INT64, [1], struct.pack("<q", 2)),
                  tensor("rep_shape", INT64, [5], struct.pack("<5q", 1, hkv, rep, s, d)),
                  tensor("flat_shape", INT64, [4], struct.pack("<4q", 1, hq, s, d))]
        for src in ("K", "V"):
            nodes += [node("Unsqueeze", [src, "ax2"], [src + "_u"], src + "_unsq"),
                      node("Expand", [src + "_u", "rep_shape"], [src + "_e"], src + "_exp"),
                      node("Reshape", [src + "_e", "flat_shape"], [src + "_r"], src + "_resh")]
        k, v = "K_r", "V_r"
    nodes += [node("Mul", ["Q", "sq"], ["Qs"], "q_scale"),
              node("Transpose", [k], ["Kt"], "k_t", perm=[0, 1, 3, 2]),
              node("Mul", ["Kt", "sq"], ["Kts"], "k_scale"),
              node("MatMul", ["Qs", "Kts"], ["S"], "qk")]
    scores = "S"
    if causal:
        bias = struct.pack("<%df" % (s * s), *(0.0 if j <= i else -math.inf
                                               for i in range(s) for j in range(s)))
        inits.append(tensor("causal_bias", FLOAT, [s, s], bias))
        nodes.append(node("Add", ["S", "causal_bias"], ["Sb"], "bias"))
        scores = "Sb"
    nodes += [node("Softmax", [scores], ["P"], "softmax", axis=-1),
              node("MatMul", ["P", v], ["Y"], "pv")]
    write(outdir, name + "_expanded", model(nodes, ins, outs, inits), data)


# ---- RotaryEmbedding ----

def rotary(outdir, name, s, h=12, d=64, max_pos=2048):
    xd, half = [1, h, s, d], d // 2
    rng = Lcg(7)
    cos = [math.cos(p / 10000 ** (2 * i / d)) for p in range(max_pos) for i in range(half)]
    sin = [math.sin(p / 10000 ** (2 * i / d)) for p in range(max_pos) for i in range(half)]
    data = [("X", FLOAT, xd, floats(numel(xd), rng)),
            ("cos_cache", FLOAT, [max_pos, half], struct.pack("<%df" % len(cos), *cos)),
            ("sin_cache", FLOAT, [max_pos, half], struct.pack("<%df" % len(sin), *sin)),
            ("position_ids", INT64, [1, s], struct.pack("<%dq" % s, *range(s)))]
    ins = [(n, t, dims) for n, t, dims, _ in data]
    outs = [("Y", FLOAT, xd)]
    fused = node("RotaryEmbedding", ["X", "cos_cache", "sin_cache", "position_ids"], ["Y"],
                 "rope")
    write(outdir, name, model([fused], ins, outs), data)

    # the expansion (half-split): gather the caches, broadcast over heads,
    # rotate the two halves, concatenate
    inits = [tensor("ax1", INT64, [1], struct.pack("<q", 1)),
             tensor("halves", INT64, [2], struct.pack("<2q", half, half))]
    nodes = [node("Gather", ["cos_cache", "position_ids"], ["c0"], "gc", axis=0),
             node("Gather", ["sin_cache", "position_ids"], ["s0"], "gs", axis=0),
             node("Unsqueeze", ["c0", "ax1"], ["c"], "uc"),
             node("Unsqueeze", ["s0", "ax1"], ["s"], "us"),
             node("Split", ["X", "halves"], ["x1", "x2"], "split", axis=-1),
             node("Mul", ["c", "x1"], ["cx1"], "m1"), node("Mul", ["s", "x2"], ["sx2"], "m2"),
             node("Sub", ["cx1", "sx2"], ["re"], "sub"),
             node("Mul", ["s", "x1"], ["sx1"], "m3"), node("Mul", ["c", "x2"], ["cx2"], "m4"),
             node("Add", ["sx1", "cx2"], ["im"], "add"),
             node("Concat", ["re", "im"], ["Y"], "cat", axis=-1)]
    write(outdir, name + "_expanded", model(nodes, ins, outs, inits), data)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "attention-models")
    attention(outdir, "attn_mha_s128", 128)
    attention(outdir, "attn_mha_s512", 512)
    attention(outdir, "attn_gqa_s512", 512, hkv=4)
    attention(outdir, "attn_causal_s512", 512, causal=True)
    rotary(outdir, "rope_s128", 128)
    rotary(outdir, "rope_s512", 512)
    print("wrote the attention benchmark models to", outdir)


if __name__ == "__main__":
    main()
