#!/usr/bin/env bash
# inspect.sh: inspect's four formats, --diff and stats agree with each other, `cost` and the plan.
# usage: inspect.sh ONNXCC SRC WORK [MODELS]
# The HTML check runs the page in headless Chromium; without chromium the test
# fails unless ONNXCC_TEST_NO_CHROMIUM=1 says to leave that check out.
set -uo pipefail
onnxcc=$1 src=$2 work=$3 models=${4:-}
rm -rf "$work" && mkdir -p "$work" && work=$(cd "$work" && pwd) # file:// URLs need it absolute
. "$(dirname "$0")/tally.sh"

chromium_bin=$(command -v chromium || command -v chromium-browser || true)

# check NAME MODEL INPUT
check() {
    local name=$1 model=$2 input=$3 w=$work/$1
    mkdir -p "$w"
    if ! "$onnxcc" inspect "$model" "$input" > "$w/text" 2> "$w/err" ||
        ! "$onnxcc" inspect "$model" "$input" --format json -o "$w/g.json" 2>> "$w/err" ||
        ! "$onnxcc" inspect "$model" "$input" --format json --diff -o "$w/diff.json" \
            2>> "$w/err" ||
        ! "$onnxcc" inspect "$model" "$input" --diff > "$w/diff.txt" 2>> "$w/err" ||
        ! "$onnxcc" inspect "$model" "$input" --format dot -o "$w/g.dot" 2>> "$w/err" ||
        ! "$onnxcc" inspect "$model" "$input" --format html --diff -o "$w/g.html" 2>> "$w/err" ||
        ! "$onnxcc" cost "$model" "$input" > "$w/cost" 2>> "$w/err" ||
        ! "$onnxcc" stats "$model" "$input" > "$w/stats" 2>> "$w/err"; then
        bad "$name: $(cat "$w/err")"
        return
    fi
    # the text format's node count is the reference for the others
    local n
    n=$(sed -nE 's/^# ([0-9]+) nodes, arena [0-9]+ bytes$/\1/p' "$w/text")
    [ -n "$n" ] && [ "$n" -gt 0 ] && ok || { bad "$name: no node count in the text"; return; }
    python3 -m json.tool "$w/g.json" > /dev/null && ok || bad "$name: the JSON does not parse"
    local j=$w/g.json
    python3 - "$j" "$w/diff.json" "$n" "$w/cost" "$w/stats" <<'PY' && ok || bad "$name: JSON checks"
import json, re, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[3])
nodes = d["nodes"]
assert d["onnxcc_inspect"] == 1
assert len(nodes) == n == d["totals"]["nodes"], (len(nodes), n)
assert [x["id"] for x in nodes] == list(range(n))
run = [x for x in nodes if x["step"] >= 0]
assert [x["step"] for x in run] == list(range(len(run))) and len(run) == d["totals"]["nodes_run"]
# every edge points back in the schedule, at a node producing that value
for x in nodes:
    for v in x["inputs"]:
        if "from" in v:
            p = nodes[v["from"]]
            assert v["from"] < x["id"] and v["name"] in [o["name"] for o in p["outputs"]], v
# the totals are the nodes' sums, and `onnxcc cost` counts the same FLOPs
flops = sum(x["flops"] for x in run)
assert abs(flops - d["totals"]["flops"]) <= 1e-9 * max(flops, 1)
m = re.search(r"^total: (\d+) nodes, ([0-9.]+) GFLOP", open(sys.argv[4]).read(), re.M)
assert int(m.group(1)) == len(run), (m.group(1), len(run))
assert abs(float(m.group(2)) * 1e9 - flops) <= 1e-6 * max(flops, 1) + 1e3, (m.group(2), flops)
assert sum(f["params"] for f in d["weight_formats"]) == d["totals"]["params"]
assert sum(f["bytes"] for f in d["weight_formats"]) == d["totals"]["weight_bytes"]
# the memory plan: inside the arena, and two buffers alive at the same step never
# share a byte (values of one buffer, a Reshape's or a Concat's slices, share its range)
arena = d["totals"]["arena_bytes"]
bufs = {}
for x in nodes:
    for v in x["outputs"]:
        if "offset" in v:
            assert 0 <= v["offset"] and v["offset"] + v["bytes"] <= arena, v
            assert 0 <= v["first"] <= v["last"] < len(run), v
            bufs[v["name"]] = v
