#!/usr/bin/python3
"""quant_report.py: writes docs/quantization.md from tools/quant-report.sh's results table.

Usage: quant_report.py RESULTS.tsv OUT.md --cpu LINE --date DATE --windows N --batch B
                       --bench N --digits-images N --seconds S --load L --onnxcc-version V
                       --commit C

Every figure in the Markdown comes from RESULTS.tsv; a configuration that failed shows
the compiler's message instead of figures, and the observations below the tables only
compare configurations that were measured.
"""
import argparse
import csv
import math

INTRO = """\
# Quantization

*Written by `tools/quant-report.sh` on {date}; do not edit by hand: re-run the script.*

onnxcc can compile a model with its weights, and optionally its activations, in fewer
bits. This page explains each format and method in a few lines and then measures all of
them on two small real tasks trained by scripts in `examples/`, on data Debian ships:

- **digits** (`examples/digits/`): a convnet (2 Conv + Gemm, {p_dig:,} parameters) on
  scikit-learn's 8x8 digits; top-1 accuracy on the {n_dig} held-out images, and the share
  of them on which the quantized binary predicts the same digit as the fp32 one.
- **charlm** (`examples/charlm/`): a character-level language model (embedding, Gemm
  256x256 twice, Gemm 256x97; {p_lm:,} parameters) trained on the GNU licence texts of
  `/usr/share/common-licenses`; perplexity per character on {windows} windows of 32
  characters spread evenly over the held-out last 10% of the text (11,038 characters),
  lower is better.

Calibration (`--calibrate`) always uses training data: 64 training images for digits,
1,024 windows of the training text (`examples/charlm/calib.txt`) for charlm.

## Options

```sh
onnxcc build model.onnx sample.pb -o bin --quantize int8 --calibrate DIR      # int8 PTQ
onnxcc build model.onnx sample.pb -o bin --quantize-weights int4              # weight-only
onnxcc build model.onnx sample.pb -o bin --quantize-weights int2 --method decoupleq --calibrate DIR
```

Weight-only formats (`--quantize-weights`) take the weights of MatMul, Gemm and Conv. A
Conv becomes `onnxcc.ConvWQ`: its weights `[M, C/group, kh, kw]` are grouped along the
reduction axis `C/group * kh * kw` in the order the Conv's im2col GEMM reads it, and the
kernel decodes them block by block into the GEMM's packed panels (bias, residual input and
fused activation kept); gptq and decoupleq take the Hessian of the im2col'ed input. A Conv
with one input channel per group (depthwise, or digits' first layer over a one-channel
image) stays float: its reduction is the window alone (9 weights for 3x3), shorter than a
group, and `--quant-report` says so. The digits rows named `-gemm` keep its Conv layers in
float (`--keep-float '/features/*'`): the Gemm alone is quantized, as before ConvWQ.

`--calibrate DIR` holds sample inputs (one tensor file per sample, or folders of
`input_K.pb`), `--calib-samples N` caps them, `--keep-float PATTERN` leaves matching nodes
in float, `--quant-report` prints each quantized layer's error against float and
`--save-onnx FILE` writes the quantized graph as ONNX in QDQ form. See `onnxcc --help`.

## Formats

Bits per weight count the scales and zero points, at the default groups, as
`runtime/k_wq.h` packs them:

| format | bits/weight | what is stored |
|---|---|---|
| `--quantize int8` | 8 (+ a float scale per output channel) | static post-training quantization: int8 weights per output channel, 8-bit activations with one scale and zero point per tensor chosen on the calibration samples; MatMul, Gemm and Conv then run as int8 dot products (VNNI where the target has it) |
| `int8`, `int4`, `int3`, `int2` | 9.25, 5.25, 4.25, 3.25 (b + 40/g) | weight-only, group-wise asymmetric integers: `w = s*(q - z)` with a float scale and a uint8 zero point per group of g = 32 weights along the reduction axis; activations stay float and the weights are decoded in registers |
| `ternary` | 3.0 | BitNet b1.58: `w in {{-1, 0, +1}}*s`, s the mean \\|w\\| of a group, 2 bits per weight plus a float scale per 32 |
| `ternary5` | 2.75 | the same trits packed 5 per byte (3^5 = 243 <= 256: 1.6 bits) |
| `sherry` | 2.25 | 3:4 sparse ternary: in every 4 weights exactly one is 0 and three are +-1, 5 bits per 4 weights (1.25 bits) plus the scale |
| `mxint8` | 8.25 | OCP MX: blocks of 32 int8 elements sharing one power-of-two scale (E8M0) |
| `mxfp8` | 8.25 | blocks of 32 FP8 E4M3 elements, E8M0 scale |
| `mxfp4` | 4.25 | blocks of 32 FP4 E2M1 elements (+-0, 0.5, 1, 1.5, 2, 3, 4, 6), E8M0 scale |
| `nvfp4` | 4.5 | NVIDIA's: blocks of 16 E2M1 elements with an FP8 E4M3 scale each, plus one float scale per tensor |

Activation ranges for `--quantize int8` (`--calib-method`): **minmax** takes the observed
extremes; **percentile** clips to the given share of \\|x\\| (`--percentile`, default
99.99), trading rare outliers for resolution; **entropy** picks the clipping threshold
whose quantized histogram is closest (KL divergence) to the float one, as TensorRT does.

## Methods (how weight codes are chosen, `--method`)

- **rtn**, round to nearest: each group's scale and zero point from its min and max, each
  weight rounded independently. No data needed; the baseline the others must beat.
- **gptq**: quantizes a layer's input columns one at a time and spreads each column's
  rounding error over the columns not yet quantized, weighted by the inverse Hessian
  `H = 2XX^T + lambda*I` of the calibration activations X, so the layer's output moves as
  little as possible (Frantar et al., 2022).
- **decoupleq**: treats the integer codes and the float (scale, zero) pairs as separate
  unknowns of `min ||WX - s*(Q - z)X||^2`: alternately solves the codes under their box
  constraint with the scales fixed, and the scales and zeros exactly by least squares with
  the codes fixed (Guo et al., 2024). Meant for 2 bits, where rtn breaks down. The result
  is still uniform integers, so the same kernels run it.

gptq and decoupleq apply to int8..int2 and ternary (this page measures ternary with rtn
only); sherry, MX and NVFP4 choose their codes by their own projection (sherry zeroes the
smallest \\|w\\| of every 4 and signs the rest; MX rounds each element to the nearest
representable value under the block's scale `2^(floor(log2(amax)) - emax)`, NVFP4 under
the E4M3 block scale nearest `amax/6` over a tensor scale `max|w|/(6*448)`).
The MX study this follows (INT vs FP formats) found that at 8 bits fine-grained integers
(MXINT8) are at least as accurate as FP8, while at 4 bits the FP formats usually win.

## Measurements

Machine (as the binaries describe it): `{cpu}`. Load average {load} at the end of the
run: the machine is shared, so latencies are noisy; compare rows of the same run only.
{version}, source tree at commit {commit}; the run took {seconds} s. Latency is the
median of `BIN --bench N` at one thread (N = {bench}; for a charlm binary slower than
10 ms, as many runs as take about 2 s, at least 5): one image for digits; for charlm one
batch of {batch} windows (the binary that is scored) and one window (a second build with
`--dim batch=1`: matrix-vector products, where weight-only formats pay off by reading
fewer bytes; the binaries print milliseconds with three decimals, so these have a
resolution of 1 us). **speedup** is fp32's median over the row's.

**bits/param** is 8 x the size of the weights file the binary carries (`onnxcc build
--weights file` writes `BIN.bin`) over the model's parameter count (every initializer
element: biases and charlm's embedding included, so it sits a little above the format's
nominal bits per weight; fp32 sits above 32 by the packed weight layout's padding and
alignment). A configuration marked *failed* was refused by the compiler (or
its binary failed); the message is the compiler's own.
"""

