#!/usr/bin/python3
"""Trains a small character-level language model on licence texts Debian ships and exports it to ONNX.

Usage: /usr/bin/python3 train.py [OUTDIR]   (default: the directory of this script)

The corpus is the GNU licence texts in /usr/share/common-licenses (base-files ships them
on every Debian system), concatenated in a fixed order; the last 10% is held out for
perplexity and never trained on. The model predicts the next character from the 32
before it (Bengio-style: embedding, concatenation, three fully connected layers):

    context int64 [batch,32] -> Gather (96x8 embedding) -> Flatten [batch,256]
        -> Gemm 256x256 -> Relu -> Gemm 256x256 -> Relu -> Gemm 256x96 -> logits [batch,96]

`batch` is a symbolic dimension (bind it with `onnxcc build --dim batch=N`).
Writes OUTDIR/charlm.onnx, OUTDIR/heldout.txt (the held-out 10%, for perplexity),
OUTDIR/calib.txt (a slice of the training text, for calibration) and
OUTDIR/samples/context_0.pb (one window, for a quick build). Seeded and
single-threaded: a re-run on the same torch version rewrites the same bytes.
"""
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch

SEED = 0
OPSET = 13
CONTEXT = 32
EMBED = 8
WIDTH = 256
EPOCHS = 10
BATCH = 512
HELDOUT = 0.10
CALIB_CHARS = 4096
LICENSES = ["GPL-2", "GPL-3", "LGPL-2.1", "LGPL-3", "GFDL-1.3"]
LICENSE_DIR = "/usr/share/common-licenses"

# Vocabulary: 0 for any other character, 1 for newline, 2..96 for printable ASCII.
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


def windows(ids):
    """Every (32 characters, next character) pair of a text."""
    n = len(ids) - CONTEXT
    idx = np.arange(n)[:, None] + np.arange(CONTEXT)[None, :]
    return ids[idx], ids[CONTEXT:]


class CharLM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, EMBED)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(CONTEXT * EMBED, WIDTH), torch.nn.ReLU(), torch.nn.Dropout(0.1),
            torch.nn.Linear(WIDTH, WIDTH), torch.nn.ReLU(), torch.nn.Dropout(0.1),
            torch.nn.Linear(WIDTH, VOCAB))

    def forward(self, x):
        return self.mlp(torch.flatten(self.embed(x), 1))


def nll(model, x, y):
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(model(x), y))


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

    model = CharLM()
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.AdamW(model.parameters(), lr=4e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(xtr), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        print("epoch %2d: train ppl %.3f (on 20000 windows), %.0fs" % (
            epoch + 1, np.exp(nll(model, xtr[:20000], ytr[:20000])), time.time() - t0))
    model.eval()
    print("trained in %.1fs: held-out perplexity %.3f (%d windows)" % (
        time.time() - t0, np.exp(nll(model, xte, yte)), len(xte)))

    path = os.path.join(outdir, "charlm.onnx")
    torch.onnx.export(model, (xte[:1],), path, opset_version=OPSET, do_constant_folding=True,
                      input_names=["context"], output_names=["logits"],
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
        f.write(onnx.numpy_helper.from_array(xte[:1].numpy()).SerializeToString())
    print("wrote heldout.txt (%d chars), calib.txt (%d chars), samples/context_0.pb" % (
        len(held_text), CALIB_CHARS))


if __name__ == "__main__":
    main()
