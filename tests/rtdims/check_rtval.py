#!/usr/bin/python3
"""check_rtval.py: values known only at run time that decide shapes (Reshape's shape,
Unsqueeze's axes, Slice's starts and ends; Reduce axes, Split sizes, TopK's k, Compress's
condition as graph inputs; Expand, Tile, ConstantOfShape, Range, Pad, OneHot, HannWindow
and Resize, whose outputs grow with them up to --max-elements) or that a kernel reads
(Dropout's ratio and training_mode), with no sample at build time: one binary and the
interpreter serve every value, checked against NumPy, and an invalid value (or one past
--max-elements) fails cleanly.

Usage: check_rtval.py ONNXCC WORK

The model (built here with onnx.helper): y = 2 * Relu(Reshape(x, shape)),
z = Unsqueeze(x, axes), w = Slice(x, starts, ends, axes=[2]), x float [2, 3, 4]. Outputs must equal NumPy's exactly (the ops
only move and scale values; tolerance 0). A shape whose product is not 24 must fail with a
non-zero status, one line on stderr and no output file written.

The second model (opset 18), x float [2, 3, 4]: s = ReduceSum(x, raxes) (keepdims 0),
m = ReduceMax(x, maxes) (keepdims 1), p0, p1 = Split(x, parts, axis 2), v, i = TopK(x, k),
c = Compress(x, cond, axis 1), y = Dropout(x, ratio, training). ReduceSum within 1e-6
(summation order), the rest exactly. A k past the axis extent (5 > 4), training with a ratio
above 0 and split sizes that do not fill the axis must each fail the same clean way.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ONNXCC, WORK = sys.argv[1], sys.argv[2]
failures = 0


def report(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += 0 if ok else 1


def make_model(path):
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    ax = numpy_helper.from_array(np.array([2], dtype=np.int64), "ax")
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("Relu", ["r"], ["a"]),
             helper.make_node("Mul", ["a", "two"], ["y"]),
             helper.make_node("Unsqueeze", ["x", "axes"], ["z"]),
             helper.make_node("Slice", ["x", "starts", "ends", "ax"], ["w"])]
    g = helper.make_graph(
        nodes, "rtval",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4]),
         helper.make_tensor_value_info("shape", TensorProto.INT64, [3]),
         helper.make_tensor_value_info("axes", TensorProto.INT64, [1]),
         helper.make_tensor_value_info("starts", TensorProto.INT64, [1]),
         helper.make_tensor_value_info("ends", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b", "c"]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["d", "e", "f", "g"]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, ["h", "i", "j"])],
        [two, ax])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def save(arr, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(arr).SerializeToString())


def load(path):
    return numpy_helper.to_array(onnx.load_tensor(path))


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
model = os.path.join(WORK, "model.onnx")
make_model(model)
binary = os.path.join(WORK, "bin")
r = run([ONNXCC, "build", model, "-o", binary])
report(r.returncode == 0, "build without samples: " + r.stderr.strip())
if r.returncode:
    sys.exit(1)

# y's buffer is planned for x's 24 elements, not the product of its bounds (24^3)
src = os.path.join(WORK, "src")
r = run([ONNXCC, "compile", model, "-o", src, "--name", "m"])
header = open(os.path.join(src, "m.h")).read() if r.returncode == 0 else ""
# (the arena holds Relu's 24 floats, 96 bytes rounded up to 64-byte blocks: 128)
report("#define M_OUTPUT_0_MAX_SIZE 24 " in header and "#define M_ARENA_BYTES 128\n" in header,
       "y planned for 24 elements, the arena 128 bytes")

rng = np.random.default_rng(21)
x = rng.standard_normal((2, 3, 4)).astype(np.float32)
cases = [([4, 3, 2], [0], 1, 3), ([24, 1, 1], [3], 0, 4), ([-1, 2, 2], [-1], -3, -1),
         ([0, 4, -1], [1], 2, 100), ([1, 24, 1], [-4], 3, 1)]


def write_inputs(d, shape, axes, start, end):
    """x and the four deciding values as the model's input files in d, in input order."""
    os.makedirs(d)
    files = [os.path.join(d, n) for n in ("x.pb", "shape.pb", "axes.pb", "s.pb", "e.pb")]
    save(x, files[0])
    for f, v in zip(files[1:], (shape, axes, [start], [end])):
        save(np.array(v, dtype=np.int64), f)
    return files

