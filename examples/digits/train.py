#!/usr/bin/python3
"""Trains a small convnet on scikit-learn's bundled 8x8 digits and exports it to ONNX.

Usage: /usr/bin/python3 train.py [OUTDIR]   (default: the directory of this script)

Writes OUTDIR/digits.onnx (input `image` float32 [1,1,8,8] with pixels scaled
to 0..1, output `logits` float32 [1,10]) and, from the held-out test split,
OUTDIR/samples/digit_<label>_<k>.pb (TensorProto images), samples/labels.txt
(file name and true label per line) and samples/expected/<same name> (PyTorch's
logits for that image, for tests), and for the quantization measurements
(tools/quant-report.sh, tests/quant_e2e.sh) OUTDIR/heldout.pb (the whole held-out
split, float32 [450,1,8,8]), OUTDIR/heldout_labels.txt (one label per line) and
OUTDIR/calib.pb (the first 64 training images, float32 [64,1,8,8]: calibration
uses training data only). Everything is seeded: a re-run on the same
torch version reproduces the same files. Nothing is downloaded: load_digits()
reads a copy of the UCI digits test set that ships inside scikit-learn.
"""
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
OPSET = 13
EPOCHS = 30
BATCH = 32
SAMPLES_PER_DIGIT = 2
CALIB_IMAGES = 64


class DigitNet(torch.nn.Module):
    """Two conv blocks and a linear classifier: 8x8 -> 4x4x16 -> 2x2x32 -> 10."""

    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.classifier = torch.nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def load_data():
    digits = load_digits()
    # Pixels are integer intensities 0..16; the exported model expects 0..1.
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)


def train(model, x, y):
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(EPOCHS):
        perm = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
    model.eval()


def save_tensor(arr, path):
    with open(path, "wb") as f:
        f.write(onnx.numpy_helper.from_array(arr).SerializeToString())


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # single-threaded reductions keep runs reproducible
    t0 = time.time()

    x_train, x_test, y_train, y_test = load_data()
    model = DigitNet()
    train(model, x_train, y_train)
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    acc = float((pred == y_test).mean())
    print("trained in %.1fs: test accuracy %.4f (%d/%d)" % (
        time.time() - t0, acc, int((pred == y_test).sum()), len(y_test)))

    path = os.path.join(outdir, "digits.onnx")
    dummy = torch.zeros(1, 1, 8, 8)
    torch.onnx.export(model, (dummy,), path, opset_version=OPSET, do_constant_folding=True,
                      input_names=["image"], output_names=["logits"])
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    ops = sorted({n.op_type for n in proto.graph.node})
    print("wrote %s (%d bytes, ops: %s)" % (path, os.path.getsize(path), " ".join(ops)))

    samples = os.path.join(outdir, "samples")
    os.makedirs(os.path.join(samples, "expected"), exist_ok=True)
    lines = []
    for label in range(10):
        for k, i in enumerate(np.flatnonzero(y_test == label)[:SAMPLES_PER_DIGIT]):
            img = x_test[i:i + 1]
            with torch.no_grad():
                logits = model(torch.from_numpy(img)).numpy()
            name = "digit_%d_%d.pb" % (label, k)
            save_tensor(img, os.path.join(samples, name))
            save_tensor(logits, os.path.join(samples, "expected", name))
            lines.append("%s %d\n" % (name, label))
            print("wrote samples/%s (predicted %d)" % (name, int(logits.argmax())))
    with open(os.path.join(samples, "labels.txt"), "w") as f:
        f.writelines(lines)
    print("wrote samples/labels.txt (%d samples)" % len(lines))

    save_tensor(x_test, os.path.join(outdir, "heldout.pb"))
    with open(os.path.join(outdir, "heldout_labels.txt"), "w") as f:
        f.writelines("%d\n" % v for v in y_test)
    save_tensor(x_train[:CALIB_IMAGES], os.path.join(outdir, "calib.pb"))
    print("wrote heldout.pb, heldout_labels.txt (%d images), calib.pb (%d training images)" % (
        len(y_test), CALIB_IMAGES))


if __name__ == "__main__":
    main()
