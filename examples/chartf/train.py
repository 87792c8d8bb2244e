#!/usr/bin/python3
"""Trains a tiny character-level transformer on licence texts Debian ships and exports it to ONNX.

Usage: /usr/bin/python3 train.py [OUTDIR]   (default: the directory of this script)

The corpus and the split are examples/charlm's: the GNU licence texts in
/usr/share/common-licenses concatenated in a fixed order, the last 10% held out for
perplexity and never trained on. The model reads 32 characters and predicts the next one,
as charlm does, but with two pre-LayerNorm transformer blocks (d = 64, 4 heads of 16,
causal attention, a feed-forward layer of 256 with Relu), so that int8 quantization meets
what transformers have and an MLP has not: LayerNorm outputs with per-channel ranges,
Softmax probabilities, and activation x activation products (Q*K^T, P*V):

    context int64 [batch,32] -> Gather (97x64 embedding) + positions (32x64)
        -> 2 x [ x + Wo*Attention(LN1(x)),  x + W2*Relu(W1*LN2(x)) ]
        -> last position -> LN -> MatMul 64x97 -> logits [batch,97]

It is trained on every position (causal), exported for the last one; `batch` is a
symbolic dimension (`onnxcc build --dim batch=N`). Writes OUTDIR/chartf.onnx,
OUTDIR/heldout.txt, OUTDIR/calib.txt and OUTDIR/samples/context_0.pb, as charlm's script
does. Seeded and single-threaded: a re-run on the same torch version rewrites the same bytes.
"""
import math
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch

SEED = 0
OPSET = 17  # LayerNormalization as one op
CONTEXT = 32
D = 64
HEADS = 4
FF = 256
LAYERS = 2
STEPS = 1200
BATCH = 64
HELDOUT = 0.10
CALIB_CHARS = 4096
LICENSES = ["GPL-2", "GPL-3", "LGPL-2.1", "LGPL-3", "GFDL-1.3"]
LICENSE_DIR = "/usr/share/common-licenses"

# Vocabulary (charlm's): 0 for any other character, 1 for newline, 2..96 for printable ASCII.
VOCAB = 97


def encode(text):
    ids = np.zeros(len(text), dtype=np.int64)
    for i, c in enumerate(text):
        o = ord(c)
        ids[i] = 1 if c == "\n" else (o - 30 if 32 <= o <= 126 else 0)
    return ids


def load_corpus():
    parts = []
    for name in LICENSES:
        with open(os.path.join(LICENSE_DIR, name), encoding="utf-8") as f:
            parts.append(f.read())
    text = "".join(parts)
    cut = int(len(text) * (1.0 - HELDOUT))
    return text[:cut], text[cut:]


def windows(ids, n=CONTEXT):
    """Every window of n characters and the n characters that follow each position."""
    m = len(ids) - n
    idx = np.arange(m)[:, None] + np.arange(n)[None, :]
    return ids[idx], ids[idx + 1]


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(D)
        self.q = torch.nn.Linear(D, D)
        self.k = torch.nn.Linear(D, D)
        self.v = torch.nn.Linear(D, D)
        self.o = torch.nn.Linear(D, D)
        self.ln2 = torch.nn.LayerNorm(D)
        self.ff1 = torch.nn.Linear(D, FF)
        self.ff2 = torch.nn.Linear(FF, D)
        mask = torch.triu(torch.full((CONTEXT, CONTEXT), -1e4), 1)
        self.register_buffer("mask", mask)

    def heads(self, t):
        # constant shapes (batch as -1) keep the exported Reshape free of shape arithmetic
        return t.reshape(-1, CONTEXT, HEADS, D // HEADS).transpose(1, 2)

    def forward(self, x):
        h = self.ln1(x)
        q, k, v = self.heads(self.q(h)), self.heads(self.k(h)), self.heads(self.v(h))
        s = torch.matmul(q, k.transpose(2, 3)) * (1.0 / math.sqrt(D // HEADS)) + self.mask
        a = torch.matmul(torch.softmax(s, -1), v).transpose(1, 2).reshape(-1, CONTEXT, D)
        x = x + self.o(a)
        return x + self.ff2(torch.relu(self.ff1(self.ln2(x))))


class CharTF(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, D)
        self.pos = torch.nn.Parameter(torch.randn(CONTEXT, D) * 0.02)
        self.blocks = torch.nn.Sequential(*[Block() for _ in range(LAYERS)])
        self.ln = torch.nn.LayerNorm(D)
        self.head = torch.nn.Linear(D, VOCAB, bias=False)

    def forward(self, x):
        """Logits of every position: [batch, CONTEXT, VOCAB]."""
        return self.head(self.ln(self.blocks(self.embed(x) + self.pos)))


class LastPosition(torch.nn.Module):
    """What is exported: the next character after the window, charlm's interface."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        # the final LayerNorm is per position: on the last one only, it is the same and cheaper
        h = self.m.blocks(self.m.embed(x) + self.m.pos)
        return self.m.head(self.m.ln(h[:, CONTEXT - 1, :]))


def last_nll(model, x, y):
    with torch.no_grad():
        out = []
        for i in range(0, len(x), 2048):
            out.append(torch.nn.functional.cross_entropy(
                model(x[i:i + 2048])[:, -1, :], y[i:i + 2048, -1], reduction="sum"))
        return float(sum(out)) / len(x)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(os.path.join(outdir, "samples"), exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # single-threaded reductions keep runs reproducible
    t0 = time.time()

    train_text, held_text = load_corpus()
    xtr, ytr = (torch.from_numpy(a) for a in windows(encode(train_text)))
    xte, yte = (torch.from_numpy(a) for a in windows(encode(held_text)))
    print("corpus: %d training characters, %d held out; %d training windows" % (
        len(train_text), len(held_text), len(xtr)))

    model = CharTF()
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=STEPS, pct_start=0.1)
    model.train()
    for step in range(STEPS):
        idx = torch.randint(len(xtr), (BATCH,), generator=gen)
        opt.zero_grad()
        logits = model(xtr[idx])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), ytr[idx].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if (step + 1) % 200 == 0:
            print("step %4d: loss %.3f (all positions), %.0fs" % (
                step + 1, float(loss), time.time() - t0))
    model.eval()
    print("trained in %.1fs: held-out perplexity %.3f (last position, %d windows)" % (
        time.time() - t0, math.exp(last_nll(model, xte, yte)), len(xte)))

    path = os.path.join(outdir, "chartf.onnx")
    torch.onnx.export(LastPosition(model), (xte[:1],), path, opset_version=OPSET,
                      do_constant_folding=True, input_names=["context"],
                      output_names=["logits"],
                      dynamic_axes={"context": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    ops = sorted({n.op_type for n in proto.graph.node})
    print("wrote %s (%d bytes, ops: %s)" % (path, os.path.getsize(path), " ".join(ops)))

    with open(os.path.join(outdir, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write(held_text)
    # Calibration comes from the training text (its first CALIB_CHARS characters).
    with open(os.path.join(outdir, "calib.txt"), "w", encoding="utf-8") as f:
        f.write(train_text[:CALIB_CHARS])
    with open(os.path.join(outdir, "samples", "context_0.pb"), "wb") as f:
        f.write(onnx.numpy_helper.from_array(xte[:1, :].numpy()).SerializeToString())
    print("wrote heldout.txt (%d chars), calib.txt (%d chars), samples/context_0.pb" % (
        len(held_text), CALIB_CHARS))


if __name__ == "__main__":
    main()