for i, (shape, axes, start, end) in enumerate(cases):
    d = os.path.join(WORK, "set%d" % i)
    files = write_inputs(d, shape, axes, start, end)
    want_w = x[:, :, start:end]
    want_y = 2 * np.maximum(x.reshape([s if s else x.shape[k] for k, s in enumerate(shape)]), 0)
    want_z = np.expand_dims(x, axes[0])
    for who, cmd in (("binary", [binary] + files), ("interpreter", [ONNXCC, "run", model] + files)):
        out = os.path.join(d, who)
        r = run(cmd + ["--out", out])
        if r.returncode:
            report(False, "%s shape=%s axes=%s: %s" % (who, shape, axes, r.stderr.strip()))
            continue
        y, z = load(os.path.join(out, "output_0.pb")), load(os.path.join(out, "output_1.pb"))
        w = load(os.path.join(out, "output_2.pb"))
        ok = y.shape == want_y.shape and z.shape == want_z.shape and \
            w.shape == want_w.shape and np.array_equal(y, want_y) and \
            np.array_equal(z, want_z) and np.array_equal(w, want_w)
        report(ok, "%s shape=%s axes=%s slice %d:%d -> y %s, z %s, w %s" %
               (who, shape, axes, start, end, y.shape, z.shape, w.shape))

# a shape that does not fit the input's 24 elements, and an axis out of range
for i, (shape, axes) in enumerate([([5, 5, 1], [0]), ([4, 3, 2], [4])]):
    d = os.path.join(WORK, "bad%d" % i)
    files = write_inputs(d, shape, axes, 0, 2)
    for who, cmd in (("binary", [binary] + files), ("interpreter", [ONNXCC, "run", model] + files)):
        out = os.path.join(d, who)
        r = run(cmd + ["--out", out])
        lines = r.stderr.strip().splitlines()
        written = os.path.exists(os.path.join(out, "output_0.pb"))
        report(r.returncode != 0 and len(lines) == 1 and not written,
               "%s rejects shape=%s axes=%s: %s" % (who, shape, axes, r.stderr.strip()))



def make_model2(path):
    nodes = [helper.make_node("ReduceSum", ["x", "raxes"], ["s"], keepdims=0),
             helper.make_node("ReduceMax", ["x", "maxes"], ["m"], keepdims=1),
             helper.make_node("Split", ["x", "parts"], ["p0", "p1"], axis=2),
             helper.make_node("TopK", ["x", "k"], ["v", "i"]),
             helper.make_node("Compress", ["x", "cond"], ["c"], axis=1),
             helper.make_node("Dropout", ["x", "ratio", "training"], ["y"])]
    ins = [("x", TensorProto.FLOAT, [2, 3, 4]), ("raxes", TensorProto.INT64, [1]),
           ("maxes", TensorProto.INT64, [2]), ("parts", TensorProto.INT64, [2]),
           ("k", TensorProto.INT64, [1]), ("cond", TensorProto.BOOL, [3]),
           ("ratio", TensorProto.FLOAT, []), ("training", TensorProto.BOOL, [])]
    outs = [("s", TensorProto.FLOAT, 2), ("m", TensorProto.FLOAT, 3), ("p0", TensorProto.FLOAT, 3),
            ("p1", TensorProto.FLOAT, 3), ("v", TensorProto.FLOAT, 3), ("i", TensorProto.INT64, 3),
            ("c", TensorProto.FLOAT, 3), ("y", TensorProto.FLOAT, 3)]
    g = helper.make_graph(
        nodes, "rtval2", [helper.make_tensor_value_info(n, t, s) for n, t, s in ins],
        [helper.make_tensor_value_info(n, t, ["%s%d" % (n, a) for a in range(r)])
         for n, t, r in outs])
    # not checked: the onnx package Debian ships predates ReduceMax's axes input (opset 18)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    onnx.save(m, path)


