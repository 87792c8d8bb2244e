#!/usr/bin/env bash
# cost.sh: `onnxcc cost` (what bench/run.sh reads) totals the same FLOPs as a --profile binary's per-node counts.
set -uo pipefail
onnxcc=$1 src=$2 work=$3 models=${4:-}
rm -rf "$work" && mkdir -p "$work"
. "$(dirname "$0")/tally.sh"

# check NAME MODEL INPUT: the "total:" line against the sum over the profile JSON's nodes
check() {
    local name=$1 model=$2 input=$3 w=$work/$1
    mkdir -p "$w"
    if ! "$onnxcc" cost "$model" "$input" > "$w/cost" 2> "$w/err" ||
        ! "$onnxcc" build "$model" "$input" --profile -o "$w/prof" 2>> "$w/err" ||
        ! "$w/prof" "$input" --profile-json "$w/p.json" > /dev/null 2>> "$w/err"; then
        bad "$name: $(cat "$w/err")"
        return
    fi
    grep -qE '^total: [0-9]+ nodes, [0-9.]+ GFLOP, [0-9.]+ MB$' "$w/cost" && ok ||
        bad "$name: no total line: $(tail -1 "$w/cost")"
    if python3 - "$w/cost" "$w/p.json" <<'PY'; then ok; else bad "$name: cost and profile disagree"; fi
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^total: (\d+) nodes, ([0-9.]+) GFLOP, ([0-9.]+) MB$", text, re.M)
d = json.load(open(sys.argv[2]))
flops = sum(n["flops"] for n in d["nodes"])
assert int(m.group(1)) == len(d["nodes"]), "%s nodes, profile %d" % (m.group(1), len(d["nodes"]))
assert abs(float(m.group(2)) * 1e9 - flops) <= 1e-6 * max(flops, 1) + 1e3, (m.group(2), flops)
# the per-op rows add up to the total
rows = re.findall(r"^\S+\s+(\d+)\s+([0-9.]+)\s+[0-9.]+%\s+[0-9.]+$", text, re.M)
assert sum(int(r[0]) for r in rows) == int(m.group(1)), "rows do not add up to the node count"
assert abs(sum(float(r[1]) for r in rows) * 1e6 - flops) <= 1e-3 * max(flops, 1) + 1e4
PY
}

check digits "$src/examples/digits/digits.onnx" "$src/examples/digits/samples/digit_3_0.pb"
if [ -n "$models" ] && [ -f "$models/resnet18/model.onnx" ]; then
    check resnet18 "$models/resnet18/model.onnx" "$models/resnet18/test_data_set_0/input_0.pb"
    # resnet18 at 224x224: 1.81 GMAC (torchvision's figure), so 3.6 GFLOP
    grep -qE '^total: .*, 3\.6[0-9]* GFLOP' "$work/resnet18/cost" && ok ||
        bad "resnet18: $(tail -1 "$work/resnet18/cost"), expected about 3.6 GFLOP"
else
    echo "note: no resnet18 under '$models' (tests/models/make_models.py): not run, not counted"
fi
finish cost