vs = list(bufs.values())
assert vs, "no value in the arena"
for i, a in enumerate(vs):
    for b in vs[i + 1:]:
        if (a["first"], a["last"]) == (b["first"], b["last"]):
            continue
        if a["first"] <= b["last"] and b["first"] <= a["last"]:
            assert (a["offset"] + a["bytes"] <= b["offset"] or
                    b["offset"] + b["bytes"] <= a["offset"]), (a, b)
# --diff: each pass starts where the last one ended, and ends at the final graph
dd = json.load(open(sys.argv[2]))
passes = dd["diff"]
assert passes and len(dd["nodes"]) == n
for p, q in zip(passes, passes[1:]):
    assert p["nodes_after"] == q["nodes_before"], (p["pass"], q["pass"])
assert passes[-1]["nodes_after"] == n
# a fused node of the final graph names what it absorbed, as the diff said
final = {x["name"]: x["fused_from"] for x in dd["nodes"]}
for p in passes:
    for f in p["fused"]:
        if f["name"] in final:
            assert set(f["from"]) <= set(final[f["name"]]), (p["pass"], f)
# stats: the same totals, and the roofline is the sum of per-node bounds at the
# peak it printed
st = open(sys.argv[5]).read()
g = lambda pat: float(re.search(pat, st, re.M).group(1))
assert int(g(r"^parameters: (\d+)")) == d["totals"]["params"]
assert abs(g(r"^flops: ([0-9.]+) GFLOP") * 1e9 - flops) <= 1e-6 * max(flops, 1) + 1e3
assert int(g(r"^arena: (\d+) bytes")) == arena
gf, bw = g(r"^peak: ([0-9.]+) GFLOP/s"), g(r", ([0-9.]+) GB/s")
assert gf > 0 and bw > 0, (gf, bw)
est = sum(max(x["flops"] / (gf * 1e6), x["bytes"] / (bw * 1e6)) for x in run)
got = g(r"^roofline: ([0-9.]+) ms")
assert abs(got - est) <= 0.01 * est + 1e-4, (got, est)
PY
    # the text --diff lists the same passes as the JSON
    local np
    np=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["diff"]))' \
        "$w/diff.json")
    [ "$(grep -c '^pass ' "$w/diff.txt")" = "$np" ] &&
        ok || bad "$name: text and JSON diffs list different passes"
    # DOT: one box per node, and Graphviz renders it
    [ "$(grep -cE '^  n[0-9]+ \[' "$w/g.dot")" = "$n" ] && ok || bad "$name: DOT node count"
    if command -v dot > /dev/null; then
        dot -Tsvg "$w/g.dot" -o "$w/g.svg" 2> "$w/dot.err" && [ ! -s "$w/dot.err" ] &&
            [ "$(grep -c 'class="node"' "$w/g.svg")" -ge "$n" ] && ok ||
            bad "$name: dot -Tsvg: $(head -3 "$w/dot.err")"
    else
        echo "note: no graphviz dot: rendering not checked, not counted"
    fi
    # HTML: self-contained (no URL it would fetch), loads without a console error,
    # and draws every node (in a box of its own or inside a group's)
    ! grep -qiE '(src|href)="?(https?:)?//' "$w/g.html" && ok || bad "$name: the page fetches something"
    if [ -n "$chromium_bin" ]; then
        "$chromium_bin" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
            --user-data-dir="$w/chromium" --virtual-time-budget=5000 \
            --dump-dom "file://$w/g.html" > "$w/dom.html" 2> "$w/chromium.log"
        python3 - "$w/dom.html" "$w/chromium.log" "$n" <<'PY' && ok || bad "$name: html in chromium"