RERUN = """
## Re-running

```sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j
tools/quant-report.sh                 # {minutes} here; writes this page
tools/quant-report.sh --only 'fp32|int4' --out /tmp/q.md   # a subset, elsewhere
```

The examples are retrained by `examples/digits/train.py`, `examples/charlm/train.py` and
`examples/chartf/train.py`
(Debian's `/usr/bin/python3` with torch; `tools/install-deps.sh --examples` installs
scikit-learn for digits). `tests/quant_e2e.sh` checks a bounded slice of this table:
int8 PTQ agreement on digits, int4 rtn accuracy and perplexity, and 2-bit decoupleq
against 2-bit rtn.
"""


def num(v):
    try:
        return float(v)
    except ValueError:
        return None


def load(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def bits(r):
    b, p = num(r["bin_bytes"]), num(r["params"])
    return 8.0 * b / p if b and p else None


def us(ms):
    v = num(ms)
    return 1000.0 * v if v is not None else None


def kib(r):
    b = num(r["bin_bytes"])
    return b / 1024.0 if b else None


def fmt(v, spec, dash="-"):
    return dash if v is None else spec % v


def speedup(r, base, col="median_ms"):
    m, b = num(r[col]), num(base[col]) if base else None
    return b / m if m and b else None


def table(rows, model, batch=None):
    base = next((r for r in rows if r["config"] == "fp32" and r["status"] == "ok"), None)
    if model == "digits":
        head = ("| configuration | options | top-1 % | agrees with fp32 % | bits/param | "
                "weights KB | median us | speedup |\n|---|---|---|---|---|---|---|---|\n")
    else:
        head = ("| configuration | options | perplexity | vs fp32 | bits/param | weights KB | "
                "median us, batch %s | speedup | median us, batch 1 | speedup |\n"
                "|---|---|---|---|---|---|---|---|---|---|\n" % batch)
    out = [head]
    for r in rows:
        opts = "`%s`" % r["options"] if r["options"] else "(none)"
        if r["status"] != "ok":
            out.append("| %s | %s | *failed: %s* |%s\n" % (
                r["config"], opts, r["message"].replace("|", "\\|"),
                " |" * (5 if model == "digits" else 7)))
            continue
        m = num(r["metric"])
        if model == "digits":
            second = fmt(num(r["agree"]), "%.2f")
        else:
            bm = num(base["metric"]) if base else None
            second = fmt(m / bm if m and bm else None, "%.3fx")
        cells = [r["config"], opts, fmt(m, "%.2f" if model == "digits" else "%.3f"), second,
                 fmt(bits(r), "%.2f"), fmt(kib(r), "%.1f"),
                 fmt(us(r["median_ms"]), "%.1f"), fmt(speedup(r, base), "%.2fx")]
        if model == "charlm":
            cells += [fmt(us(r["median1_ms"]), "%.0f"),
                      fmt(speedup(r, base, "median1_ms"), "%.2fx")]
        out.append("| %s |\n" % " | ".join(cells))
    return "".join(out)


def observations(rows, model, batch=None):
    """Sentences comparing measured configurations only; none is written about a failed one."""
    ok = {r["config"]: r for r in rows if r["status"] == "ok"}
    failed = [r["config"] for r in rows if r["status"] != "ok"]
    lines = []
    lower_better = model == "charlm"
    metric = "perplexity" if lower_better else "top-1"

    def val(c):
        return num(ok[c]["metric"]) if c in ok else None

    if "fp32" in ok:
        lines.append("fp32: %s %s." % (metric, ok["fp32"]["metric"]))
    if failed:
        lines.append("%d of %d configurations were not measured (failed: %s); their row "
                     "gives the reason." % (len(failed), len(rows), ", ".join(failed)))
    if model == "digits":
        for c in ("int8-minmax", "int8-percentile", "int8-entropy"):
            if c in ok:
                lines.append("`%s` agrees with fp32 on %s%% of the held-out images "
                             "(top-1 %s%%)." % (c, ok[c]["agree"], ok[c]["metric"]))
    measured = [c for c in ok if c != "fp32"]
    if measured and val("fp32") is not None:
        key = (lambda c: val(c)) if lower_better else (lambda c: -val(c))
        best = min(measured, key=key)
        worst = max(measured, key=key)
        lines.append("Best quantized configuration: `%s` (%s %s); worst: `%s` (%s %s)." % (
            best, metric, ok[best]["metric"], worst, metric, ok[worst]["metric"]))
    for b in ("int4", "int3", "int2"):
        got = [(m, val("w-%s-%s" % (b, m))) for m in ("rtn", "gptq", "decoupleq")
               if val("w-%s-%s" % (b, m)) is not None]
        if len(got) > 1:
            lines.append("%s: %s." % (b, ", ".join("%s %s" % (m, v) for m, v in got)))
    for b in ("int8", "int4", "int3", "int2"):
        for m in ("rtn", "gptq"):
            c, g = "w-%s-%s" % (b, m), "w-%s-%s-gemm" % (b, m)
            if c in ok and g in ok:
                lines.append("`%s` with the Conv quantized too: top-1 %s at %s bits/param; "
                             "Gemm only (`%s`): %s at %s." % (
                                 c, ok[c]["metric"], fmt(bits(ok[c]), "%.2f"), g,
                                 ok[g]["metric"], fmt(bits(ok[g]), "%.2f")))
    pairs = [("w-mxint8", "w-mxfp8", "8 bits"), ("w-int4-rtn", "w-mxfp4", "4 bits"),
             ("w-int4-rtn", "w-nvfp4", "4 bits")]
    for a, b, what in pairs:
        if val(a) is not None and val(b) is not None:
            va, vb = val(a), val(b)
            if va == vb:
                who = "tie"
            else:
                who = a if (va < vb) == lower_better else b
            lines.append("At %s, INT vs FP: `%s` %s, `%s` %s (better: %s)." % (
                what, a, va, b, vb, who))
    fast = [(c, speedup(ok[c], ok.get("fp32"))) for c in measured]
    fast = [(c, s) for c, s in fast if s]
    if fast:
        c, s = max(fast, key=lambda t: t[1])
        where = " at batch %s" % batch if batch else ""
        if s > 1.0:
            lines.append("Fastest%s: `%s`, %.2fx fp32's speed (median latency)." % (where, c, s))
        else:
            lines.append("No quantized configuration is faster than fp32%s here; the "
                         "closest, `%s`, runs at %.2fx its speed." % (where, c, s))
    return "".join("- %s\n" % l for l in lines)


# ---- HGF low-rank correction and Hadamard rotation (configurations w-*-lr*, w-*-rot*) ----

HGF_INTRO = """
## Low-rank correction (HGF) and Hadamard rotation

Two additions to the weight-only formats, measured apart from the table above (their
baselines repeated from it):

- **`--lowrank R`** (HGF's correction for ternary, any format): each quantized layer also
  stores float32 factors A (N x R) and B (R x K) fitted to its residual `W - dequant(Q)` by
  truncated SVD (randomized subspace iteration in `passes/wq_lowrank.c`, no LAPACK), and
  computes `y = MatMulWQ(x) + (x B^T) A^T` with two standard MatMul nodes and an Add. The
  factors cost `32 R (N + K) / (N K)` bits per weight: at R = 8 that is 2.0 bits on
  charlm's 256x256 layers and 3.6 on its 97x256 one. A rank above min(N, K) is cut to it
  (digits' single Gemm is 10x128, so there R >= 10 stores W exactly: those rows are float
  accuracy at more than float's bits for that layer). `--quant-report` prints each
  layer's relative weight error before and after.
- **`--rotate hadamard`** (`--rotate-block N`, default the format's group): every MatMul
  and Gemm to be quantized reads `x H` (a new `onnxcc.Hadamard` op, a fast Walsh-Hadamard
  transform with AVX-512, AVX2 and portable paths in `runtime/k_hadamard.c`) and stores
  `H W` quantized: H is orthonormal and its own inverse, so in float nothing changes, while
  each block of a weight row has its outliers spread over the whole block before its
  scale is chosen. The previous layers here end in Relu (charlm) or MaxPool (digits), so
  H cannot be folded into them: it runs at inference, `K log2(block)` adds per row.

The bits/weight column is the quantized layers' nominal figure (format + scales +
factors, from the layers' shapes); bits/param is measured from the weights file as in the
tables above. At rank 16 the measured figure sits above the nominal one: pass `pack` lays
the K x 16 factor out in panels of the GEMM's 32 columns (on an AVX-512 target), half of
them padding; ranks below 16 stay unpacked and 32 fills the panels.
"""

# The weight-only layers of the two examples (N, K) and each format's nominal bits per
# weight at its default group (runtime/k_wq.h).
HGF_LAYERS = {"charlm": [(256, 256), (256, 256), (97, 256)], "digits": [(10, 128)]}
HGF_FMT_BITS = {"ternary": 3.0, "int4": 5.25, "mxfp4": 4.25, "nvfp4": 4.5}


def is_hgf(r):
    c = r["config"]
    return "-lr" in c or "-rot" in c


def hgf_bits(model, fmt, rank):
    tot = sum(n * k for n, k in HGF_LAYERS[model])
    extra = sum(32.0 * min(rank, n, k) * (n + k) for n, k in HGF_LAYERS[model])
    return HGF_FMT_BITS[fmt] + extra / tot


def hgf_section(rows):
    """The low-rank and rotation tables and what they show, from measured rows only."""
    ok = {(r["model"], r["config"]): r for r in rows if r["status"] == "ok"}
    allr = {(r["model"], r["config"]): r for r in rows}
    out = [HGF_INTRO]

    def metric(m, c):
        r = ok.get((m, c))
        return num(r["metric"]) if r else None

    def row(m, c, cells):
        r = allr.get((m, c))
        if r is None:
            return None
        if r["status"] != "ok":
            return "| %s | *failed: %s* |%s\n" % (c, r["message"].replace("|", "\\|"),
                                                  " |" * (len(cells) - 1))
        return "| %s | %s |\n" % (c, " | ".join(cells(r)))

    for m, label in (("charlm", "perplexity"), ("digits", "top-1 %")):
        base = ok.get((m, "fp32"))
        bm = num(base["metric"]) if base else None
        out.append("\n### Low-rank correction of ternary, %s\n\n" % m)
        lat_head = ("median us, batch 1 | median us, batch 256" if m == "charlm" else
                    "median us, 1 image")
        out.append("| configuration | rank | %s | vs fp32 | bits/weight | bits/param | %s |\n"
                   "|---|---|---|---|---|---|%s\n" % (label, lat_head,
                                                      "---|---|" if m == "charlm" else "---|"))
        for rank in (0, 8, 16, 32):
            c = "w-ternary" if rank == 0 else "w-ternary-lr%d" % rank

            def cells(r, rank=rank):
                v = num(r["metric"])
                rel = fmt(v / bm if v and bm else None, "%.3fx")
                lat = [fmt(us(r["median1_ms"]), "%.0f")] if m == "charlm" else []
                return [str(rank), fmt(v, "%.3f" if m == "charlm" else "%.2f"), rel,
                        "%.2f" % hgf_bits(m, "ternary", rank), fmt(bits(r), "%.2f")] + lat + [
                            fmt(us(r["median_ms"]), "%.0f")]
            line = row(m, c, cells)
            if line:
                out.append(line)
        out.append("\n### Hadamard rotation before 4-bit formats, %s\n\n" % m)
        out.append("| format | %s without rotation | rotated, block = group | rotated, "
                   "block 128 | median us without / with rotation (block = group), %s |\n"
                   "|---|---|---|---|---|\n" % (label, "batch 1" if m == "charlm" else "1 image"))
        col = "median1_ms" if m == "charlm" else "median_ms"
        for f in ("int4", "mxfp4", "nvfp4"):
            plain = "w-int4-rtn" if f == "int4" else "w-" + f
            vals = [metric(m, c) for c in (plain, "w-%s-rot" % f, "w-%s-rot128" % f)]
            spec = "%.3f" if m == "charlm" else "%.2f"
            lat = [ok.get((m, c)) for c in (plain, "w-%s-rot" % f)]
            lat = " / ".join(fmt(us(r[col]) if r else None, "%.0f") for r in lat)
            out.append("| %s | %s |\n" % (f, " | ".join(
                [fmt(v, spec, "not measured") for v in vals] + [lat])))
        out.append("\nWhat the figures show:\n\n")
        out.append(hgf_observations(m, metric, bm))
    return "".join(out)


def hgf_observations(m, metric, bm):
    lower = m == "charlm"
    name = "perplexity" if lower else "top-1"
    lines = []
    t = [(r, metric(m, "w-ternary" if r == 0 else "w-ternary-lr%d" % r)) for r in (0, 8, 16, 32)]
    t = [(r, v) for r, v in t if v is not None]
    if len(t) > 1:
        lines.append("Ternary %s by rank: %s (fp32 %s)." % (
            name, ", ".join("r = %d: %s (%.2f bits/weight)" % (r, v, hgf_bits(m, "ternary", r))
                            for r, v in t), bm))
    for label, suffix in (("block = group", "-rot"), ("block 128", "-rot128")):
        have = {}
        for f in ("int4", "mxfp4", "nvfp4"):
            plain = "w-int4-rtn" if f == "int4" else "w-" + f
            have[f] = (metric(m, plain), metric(m, "w-%s%s" % (f, suffix)))
        better = [f for f, (a, b) in have.items() if a is not None and b is not None and
                  ((b < a) if lower else (b > a))]
        worse = [f for f, (a, b) in have.items() if a is not None and b is not None and
                 ((b > a) if lower else (b < a))]
        same = [f for f, (a, b) in have.items() if a is not None and a == b]
        if any(a is not None and b is not None for a, b in have.values()):
            lines.append("Rotation, %s: %s." % (label, "; ".join(
                "%s for %s" % (w, ", ".join(fs)) for w, fs in
                (("better", better), ("worse", worse), ("unchanged", same)) if fs)))
        i_rot = have["int4"][1]
        fp = [v for f in ("mxfp4", "nvfp4") for v in have[f] if v is not None]
        if i_rot is not None and have["int4"][0] is not None and fp:
            best_fp = min(fp) if lower else max(fp)
            wins = (i_rot <= best_fp) if lower else (i_rot >= best_fp)
            plain_wins = ((have["int4"][0] <= best_fp) if lower else
                          (have["int4"][0] >= best_fp))
            lines.append("INT vs FP at 4 bits, %s: int4 %s unrotated, %s rotated; the best FP4 "
                         "figure (rotated or not) %s. %s" % (
                             label, have["int4"][0], i_rot, best_fp,
                             "Rotated int4 matches or beats every FP4 figure, as the study "
                             "found." if wins and not plain_wins else
                             "int4 already matches or beats FP4 without rotation here." if
                             plain_wins else
                             "Rotated int4 does not reach the best FP4 figure here, unlike "
                             "the study's finding."))
    return "".join("- %s\n" % l for l in lines)


CHARTF = """
### chartf: a transformer, static int8 and RepQuant (perplexity on {windows} held-out windows)

**chartf** (`examples/chartf/`) is a tiny character-level transformer ({p_tf:,} parameters:
2 pre-LayerNorm blocks, d = 64, 4 heads, context 32, Relu feed-forward of 256) trained on
the same text and split as charlm and scored the same way. Static int8 (`--quantize int8`)
quantizes every MatMul and Gemm: the projections with int8 weights per output channel,
and the two activation x activation products of each head (Q*K^T and P*V) with both
operands as per-tensor uint8 Q/DQ pairs (there is no integer kernel for those yet: they
run in float on the dequantized values, i.e. simulated).

RepQuant (`--repquant`, Li et al. 2024) adds two things for transformers:

- **ln**: a LayerNorm output's channels have very different ranges, so one per-tensor
  scale wastes codes on the narrow ones. Calibration takes each channel's range: its
  uint8 scale s_c and the offset o_c that maps the range onto 0..255. The LayerNorm's
  gamma and beta are divided by r_c = s_c / mean(s) (and beta shifted by
  mean(s) (o_c - round(mean(o)))), the next layers' weight rows multiplied by r_c and
  their biases corrected. The float graph computes the same outputs (within 1e-5 of
  the logits' spread), and the ordinary per-tensor quantizer then calibrated on the
  LayerNorm output gives every channel its per-channel codes.
- **log2**: Softmax outputs get 4-bit log2 codes, p = 2^-k with k = clamp(round(-log2 p),
  0, 15), instead of uniform uint8 (which rounds every probability under 1/510 to 0).
  P*V then needs only shifts and adds; here the codes are simulated in float (ONNX ops
  Log, Round, Clip, Pow), so the row measures accuracy, not speed.

"""


CHARTF_NOTE = """
Reading the table: log2 codes are a factor of 2 apart, so a probability between two
powers of two moves by up to 41% (0.7 becomes 0.5), while uniform uint8 moves it by at
most 1/510; log2 is finer only below about 0.01, and on this model the error on the large
probabilities weighs more. The latencies of the log2 rows include the float
simulation of the codes (six elementwise ops per Softmax), not a shift-and-add kernel.
Q*K^T and P*V run in float in every int8 row.
"""


def chartf_section(rows, windows, batch):
    """The transformer's table: perplexity and latency per configuration, then observations."""
    base = next((r for r in rows if r["config"] == "tf-fp32" and r["status"] == "ok"), None)
    out = ["| configuration | options | perplexity | vs fp32 | median ms, batch %s | speedup | "
           "median us, batch 1 | speedup |\n|---|---|---|---|---|---|---|---|\n" % batch]
    for r in rows:
        opts = "`%s`" % r["options"] if r["options"] else "(none)"
        if r["status"] != "ok":
            out.append("| %s | %s | *failed: %s* | | | | | |\n" % (
                r["config"], opts, r["message"].replace("|", "\\|")))
            continue
        m, bm = num(r["metric"]), num(base["metric"]) if base else None
        out.append("| %s |\n" % " | ".join([
            r["config"], opts, fmt(m, "%.3f"), fmt(m / bm if m and bm else None, "%.3fx"),
            fmt(num(r["median_ms"]), "%.2f"), fmt(speedup(r, base), "%.2fx"),
            fmt(us(r["median1_ms"]), "%.0f"), fmt(speedup(r, base, "median1_ms"), "%.2fx")]))
    ok = {r["config"]: num(r["metric"]) for r in rows if r["status"] == "ok"}
    lines = []
    if "tf-fp32" in ok:
        lines.append("fp32: perplexity %.3f." % ok["tf-fp32"])
    for a, b, what in (("tf-int8-minmax", "tf-int8-minmax-ln", "LayerNorm reparameterization, "
                        "minmax"),
                       ("tf-int8-percentile", "tf-int8-percentile-ln", "LayerNorm "
                        "reparameterization, percentile"),
                       ("tf-int8-minmax", "tf-int8-minmax-log2", "log2 Softmax"),
                       ("tf-int8-minmax-ln", "tf-int8-minmax-ln-log2", "log2 Softmax on top of "
                        "ln"),
                       ("tf-int8-minmax", "tf-int8-minmax-ln-log2", "both, minmax"),
                       ("tf-int8-percentile", "tf-int8-percentile-ln-log2", "both, "
                        "percentile")):
        if a in ok and b in ok and "tf-fp32" in ok:
            f = ok["tf-fp32"]
            lines.append("%s: `%s` %.3f (%+.3f over fp32) -> `%s` %.3f (%+.3f)." % (
                what, a, ok[a], ok[a] - f, b, ok[b], ok[b] - f))
    failed = [r["config"] for r in rows if r["status"] != "ok"]
    if failed:
        lines.append("Not measured (failed): %s; the row gives the reason." % ", ".join(failed))
    text = "".join(out) + "\nWhat the figures show:\n\n" + "".join("- %s\n" % l for l in lines)
    return (CHARTF.format(windows=windows, p_tf=int(rows[0]["params"]) if rows else 0) + text +
            CHARTF_NOTE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("out")
    for k in ("cpu", "date", "windows", "batch", "bench", "digits-images", "seconds", "load",
              "onnxcc-version", "commit"):
        ap.add_argument("--" + k, required=True)
    a = ap.parse_args()
    rows = load(a.results)
    dig = [r for r in rows if r["model"] == "digits"]
    lm = [r for r in rows if r["model"] == "charlm"]
    p_dig = int(dig[0]["params"]) if dig else 0
    p_lm = int(lm[0]["params"]) if lm else 0
    text = INTRO.format(date=a.date, p_dig=p_dig, n_dig=a.digits_images, p_lm=p_lm,
                        windows=a.windows, cpu=a.cpu, load=a.load, version=a.onnxcc_version,
                        seconds=a.seconds, bench=a.bench, batch=a.batch, commit=a.commit)
    text += "\n### digits (top-1 on %s held-out images)\n\n" % a.digits_images
    hgf = [r for r in rows if is_hgf(r)]
    dig = [r for r in dig if not is_hgf(r)]
    lm = [r for r in lm if not is_hgf(r)]
    text += table(dig, "digits") + "\nWhat the figures show:\n\n" + observations(dig, "digits")
    text += "\n### charlm (perplexity on %s held-out windows)\n\n" % a.windows
    text += (table(lm, "charlm", a.batch) + "\nWhat the figures show:\n\n" +
             observations(lm, "charlm", a.batch))
    tf = [r for r in rows if r["model"] == "chartf"]
    if tf:
        text += chartf_section(tf, a.windows, a.batch)
    if hgf:
        base = [r for r in rows if not is_hgf(r)]
        text += hgf_section(base + hgf)
    m = max(1, int(math.ceil(int(a.seconds) / 60.0)))
    text += RERUN.format(minutes="about %d minute%s" % (m, "s" if m > 1 else ""))
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
