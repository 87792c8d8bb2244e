#!/usr/bin/env python3
"""make_matmul_nbits.py: writes matmul_nbits/, ONNX-test-layout cases of com.microsoft
MatMulNBits (ONNX Runtime's contrib op) with NumPy's outputs (run from this folder).

The reference is the contrib op's definition: B [N, n_blocks, block_size * bits / 8]
holds each block's codes LSB first; zero_points are packed the same way per row
(or float, one per block), 2^(bits-1) when absent; Y = A @ ((q - zp) * scale)^T + bias. bits 2, 4 and 8, as ONNX Runtime 1.30 takes (its
outputs match these within 1e-3: bench/ort_bench.js --expect)."""
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = "matmul_nbits"


def pack_bits(codes, bits):
    """codes [..., n] (ints < 2^bits) -> bytes [..., ceil(n * bits / 8)], LSB first."""
    lead, n = codes.shape[:-1], codes.shape[-1]
    nbytes = (n * bits + 7) // 8
    flat = codes.reshape(-1, n).astype(np.uint32)
    out = np.zeros((flat.shape[0], nbytes), np.uint8)
    for i in range(n):
        for b in range(bits):
            bit = i * bits + b
            out[:, bit // 8] |= (((flat[:, i] >> b) & 1) << (bit % 8)).astype(np.uint8)
    return out.reshape(*lead, nbytes)


def case(name, m_shape, k, n, bits, block, zp="packed", bias=True, b_input=False, seed=0):
    rng = np.random.default_rng(seed)
    nb = (k + block - 1) // block
    q = rng.integers(0, 2 ** bits, (n, nb * block))
    q[:, k:] = 0
    scale = (rng.random((n, nb)) * 0.05 + 0.01).astype(np.float32)
    if zp == "packed":
        z = rng.integers(0, 2 ** bits, (n, nb))
    elif zp == "float":
        z = rng.integers(0, 2 ** bits, (n, nb)).astype(np.float32)
    else:
        z = np.full((n, nb), 2 ** (bits - 1))
    w = ((q.reshape(n, nb, block) - z.reshape(n, nb, 1)) * scale.reshape(n, nb, 1))
    w = w.reshape(n, nb * block)[:, :k].astype(np.float32)
    a = rng.standard_normal(tuple(m_shape) + (k,)).astype(np.float32)
    bvec = rng.standard_normal(n).astype(np.float32) if bias else None
    y = (a.astype(np.float64) @ w.T.astype(np.float64))
    if bias:
        y = y + bvec
    y = y.astype(np.float32)
    B = pack_bits(q.reshape(n, nb, block), bits)
    inputs = [("A", a)]
    inits = []
    (inputs if b_input else inits).append(("B", B))
    inits.append(("scales", scale.reshape(-1)))
    names = ["A", "B", "scales"]
    if zp == "packed":
        inits.append(("zero_points", pack_bits(z, bits).reshape(-1)))
        names.append("zero_points")
    elif zp == "float":
        inits.append(("zero_points", z.reshape(-1)))
        names.append("zero_points")
    else:
        names.append("")
    if bias:
        names += ["", "bias"]
        inits.append(("bias", bvec))
    while names and names[-1] == "":
        names.pop()
    node = helper.make_node("MatMulNBits", names, ["Y"], domain="com.microsoft",
                            K=k, N=n, bits=bits, block_size=block)
    dt = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.uint8): TensorProto.UINT8}
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(nm, dt[v.dtype], v.shape) for nm, v in inputs],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, y.shape)],
        [numpy_helper.from_array(v, nm) for nm, v in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    d = os.path.join(OUT, name)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, (nm, v) in enumerate(inputs):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, nm).SerializeToString())
    with open(os.path.join(d, "test_data_set_0", "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(y, "Y").SerializeToString())


shutil.rmtree(OUT, ignore_errors=True)
case("nbits4_block32_zp", (3,), 96, 24, 4, 32, seed=1)
case("nbits4_block16_default_zp_ragged_k", (2, 1), 50, 17, 4, 16, zp=None, bias=False, seed=2)
case("nbits4_block32_float_zp", (1,), 64, 40, 4, 32, zp="float", seed=3)
case("nbits4_block64_gemv", (1,), 256, 70, 4, 64, seed=4)
case("nbits4_block32_m7", (7,), 128, 33, 4, 32, bias=False, seed=5)
case("nbits8_block32", (2,), 80, 19, 8, 32, seed=6)
case("nbits2_block16", (4,), 48, 21, 2, 16, seed=7)
case("nbits4_b_input_reference", (2,), 64, 12, 4, 32, b_input=True, seed=9)
with open(os.path.join(OUT, "expected_pass.txt"), "w") as f:
    for name in sorted(os.listdir(OUT)):
        if name != "expected_pass.txt":
            f.write(f"{OUT}/{name}\n")