import re, sys
dom, log, n = open(sys.argv[1]).read(), open(sys.argv[2]).read(), int(sys.argv[3])
m = re.search(r'<span id="status"([^>]*)>', dom)
assert m, "no status element: the script did not run"
attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
assert attrs["data-errors"] == "0", attrs
assert int(attrs["data-nodes"]) == n and int(attrs["data-drawn-nodes"]) == n, (attrs, n)
boxes = re.findall(r'<g class="item[^"]*"[^>]*data-count="(\d+)"', dom)
assert len(boxes) == int(attrs["data-items"]) and sum(map(int, boxes)) == n, (len(boxes), attrs)
console = [l for l in log.splitlines() if "CONSOLE" in l or "Uncaught" in l]
assert not console, console
PY
        # collapsed to the first name prefixes (depth 0) and searched for MatMul-like ops: fewer
        # boxes, every node still inside one, and the matches the JSON has
        "$chromium_bin" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
            --user-data-dir="$w/chromium" --virtual-time-budget=5000 \
            --dump-dom "file://$w/g.html#depth=0&search=matmul" > "$w/dom1.html" 2> "$w/chromium1.log"
        python3 - "$w/dom1.html" "$w/chromium1.log" "$n" "$w/g.json" <<'PY' && ok || bad "$name: html collapsed"
import json, re, sys
dom, log, n = open(sys.argv[1]).read(), open(sys.argv[2]).read(), int(sys.argv[3])
nodes = json.load(open(sys.argv[4]))["nodes"]
attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', re.search(r'<span id="status"([^>]*)>', dom).group(1)))
assert attrs["data-errors"] == "0" and int(attrs["data-drawn-nodes"]) == n, attrs
# a node is boxed alone or in the group of its first name prefix
groups = {x["name"].strip("/").split("/")[0] for x in nodes if x["name"].strip("/").count("/")}
alone = sum(1 for x in nodes if not x["name"].strip("/").count("/"))
assert int(attrs["data-items"]) == len(groups) + alone, (attrs, len(groups), alone)
want = sum(1 for x in nodes if "matmul" in (x["name"] + " " + x["op"]).lower())
assert int(attrs["data-matches"]) == want, (attrs, want)
assert not [l for l in log.splitlines() if "CONSOLE" in l or "Uncaught" in l]
PY
    elif [ "${ONNXCC_TEST_NO_CHROMIUM:-}" = 1 ]; then
        echo "note: ONNXCC_TEST_NO_CHROMIUM=1: the page was not loaded, not counted"
    else
        bad "$name: no chromium to load the page (apt-get install chromium, or set ONNXCC_TEST_NO_CHROMIUM=1)"
    fi
}

check digits "$src/examples/digits/digits.onnx" "$src/examples/digits/samples/digit_3_0.pb"
# digits at -O0: its parameters are its initializers' elements, all read
"$onnxcc" stats "$src/examples/digits/digits.onnx" "$src/examples/digits/samples/digit_3_0.pb" -O0 \
    > "$work/stats_O0" 2>&1 && grep -q '^parameters: 6090 ' "$work/stats_O0" && ok ||
    bad "digits -O0: $(grep parameters "$work/stats_O0"), expected 6090 (the initializers)"
# the fusion digits goes through: each Conv absorbed its Relu
python3 - "$work/digits/diff.json" <<'PY' && ok || bad "digits: fused Conv+Relu not in the diff"
import json, sys
d = json.load(open(sys.argv[1]))
fuse = [p for p in d["diff"] if p["pass"] == "fuse"][0]
got = sorted((f["name"], tuple(f["from"])) for f in fuse["fused"])
assert got == [("/features/features.0/Conv", ("/features/features.1/Relu",)),
               ("/features/features.3/Conv", ("/features/features.4/Relu",))], got
assert fuse["nodes_before"] - fuse["nodes_after"] == 2 and not fuse["removed"]
PY
if [ -n "$models" ] && [ -f "$models/transformer/model.onnx" ]; then
    t=$models/transformer
    check transformer "$t/model.onnx" "$t/test_data_set_0/input_0.pb"
    # recognize builds each Gelu from the exporter's Div, Erf, Add and Mul
    python3 - "$work/transformer/diff.json" <<'PY' && ok || bad "transformer: Gelu not in the diff"
