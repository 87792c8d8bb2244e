#!/usr/bin/python3
"""Exports the benchmark set (torchvision CNNs and ViTs, a BERT-style encoder, the tiny transformer) to ONNX.

Usage: /usr/bin/python3 bench/make_models.py [OUTDIR] [--force] [--only NAME ...]

OUTDIR defaults to build/bench-models. Each model goes to OUTDIR/<name>/model.onnx
with test_data_set_0/input_0.pb and output_0.pb (ONNX TensorProto), PyTorch's own
output in eval mode on a fixed random input: the layout bench/run.sh and the
conformance runner read. Weights are random (fixed seeds, no download). Random
weights alone give a CNN activations that blow up or vanish layer after layer,
which would time denormals and saturated exponentials, not the model: every
BatchNorm's statistics are therefore recalibrated on random normal images (train
mode, momentum None = a plain average over the batches), then the model is put in
eval mode. A model whose three files exist is skipped unless --force is given.
The digits model lives in examples/digits (examples/digits/train.py).
"""
import argparse
import collections
import io
import os
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "models"))
import make_models as tm  # noqa: E402  (the tests' EncoderNet and tensor writer)

# The highest opset torch 1.13's exporter writes; 17 also has a native
# LayerNormalization (ConvNeXt, ViT, Swin, BERT).
OPSET = 17
SEED = 4321
IMAGE = (1, 3, 224, 224)

# torchvision constructors, all at 224x224
VISION = {
    "resnet18": torchvision.models.resnet18,
    "mobilenet_v2": torchvision.models.mobilenet_v2,
    "mobilenet_v3_small": torchvision.models.mobilenet_v3_small,
    "efficientnet_b0": torchvision.models.efficientnet_b0,
    "squeezenet1_1": torchvision.models.squeezenet1_1,
    "shufflenet_v2_x1_0": torchvision.models.shufflenet_v2_x1_0,
    "densenet121": torchvision.models.densenet121,
    "convnext_tiny": torchvision.models.convnext_tiny,
    "vit_b_16": torchvision.models.vit_b_16,
    "swin_t": torchvision.models.swin_t,
}


class BertEncoder(torch.nn.Module):
    """BERT-style: token + position embeddings, LayerNorm, post-norm GELU encoder layers, a pooler.

    The size is BERT-mini's (4 layers, 256 wide, 4 heads, 1024 feed-forward) with
    a 128-token sequence and an 8192-token vocabulary, so a run takes
    milliseconds, not seconds, on one core.
    """

    def __init__(self, vocab=8192, seq=128, d=256, heads=4, layers=4, ff=1024):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab, d)
        self.pos = torch.nn.Parameter(torch.randn(1, seq, d) * 0.02)
        self.norm = torch.nn.LayerNorm(d, eps=1e-12)
        self.layers = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1, activation="gelu",
                                             batch_first=True, layer_norm_eps=1e-12)
            for _ in range(layers))
        self.pool = torch.nn.Linear(d, d)

    def forward(self, ids):
        x = self.norm(self.tok(ids) + self.pos)
        for layer in self.layers:
            x = layer(x)
        return torch.tanh(self.pool(x[:, 0]))


MODELS = list(VISION) + ["bert", "transformer"]


def build(name, gen):
    """(module, example input) for a model name, weights seeded."""
    torch.manual_seed(SEED)
    if name in VISION:
        return VISION[name](weights=None), torch.randn(*IMAGE, generator=gen)
    if name == "bert":
        return BertEncoder(), torch.randint(0, 8192, (1, 128), generator=gen)
    if name == "transformer":
        return tm.EncoderNet(), torch.randn(1, 16, 64, generator=gen)
    raise ValueError("unknown model " + name)


def recalibrate(model, gen, batches=3, size=8):
    """BatchNorm running statistics from random normal images; False if the model has none."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return False
    for m in bns:
        m.reset_running_stats()
        m.momentum = None      # cumulative average over the batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(size, *IMAGE[1:], generator=gen))
    return True


def export(name, outdir, force):
    case = os.path.join(outdir, name)
    data = os.path.join(case, "test_data_set_0")
    files = [os.path.join(case, "model.onnx"), os.path.join(data, "input_0.pb"),
             os.path.join(data, "output_0.pb")]
    if not force and all(os.path.exists(p) for p in files):
        print("%s: exists, skipped (use --force to rebuild)" % case)
        return onnx.load(files[0], load_external_data=False)

    t0 = time.time()
    gen = torch.Generator().manual_seed(SEED + 1)
    model, x = build(name, gen)
    calibrated = recalibrate(model, gen)
    model.eval()
    # Grad stays enabled: under no_grad, torch's MultiheadAttention and
    # TransformerEncoderLayer take a fused fast path with no ONNX export, and
    # the reference must come from the math that is exported.
    y = model(x).detach()

    buf = io.BytesIO()
    torch.onnx.export(model, (x,), buf, opset_version=OPSET, do_constant_folding=True,
                      input_names=["input"], output_names=["output"])
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)

    os.makedirs(data, exist_ok=True)
    onnx.save(proto, files[0])
    tm.save_tensor(x.numpy(), files[1])
    tm.save_tensor(y.numpy().astype(np.float32), files[2])
    print("%s: exported in %.1fs%s; output std %.3g, max |y| %.3g" % (
        name, time.time() - t0, ", BatchNorm recalibrated" if calibrated else "",
        float(y.std()), float(y.abs().max())))
    return proto


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", nargs="?", default=os.path.join(ROOT, "build", "bench-models"))
    ap.add_argument("--force", action="store_true", help="re-export existing models")
    ap.add_argument("--only", nargs="+", choices=MODELS, help="export only these")
    args = ap.parse_args()

    torch.set_num_threads(min(2, torch.get_num_threads()))
    t0 = time.time()
    failed = []
    for name in args.only or MODELS:
        try:
            proto = export(name, args.outdir, args.force)
        except Exception as e:  # one model's export failure must not stop the others
            print("%s: EXPORT FAILED: %s: %s" % (name, type(e).__name__, e))
            failed.append(name)
            continue
        hist = collections.Counter(n.op_type for n in proto.graph.node)
        print("%s: opset %d, %d nodes: %s" % (
            name, proto.opset_import[0].version, sum(hist.values()),
            " ".join("%s=%d" % kv for kv in sorted(hist.items()))))
    print("done in %.1fs%s" % (time.time() - t0,
                               "; failed: " + " ".join(failed) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