def write_inputs2(d, values):
    os.makedirs(d)
    names = ("x", "raxes", "maxes", "parts", "k", "cond", "ratio", "training")
    files = [os.path.join(d, n + ".pb") for n in names]
    save(x, files[0])
    dtypes = (np.int64, np.int64, np.int64, np.int64, np.bool_, np.float32, np.bool_)
    for f, v, t in zip(files[1:], values, dtypes):
        save(np.array(v, dtype=t), f)
    return files


def want2(raxes, maxes, parts, k, cond):
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k[0]]
    return [x.sum(axis=tuple(raxes)), x.max(axis=tuple(maxes), keepdims=True),
            x[:, :, :parts[0]], x[:, :, parts[0]:], np.take_along_axis(x, order, -1), order,
            np.compress(cond, x, axis=1), x]


model2 = os.path.join(WORK, "model2.onnx")
make_model2(model2)
binary2 = os.path.join(WORK, "bin2")
r = run([ONNXCC, "build", model2, "-o", binary2])
report(r.returncode == 0, "build the second model without samples: " + r.stderr.strip())
cases2 = [([1], [0, 2], [1, 3], [2], [True, False, True], 0.0, True),
          ([-1], [1, -1], [4, 0], [4], [False, True, True], 0.7, False),
          ([0], [0, 1], [0, 4], [0], [False, False, False], 0.5, False)]
for i, vals in enumerate(cases2 if r.returncode == 0 else []):
    d = os.path.join(WORK, "set2_%d" % i)
    files = write_inputs2(d, vals)
    want = want2(*vals[:5])
    for who, cmd in (("binary", [binary2] + files), ("interpreter", [ONNXCC, "run", model2] + files)):
        out = os.path.join(d, who)
        r = run(cmd + ["--out", out])
        if r.returncode:
            report(False, "%s values %s: %s" % (who, vals, r.stderr.strip()))
            continue
        got = [load(os.path.join(out, "output_%d.pb" % j)) for j in range(len(want))]
        ok = all(g.shape == w.shape for g, w in zip(got, want))
        ok = ok and np.allclose(got[0], want[0], rtol=1e-6, atol=1e-6)
        ok = ok and all(np.array_equal(g, w) for g, w in zip(got[1:], want[1:]))
        report(ok, "%s reduce axes %s / %s, split %s, k %s, cond %s, dropout %s -> %s" %
               (who, vals[0], vals[1], vals[2], vals[3], vals[4], vals[5:],
                [g.shape for g in got]))

# k past the axis extent (its bound), training with a ratio above 0, parts not filling the axis
bad2 = [([1], [0, 2], [1, 3], [5], [True, True, True], 0.0, False),
        ([1], [0, 2], [1, 3], [2], [True, True, True], 0.5, True),
        ([1], [0, 2], [2, 3], [2], [True, True, True], 0.0, False)]
for i, vals in enumerate(bad2 if os.path.exists(binary2) else []):
    d = os.path.join(WORK, "bad2_%d" % i)
    files = write_inputs2(d, vals)
    for who, cmd in (("binary", [binary2] + files), ("interpreter", [ONNXCC, "run", model2] + files)):
        out = os.path.join(d, who)
        r = run(cmd + ["--out", out])
        lines = r.stderr.strip().splitlines()
        written = os.path.exists(os.path.join(out, "output_0.pb"))
        report(r.returncode != 0 and len(lines) == 1 and not written,
               "%s rejects split %s, k %s, dropout %s: %s" %
               (who, vals[2], vals[3], vals[5:], r.stderr.strip()))

