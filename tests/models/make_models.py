#!/usr/bin/python3
"""Exports the model-test networks from PyTorch to ONNX in conformance-case layout.

Usage: /usr/bin/python3 tests/models/make_models.py OUTDIR [--force] [--only NAME ...]

Each model goes to OUTDIR/<name>/model.onnx with OUTDIR/<name>/test_data_set_0/
input_0.pb and output_0.pb (ONNX TensorProto), the layout of ONNX's own node
tests, so the conformance runner can run them unchanged. Weights are random
(fixed seeds, no pretrained download); the reference output is PyTorch's own,
computed in eval mode on a fixed random input. A model whose three files
already exist is skipped unless --force is given.
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

# torch 1.13 exports opset 17 well; 17 is the first opset with a native
# LayerNormalization, which keeps the transformer's normalisation one node
# instead of a ReduceMean/Sub/Pow/Sqrt/Div chain.
OPSET = 17
SEED = 1234

# Ops the onnxcc compiler is meant to support; anything else in an exported
# graph is reported so the model or export can be adjusted.
CORE_OPS = set("""
Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Relu LeakyRelu Sigmoid Tanh Erf
Clip HardSigmoid HardSwish Gelu Softmax LogSoftmax MatMul Gemm Conv ConvTranspose
MaxPool AveragePool GlobalAveragePool BatchNormalization LayerNormalization Reshape
Flatten Transpose Concat Split Slice Gather Squeeze Unsqueeze Shape Cast Constant
ConstantOfShape Identity Dropout ReduceMean ReduceSum ReduceMax Resize Pad Expand
Where Equal Less Greater
""".split())


class EncoderNet(torch.nn.Module):
    """A small transformer encoder with a per-token linear head."""

    def __init__(self, d_model=64, nhead=4, layers=2, ff=128, classes=10):
        super().__init__()
        def layer():
            return torch.nn.TransformerEncoderLayer(
                d_model, nhead, dim_feedforward=ff, dropout=0.1,
                activation="gelu", batch_first=True)
        # enable_nested_tensor only matters for padded batches; turning it off
        # avoids a warning and keeps the traced graph the plain math path.
        self.encoder = torch.nn.TransformerEncoder(
            layer(), layers, enable_nested_tensor=False)
        # TransformerEncoder deep-copies its layer, so every layer would start
        # with the same weights; fresh layers make each one distinct.
        for i in range(layers):
            self.encoder.layers[i] = layer()
        self.head = torch.nn.Linear(d_model, classes)

    def forward(self, x):
        return self.head(self.encoder(x))


def build(name):
    """Returns (module, input shape) for a model name, weights seeded."""
    torch.manual_seed(SEED)
    if name == "resnet18":
        return torchvision.models.resnet18(weights=None), (1, 3, 224, 224)
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(weights=None), (1, 3, 224, 224)
    if name == "transformer":
        return EncoderNet(), (1, 16, 64)
    if name == "densenet_small":
        # DenseNet's blocks concatenate every earlier layer's output (the
        # planner's Concat families); small enough for the sanitizer runs
        return torchvision.models.DenseNet(growth_rate=16, block_config=(3, 4),
                                           num_init_features=32, bn_size=2,
                                           num_classes=10), (1, 3, 32, 32)
    raise ValueError("unknown model " + name)


MODELS = ["resnet18", "mobilenet_v2", "transformer", "densenet_small"]


def randomize_trivial(model, gen):
    """Replaces constant-initialised parameters and BatchNorm stats by random ones.

    Fresh BatchNorm/LayerNorm layers have weight 1 and bias 0 (and BatchNorm
    running mean 0, var 1), and attention biases start at 0: such tensors make
    a layer the identity, would let a broken kernel pass, and get merged into
    one initializer (plus Identity nodes) by the exporter.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
        for p in model.parameters():
            if p.numel() > 1 and bool((p == p.flatten()[0]).all()):
                base = 1.0 if float(p.flatten()[0]) == 1.0 else 0.0
                p.copy_(base + torch.randn(p.shape, generator=gen) * 0.1)


def op_histogram(model_proto):
    return collections.Counter(n.op_type for n in model_proto.graph.node)


def save_tensor(arr, path):
    with open(path, "wb") as f:
        f.write(onnx.numpy_helper.from_array(arr).SerializeToString())


def export(name, outdir, force):
    case = os.path.join(outdir, name)
    data = os.path.join(case, "test_data_set_0")
    files = [os.path.join(case, "model.onnx"), os.path.join(data, "input_0.pb"),
             os.path.join(data, "output_0.pb")]
    if not force and all(os.path.exists(p) for p in files):
        print("%s: exists, skipped (use --force to rebuild)" % case)
        return onnx.load(files[0])

    t0 = time.time()
    model, shape = build(name)
    gen = torch.Generator().manual_seed(SEED + 1)
    randomize_trivial(model, gen)
    model.eval()
    x = torch.randn(*shape, generator=gen)
    # Grad stays enabled on purpose: in eval mode under no_grad, torch's
    # TransformerEncoderLayer takes a fused "fast path" that has no ONNX export,
    # and the reference output must come from the same math that is exported.
    y = model(x).detach()

    # Export to memory first so a failed export leaves no half-written case.
    buf = io.BytesIO()
    torch.onnx.export(model, (x,), buf, opset_version=OPSET,
                      do_constant_folding=True, input_names=["input"],
                      output_names=["output"])
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto)

    os.makedirs(data, exist_ok=True)
    onnx.save(proto, files[0])
    save_tensor(x.numpy().astype(np.float32), files[1])
    save_tensor(y.numpy().astype(np.float32), files[2])
    for p in files:
        print("wrote %s (%d bytes)" % (p, os.path.getsize(p)))
    print("%s: exported in %.1fs" % (name, time.time() - t0))
    return proto


def report(name, proto):
    hist = op_histogram(proto)
    nodes = sum(hist.values())
    print("%s: opset %d, %d nodes: %s" % (
        name, proto.opset_import[0].version, nodes,
        " ".join("%s=%d" % kv for kv in sorted(hist.items()))))
    extra = sorted(set(hist) - CORE_OPS)
    if extra:
        print("%s: WARNING ops outside the core set: %s" % (name, " ".join(extra)))
    return extra


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--force", action="store_true", help="re-export existing models")
    ap.add_argument("--only", nargs="+", choices=MODELS, help="export only these")
    args = ap.parse_args()

    torch.set_num_threads(min(2, torch.get_num_threads()))
    t0 = time.time()
    bad = 0
    for name in args.only or MODELS:
        proto = export(name, args.outdir, args.force)
        bad += len(report(name, proto))
    print("done in %.1fs" % (time.time() - t0))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
