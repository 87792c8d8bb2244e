#!/usr/bin/python3
"""quant_data.py: prepares the quantization examples' inputs and scores their outputs (numpy and onnx only).

It never compiles or runs a model: onnxcc and the binaries it builds do that.

  split TENSOR.pb OUTDIR [N]      writes OUTDIR/s0000.pb ... one file per row of TENSOR (the
                                  first N rows; all without N): a batch of images becomes
                                  one sample file per image
  windows TEXT OUTDIR COUNT BATCH [TARGETS]
                                  cuts COUNT windows of charlm's context length from TEXT,
                                  evenly spaced over all of it, into COUNT/BATCH files
                                  OUTDIR/w0000.pb of int64 [BATCH,32]; TARGETS gets the
                                  character after each window, one id per line
  top1 LABELS OUTDIR...           one output_0.pb per directory (in order, one image each):
                                  prints "correct total" against LABELS
  agree OUTDIR_A OUTDIR_B N       the share of N per-image outputs whose argmax agrees
  ppl TARGETS OUTDIR...           the perplexity of the targets under the logits in
                                  OUTDIR/output_0.pb (one directory per windows file, in order)
  params MODEL.onnx               the number of parameters (elements of every initializer)
"""
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper

CONTEXT = 32


def load(path):
    return onnx.numpy_helper.to_array(onnx.load_tensor(path))


def save(arr, path):
    with open(path, "wb") as f:
        f.write(onnx.numpy_helper.from_array(arr).SerializeToString())


def encode(text):
    """charlm's vocabulary (examples/charlm/train.py): 0 other, 1 newline, 2..96 ASCII 32..126."""
    return np.array([1 if c == "\n" else (ord(c) - 30 if 32 <= ord(c) <= 126 else 0)
                     for c in text], dtype=np.int64)


def split(tensor, outdir, n=None):
    x = load(tensor)
    n = len(x) if n is None else min(int(n), len(x))
    os.makedirs(outdir, exist_ok=True)
    for i in range(n):
        save(x[i:i + 1], os.path.join(outdir, "s%04d.pb" % i))


def windows(text_path, outdir, count, batch, targets=None):
    with open(text_path, encoding="utf-8") as f:
        ids = encode(f.read())
    count, batch = int(count), int(batch)
    avail = len(ids) - CONTEXT
    if count > avail or count % batch:
        sys.exit("quant_data: %d windows of %d do not fit %d available" % (count, batch, avail))
    starts = (np.arange(count) * avail) // count
    x = ids[starts[:, None] + np.arange(CONTEXT)[None, :]]
    os.makedirs(outdir, exist_ok=True)
    for b in range(count // batch):
        save(x[b * batch:(b + 1) * batch], os.path.join(outdir, "w%04d.pb" % b))
    if targets:
        with open(targets, "w") as f:
            f.writelines("%d\n" % v for v in ids[starts + CONTEXT])


def argmaxes(dirs):
    return np.array([int(load(os.path.join(d, "output_0.pb")).argmax()) for d in dirs])


def top1(labels, dirs):
    want = np.loadtxt(labels, dtype=np.int64)[:len(dirs)]
    print(int((argmaxes(dirs) == want).sum()), len(dirs))


def agree(a, b, n):
    n = int(n)
    names = ["s%04d" % i for i in range(n)]
    pa = argmaxes([os.path.join(a, s) for s in names])
    pb = argmaxes([os.path.join(b, s) for s in names])
    print(int((pa == pb).sum()), n)


def ppl(targets, dirs):
    y = np.loadtxt(targets, dtype=np.int64)
    logits = np.concatenate([load(os.path.join(d, "output_0.pb")).astype(np.float64)
                             for d in dirs])
    if len(logits) != len(y) or not np.all(np.isfinite(logits)):
        sys.exit("quant_data: %d logits rows for %d targets, or non-finite logits" % (
            len(logits), len(y)))
    m = logits.max(1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(1, keepdims=True))
    print("%.4f" % float(np.exp(-logp[np.arange(len(y)), y].mean())))


def params(model):
    g = onnx.load(model).graph
    print(sum(int(np.prod(t.dims)) for t in g.initializer))


def main():
    cmds = {"split": split, "windows": windows, "top1": lambda l, *d: top1(l, d),
            "agree": agree, "ppl": lambda t, *d: ppl(t, d), "params": params}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