# ---- outputs that grow with a value read at run time (--max-elements) ----
# One model, one op of each family: Expand(x, eshape), Tile(x, reps),
# ConstantOfShape(cshape) filled with 7, Range(start, limit, delta), Pad(x, pads)
# in reflect mode, OneHot(idx, depth), HannWindow(wsize) and Resize(x, scales) (nearest,
# asymmetric, floor: whole-number scales repeat rows and columns); x float [2, 3]. Each
# output is planned for --max-elements (64 here) elements; two sets of values
# run through one binary and the interpreter, compared with NumPy (movement ops
# exactly; Range and the window within 1e-6, as float32 arithmetic); a set that
# needs more than 64 elements fails with one line naming the tensor and
# --max-elements, a non-zero status and no output file.


def make_grow_model(path):
    seven = helper.make_tensor("seven", TensorProto.FLOAT, [1], [7.0])
    onoff = numpy_helper.from_array(np.array([0, 1], dtype=np.float32), "onoff")
    nodes = [helper.make_node("Expand", ["x", "eshape"], ["ye"]),
             helper.make_node("Tile", ["x", "reps"], ["yt"]),
             helper.make_node("ConstantOfShape", ["cshape"], ["yc"], value=seven),
             helper.make_node("Range", ["start", "limit", "delta"], ["yr"]),
             helper.make_node("Pad", ["x", "pads"], ["yp"], mode="reflect"),
             helper.make_node("OneHot", ["idx", "depth", "onoff"], ["yo"]),
             helper.make_node("HannWindow", ["wsize"], ["yw"]),
             helper.make_node("Resize", ["x", "", "scales"], ["ys"], mode="nearest",
                              coordinate_transformation_mode="asymmetric",
                              nearest_mode="floor")]
    scalar = lambda n, t: helper.make_tensor_value_info(n, t, [])
    g = helper.make_graph(
        nodes, "rtgrow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("eshape", TensorProto.INT64, [3]),
         helper.make_tensor_value_info("reps", TensorProto.INT64, [2]),
         helper.make_tensor_value_info("cshape", TensorProto.INT64, [2]),
         scalar("start", TensorProto.FLOAT), scalar("limit", TensorProto.FLOAT),
         scalar("delta", TensorProto.FLOAT),
         helper.make_tensor_value_info("pads", TensorProto.INT64, [4]),
         helper.make_tensor_value_info("idx", TensorProto.INT64, [3]),
         scalar("depth", TensorProto.INT64), scalar("wsize", TensorProto.INT64),
         helper.make_tensor_value_info("scales", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["%s%d" % (n, k) for k in range(r)])
         for n, r in (("ye", 3), ("yt", 2), ("yc", 2), ("yr", 1), ("yp", 2), ("yo", 2),
                      ("yw", 1), ("ys", 2))],
        [onoff])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def hann(n):
    i = np.arange(n, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2 * np.pi * i / n)).astype(np.float32)


gmodel = os.path.join(WORK, "grow.onnx")
make_grow_model(gmodel)
gbin = os.path.join(WORK, "grow_bin")
r = run([ONNXCC, "build", gmodel, "--max-elements", "64", "-o", gbin])
report(r.returncode == 0, "build the growing ops without samples: " + r.stderr.strip())
r = run([ONNXCC, "compile", gmodel, "--max-elements", "64", "-o", os.path.join(WORK, "gsrc"),
         "--name", "g"])
gheader = open(os.path.join(WORK, "gsrc", "g.h")).read() if r.returncode == 0 else ""
report(all("#define G_OUTPUT_%d_MAX_SIZE 64 " % k in gheader for k in range(8)),
       "each growing output planned for --max-elements 64")

