#!/usr/bin/env python3
"""make_loop_model.py: a greedy-decode-style loop, torch.jit.script'ed and exported by PyTorch, with PyTorch's outputs.

Writes loop/test_loop_decode/ (run from this folder) in ONNX's test layout:
the model (a while loop whose trip count n is an input and which also stops
at the end-of-sequence token: PyTorch exports it as a Loop with a run-time
condition, an If inside its body for the short-circuit `and`) and one data
set per trip count, the outputs computed by the scripted module itself. The
conformance runner compiles it once and runs every set through that binary.
"""
import os

import torch
from torch import Tensor
from onnx import numpy_helper

V, H, EOS = 11, 8, 5


class Decode(torch.nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.emb = torch.nn.Parameter(torch.randn(V, H, generator=g) * 0.8)
        self.w = torch.nn.Parameter(torch.randn(H, H, generator=g) * 0.5)
        self.out = torch.nn.Parameter(torch.randn(H, V, generator=g) * 0.8)
        self.eos = EOS

    def forward(self, h: Tensor, tok: Tensor, n: Tensor):
        steps = n - n
        i = 0
        m = int(n)
        go = True
        while i < m and go:
            x = self.emb[tok]
            h = torch.tanh(torch.matmul(h, self.w) + x)
            tok = torch.argmax(torch.matmul(h, self.out))
            steps = steps + 1
            go = bool(tok != self.eos)
            i += 1
        return h, tok, steps


case = "loop/test_loop_decode"
os.makedirs(case, exist_ok=True)
m = torch.jit.script(Decode())
h0 = torch.zeros(H)
torch.onnx.export(m, (h0, torch.tensor(1), torch.tensor(5)), case + "/model.onnx",
                  input_names=["h", "tok", "n"], output_names=["h_out", "tok_out", "steps"],
                  opset_version=13)
sets = [(0.0, 1, 0), (0.0, 1, 1), (0.0, 1, 5), (0.3, 2, 40), (-0.2, 7, 300), (0.1, 0, 4096)]
with torch.no_grad():
    for k, (hv, t, n) in enumerate(sets):
        ins = [torch.full((H,), hv), torch.tensor(t), torch.tensor(n)]
        outs = m(*ins)
        d = f"{case}/test_data_set_{k}"
        os.makedirs(d, exist_ok=True)
        for j, x in enumerate(ins):
            open(f"{d}/input_{j}.pb", "wb").write(
                numpy_helper.from_array(x.numpy()).SerializeToString())
        for j, x in enumerate(outs):
            open(f"{d}/output_{j}.pb", "wb").write(
                numpy_helper.from_array(x.numpy()).SerializeToString())
        print(f"set {k}: n={n} steps={int(outs[2])} tok={int(outs[1])}")
