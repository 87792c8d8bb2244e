#!/usr/bin/python3
"""wq_models.py: the int4 matrix-vector benchmark of bench/wq_bench.sh: one com.microsoft
MatMulNBits (bits 4, block 32, uint8 zero points, no bias), Y[M, N] = A[M, K] x W^T with
K = N = 4096 by default, random codes and scales (fixed seed), written as
OUTDIR/wq_int4_m{M}/model.onnx with test_data_set_0/input_0.pb.

Usage: /usr/bin/python3 bench/wq_models.py OUTDIR [--k K] [--n N] [--m M ...]"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--k", type=int, default=4096)
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--m", type=int, nargs="+", default=[1])
    args = ap.parse_args()
    k, n, block, bits = args.k, args.n, 32, 4
    nb = (k + block - 1) // block
    rng = np.random.default_rng(3)
    q = rng.integers(0, 16, (n, nb, block), dtype=np.uint8)
    B = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)  # ORT: element 2i low nibble
    scales = (rng.random(n * nb) * 0.02 + 0.001).astype(np.float32)
    z = rng.integers(0, 16, (n, nb), dtype=np.uint8)
    if nb % 2:
        z = np.concatenate([z, np.zeros((n, 1), np.uint8)], axis=1)
    zp = (z[:, 0::2] | (z[:, 1::2] << 4)).astype(np.uint8).reshape(-1)
    for m in args.m:
        node = helper.make_node("MatMulNBits", ["A", "B", "scales", "zero_points"], ["Y"],
                                domain="com.microsoft", K=k, N=n, bits=bits, block_size=block)
        graph = helper.make_graph(
            [node], f"wq_int4_m{m}",
            [helper.make_tensor_value_info("A", TensorProto.FLOAT, (m, k))],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, (m, n))],
            [numpy_helper.from_array(B, "B"), numpy_helper.from_array(scales, "scales"),
             numpy_helper.from_array(zp, "zero_points")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                        helper.make_opsetid("com.microsoft", 1)])
        model.ir_version = 8
        d = os.path.join(args.out, f"wq_int4_m{m}")
        os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        a = rng.standard_normal((m, k)).astype(np.float32)
        with open(os.path.join(d, "test_data_set_0", "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, "A").SerializeToString())
        print(d)


main()
