#!/usr/bin/python3
"""check_rtdims.py: run-time dims (--dim NAME=LO..HI): one binary per model serves every
extent within the bounds, with PyTorch's outputs, and an extent past a bound fails cleanly.

Usage: check_rtdims.py ONNXCC WORK

Models (PyTorch-exported with dynamic axes, built here, seeded):
  cnn  Conv+BN+ReLU, MaxPool, strided Conv, broadcast Add, GlobalAveragePool, Flatten,
       Linear, Softmax; batch in 1..8
  seq  Linear, GELU, LayerNormalization, Linear, Softmax, Concat, Transpose, Unsqueeze,
       Squeeze over
       [1, seq, 16]; seq in 1..64
  enc  a PyTorch TransformerEncoderLayer (4 heads, batch_first) between two Linears over
       [1, seq, 16]: its export computes the attention reshapes from Shape at run time;
       seq in 1..64
Each is built once; the binary and the interpreter (`onnxcc run`) run several extents and
must match PyTorch within 1e-4 (absolute, on probabilities and activations of order 1).
The cnn's generated C API (cnn_run with x_dims/y_dims) is driven by a small host program.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

ONNXCC, WORK = sys.argv[1], sys.argv[2]
TOL = 1e-4
failures = 0


def report(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += 0 if ok else 1


class Cnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.c2 = torch.nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.shift = torch.nn.Parameter(torch.randn(16, 1, 1))
        self.fc = torch.nn.Linear(16, 10)

    def forward(self, x):
        y = torch.relu(self.bn(self.c1(x)))
        y = torch.nn.functional.max_pool2d(y, 2)
        y = torch.relu(self.c2(y)) + self.shift
        y = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(y, 1), 1)
        return torch.softmax(self.fc(y), dim=1)


class Seq(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(16, 32)
        self.ln = torch.nn.LayerNorm(32)
        self.b = torch.nn.Linear(32, 8)

    def forward(self, x):
        y = self.b(self.ln(torch.nn.functional.gelu(self.a(x))))
        y = torch.cat([torch.softmax(y, dim=-1), y], dim=1)
        return y.transpose(1, 2).unsqueeze(1).squeeze(0)


class Enc(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Linear(16, 32)
        self.layer = torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.out = torch.nn.Linear(32, 5)

    def forward(self, x):
        return self.out(self.layer(self.emb(x)))


def export(model, shape, axis, name):
    model.eval()
    path = os.path.join(WORK, name + ".onnx")
    # with gradients on: under no_grad PyTorch takes its fused encoder-layer path,
    # which has no ONNX export
    torch.onnx.export(model, torch.randn(*shape), path, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {axis: name + "_n"}}, opset_version=17)
    return path


def write_pb(path, a, name):
    t = numpy_helper.from_array(a, name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def check_model(model, name, shape, axis, lo, hi, extents):
    path = export(model, shape, axis, name)
    dim = name + "_n"
    binary = os.path.join(WORK, name + "_bin")
    r = subprocess.run([ONNXCC, "build", path, "--dim", "%s=%d..%d" % (dim, lo, hi), "-o", binary],
                       capture_output=True, text=True)
    report(r.returncode == 0, "%s: onnxcc build --dim %s=%d..%d %s" % (name, dim, lo, hi,
                                                                     r.stderr.strip()[:200]))
    if r.returncode:
        return
    for n in extents:
        s = list(shape)
        s[axis] = n
        x = torch.randn(*s)
        with torch.no_grad():
            want = model(x).numpy()
        inp = os.path.join(WORK, "%s_x%d.pb" % (name, n))
        write_pb(inp, x.numpy(), "x")
        for how in ("binary", "interpreter"):
            out = os.path.join(WORK, "%s_%s_out%d" % (name, how, n))
            cmd = [binary, inp, "--out", out] if how == "binary" else \
                [ONNXCC, "run", path, "--dim", "%s=%d..%d" % (dim, lo, hi), inp, "--out", out]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                report(False, "%s %s at %s=%d: %s" % (name, how, dim, n, r.stderr.strip()))
                continue
            got = read_pb(os.path.join(out, "output_0.pb"))
            err = float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")
            report(err <= TOL, "%s %s at %s=%d: output %s, max |error| vs PyTorch %.2g" %
                   (name, how, dim, n, list(got.shape), err))
    # past the bound, and below it: a one-line error and a non-zero status
    for n in (hi + 1, lo - 1):
        if n < 0:
            continue
        s = list(shape)
        s[axis] = n
        inp = os.path.join(WORK, "%s_bad%d.pb" % (name, n))
        write_pb(inp, np.zeros(s, np.float32), "x")
        r = subprocess.run([binary, inp, "--out", os.path.join(WORK, "bad")], capture_output=True,
                           text=True)
        lines = r.stderr.strip().splitlines()
        report(r.returncode != 0 and len(lines) == 1 and "outside the bounds" in lines[0]
               and not r.stdout, "%s binary at %s=%d (outside %d..%d) fails: %s" %
               (name, dim, n, lo, hi, lines[0] if lines else "no message"))


HOST = r"""
#include <stdio.h>
#include <stdlib.h>
#include "cnn.h"
/* host N X.bin: runs cnn on N images read raw from X.bin; writes y's extents, then y */
int main(int argc, char **argv)
{
    static float x[CNN_INPUT_0_MAX_SIZE], y[CNN_OUTPUT_0_MAX_SIZE];
    int64_t xd[4] = {atoi(argv[1]), 3, 16, 16}, yd[2] = {-1, -1};
    FILE *f = fopen(argv[2], "rb");
    if (!f || fread(x, sizeof(float), (size_t)(xd[0] * 3 * 16 * 16), f) != (size_t)(xd[0] * 768))
        return 2;
    fclose(f);
    int rc = cnn_init(NULL);
    if (!rc)
        rc = cnn_run(NULL, x, y, xd, yd);
    if (rc) {
        fprintf(stderr, "cnn_run: status %d\n", rc);
        return 1;
    }
    fwrite(yd, sizeof yd, 1, stdout);
    fwrite(y, sizeof(float), (size_t)(yd[0] * yd[1]), stdout);
    return 0;
}
"""


def check_c_api(model):
    """The generated API: cnn_run takes x's extents and reports y's; a batch past the bound
    returns RT_EBOUND (8) without writing."""
    src = os.path.join(WORK, "cnn_src")
    r = subprocess.run([ONNXCC, "compile", os.path.join(WORK, "cnn.onnx"), "--name", "cnn",
                        "--dim", "cnn_n=1..8", "-o", src], capture_output=True, text=True)
    report(r.returncode == 0, "cnn: onnxcc compile (C sources) %s" % r.stderr.strip()[:200])
    with open(os.path.join(src, "cnn.h")) as f:
        header = f.read()
    report("int cnn_run(cnn_ctx *ctx, const float *x, float *y, const int64_t *x_dims, "
           "int64_t *y_dims);" in header and "#define CNN_INPUT_0_DIM_0_MAX 8" in header,
           "cnn.h declares the extents parameters and the bounds")
    with open(os.path.join(src, "host.c"), "w") as f:
        f.write(HOST)
    runtime = sorted(os.path.join("runtime", n) for n in os.listdir(os.path.join(src, "runtime"))
                     if n.endswith(".c"))
    r = subprocess.run(["cc", "-std=c99", "-O1", "-march=native", "-Iruntime", "-I.", "-o", "host",
                        "host.c", "cnn.c"] + runtime + ["-lm", "-pthread"], cwd=src,
                       capture_output=True, text=True)
    report(r.returncode == 0, "cnn: host program compiles %s" % r.stderr.strip()[:300])
    if r.returncode:
        return
    for n in (2, 9):
        x = torch.randn(n, 3, 16, 16)
        raw = os.path.join(WORK, "host_x%d.bin" % n)
        x.numpy().astype(np.float32).tofile(raw)
        r = subprocess.run([os.path.join(src, "host"), str(n), raw], capture_output=True)
        if n > 8:
            report(r.returncode == 1 and b"status 8" in r.stderr,
                   "cnn_run at batch %d (bound 8) returns RT_EBOUND" % n)
            continue
        dims = np.frombuffer(r.stdout[:16], np.int64) if len(r.stdout) >= 16 else None
        with torch.no_grad():
            want = model(x).numpy()
        ok = r.returncode == 0 and dims is not None and list(dims) == [n, 10]
        got = np.frombuffer(r.stdout[16:], np.float32).reshape(n, 10) if ok else None
        err = float(np.abs(got - want).max()) if ok else float("inf")
        report(ok and err <= TOL, "cnn_run at batch %d: y_dims %s, max |error| vs PyTorch %.2g" %
               (n, list(dims) if dims is not None else None, err))


def main():
    os.makedirs(WORK, exist_ok=True)
    torch.manual_seed(0)
    cnn = Cnn()
    with torch.no_grad():
        cnn.bn.running_mean.uniform_(-0.5, 0.5)
        cnn.bn.running_var.uniform_(0.5, 2.0)
    check_model(cnn, "cnn", (2, 3, 16, 16), 0, 1, 8, (1, 3, 8))
    check_c_api(cnn)
    check_model(Seq(), "seq", (1, 5, 16), 1, 1, 64, (1, 7, 64))
    check_model(Enc(), "enc", (1, 10, 16), 1, 1, 64, (1, 5, 64))
    print("check_rtdims: %s" % ("all passed" if not failures else "%d failed" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