x2 = rng.standard_normal((2, 3)).astype(np.float32)
grow_sets = [  # eshape, reps, cshape, (start, limit, delta), pads, idx, depth, wsize, scales
    ([2, 2, 3], [1, 2], [2, 5], (0, 5, 1), [0, 1, 1, 2], [0, 2, -1], 4, 8, [2, 1]),
    ([3, 2, 1], [3, 1], [7, 1], (10, 1, -2.5), [1, 0, 0, 1], [1, 5, 0], 6, 3, [1, 3])]


def write_grow(d, es, reps, cs, rng3, pads, idx, depth, ws, sc):
    os.makedirs(d)
    vals = [x2, np.array(es, np.int64), np.array(reps, np.int64), np.array(cs, np.int64)] + \
        [np.array(v, np.float32) for v in rng3] + \
        [np.array(pads, np.int64), np.array(idx, np.int64), np.array(depth, np.int64),
         np.array(ws, np.int64), np.array(sc, np.float32)]
    files = [os.path.join(d, "in%d.pb" % i) for i in range(len(vals))]
    for f, v in zip(files, vals):
        save(v, f)
    return files


for i, (es, reps, cs, rng3, pads, idx, depth, ws, sc) in enumerate(grow_sets):
    d = os.path.join(WORK, "grow%d" % i)
    files = write_grow(d, es, reps, cs, rng3, pads, idx, depth, ws, sc)
    pr = [pads[0], pads[2]], [pads[1], pads[3]]
    want = [x2 * np.ones(es, np.float32), np.tile(x2, reps), np.full(cs, 7, np.float32),
            np.arange(*rng3, dtype=np.float64).astype(np.float32),
            np.pad(x2, pr, mode="reflect"),
            np.eye(depth, dtype=np.float32)[np.where(np.array(idx) < 0, np.array(idx) + depth,
                                                     np.array(idx))]
            * (np.abs(np.array(idx)) < depth)[:, None], hann(ws),
            np.repeat(np.repeat(x2, sc[0], 0), sc[1], 1)]
    for who, cmd in (("binary", [gbin] + files),
                     ("interpreter", [ONNXCC, "run", gmodel, "--max-elements", "64"] + files)):
        out = os.path.join(d, who)
        r = run(cmd + ["--out", out])
        if r.returncode:
            report(False, "%s grow set %d: %s" % (who, i, r.stderr.strip()))
            continue
        got = [load(os.path.join(out, "output_%d.pb" % k)) for k in range(8)]
        ok = all(g.shape == w.shape for g, w in zip(got, want)) and \
            all(np.array_equal(got[k], want[k]) for k in (0, 1, 2, 4, 5, 7)) and \
            all(np.allclose(got[k], want[k], rtol=0, atol=1e-6) for k in (3, 6))
        report(ok, "%s grow set %d -> %s" % (who, i, [g.shape for g in got]))

# ConstantOfShape [9, 9]: 81 elements, past --max-elements 64
d = os.path.join(WORK, "growbad")
files = write_grow(d, [2, 2, 3], [1, 1], [9, 9], (0, 1, 1), [0, 0, 0, 0], [0, 1, 2], 3, 4,
                   [1, 1])
for who, cmd in (("binary", [gbin] + files),
                 ("interpreter", [ONNXCC, "run", gmodel, "--max-elements", "64"] + files)):
    out = os.path.join(d, who)
    r = run(cmd + ["--out", out])
    lines = r.stderr.strip().splitlines()
    written = os.path.exists(os.path.join(out, "output_0.pb"))
    report(r.returncode != 0 and len(lines) == 1 and not written and "'yc'" in r.stderr and
           "--max-elements" in r.stderr, "%s refuses 81 elements: %s" % (who, r.stderr.strip()))

print("check_rtval: %s" % ("all passed" if not failures else "%d failed" % failures))
sys.exit(1 if failures else 0)