import json, sys
d = json.load(open(sys.argv[1]))
rec = [p for p in d["diff"] if p["pass"] == "recognize"][0]
got = sorted((f["name"], f["op"], tuple(f["from"])) for f in rec["fused"])
want = [("/encoder/layers.%d/Mul_1" % k, "Gelu",
         tuple("/encoder/layers.%d/%s" % (k, s) for s in ("Div", "Erf", "Add_1", "Mul")))
        for k in (0, 1)]
assert got == want, got
assert rec["nodes_before"] - rec["nodes_after"] == 8 and not rec["removed"] and not rec["added"]
PY
    # int4 weights: the same parameters as float32, in their format and about 5 bits each
    "$onnxcc" inspect "$t/model.onnx" "$t/test_data_set_0/input_0.pb" --format json \
        --quantize-weights int4 --group 32 -o "$work/int4.json" 2> "$work/int4.err" &&
        python3 - "$work/int4.json" "$work/transformer/g.json" <<'PY' && ok || bad "int4 weights"
import json, sys
q, f = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert q["totals"]["params"] == f["totals"]["params"], (q["totals"], f["totals"])
fmt = {x["format"]: x for x in q["weight_formats"]}
i4 = fmt["int4 g32"]
assert i4["tensors"] == sum(1 for n in q["nodes"] if n["weight_format"] == "int4 g32") > 0
assert 4 <= 8 * i4["bytes"] / i4["params"] <= 6, i4
PY
else
    echo "note: no transformer under '$models' (tests/models/make_models.py): not run, not counted"
fi
# a graph of thousands of nodes: the page opens collapsed under 400 boxes that
# hold every node, with no console error
if [ -n "$chromium_bin" ] && /usr/bin/python3 -c 'import onnx' 2> /dev/null; then
    /usr/bin/python3 - "$work/big.onnx" <<'PY'
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
nodes, inits, x = [], [], "x"
for k in range(1000):  # MatMul, Add, Relu, residual Add: 4000 ONNX nodes
    p = "/blocks.%d/layer.%d/" % (k // 10, k % 10)
    w = np.full((16, 16), 0.01, np.float32)
    inits += [numpy_helper.from_array(w, p + "w"), numpy_helper.from_array(w[0], p + "b")]
    nodes += [helper.make_node("MatMul", [x, p + "w"], [p + "mm"], p + "MatMul"),
              helper.make_node("Add", [p + "mm", p + "b"], [p + "ab"], p + "Add"),
              helper.make_node("Relu", [p + "ab"], [p + "r"], p + "Relu"),
              helper.make_node("Add", [p + "r", x], [p + "y"], p + "Add_1")]
    x = p + "y"
g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                      [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 16])], inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
PY
    w=$work/big
    mkdir -p "$w"
    "$onnxcc" inspect "$work/big.onnx" --format html -o "$w/g.html" 2> "$w/err" &&
        "$chromium_bin" --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 \
            --user-data-dir="$w/chromium" --virtual-time-budget=20000 \
            --dump-dom "file://$w/g.html" > "$w/dom.html" 2> "$w/chromium.log" &&
        python3 - "$w/dom.html" "$w/chromium.log" <<'PY' && ok || bad "big graph: $(cat "$w/err")"
import re, sys
dom, log = open(sys.argv[1]).read(), open(sys.argv[2]).read()
attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', re.search(r'<span id="status"([^>]*)>', dom).group(1)))
n = int(attrs["data-nodes"])
assert n >= 1000 and int(attrs["data-drawn-nodes"]) == n, attrs
assert 1 <= int(attrs["data-items"]) <= 400 and attrs["data-errors"] == "0", attrs
assert not [l for l in log.splitlines() if "CONSOLE" in l or "Uncaught" in l]
print("big graph: %s nodes in %s boxes" % (n, attrs["data-items"]))
PY
else
    echo "note: no chromium or no python3 onnx: the large-graph page not checked, not counted"
fi
finish inspect
