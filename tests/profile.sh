#!/usr/bin/env bash
# profile.sh: --profile binaries time every node once per run, with the compiler's FLOPs, and change nothing else.
set -uo pipefail
onnxcc=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
. "$(dirname "$0")/tally.sh"

# check NAME MODEL INPUT "NODE=FLOPS ..." : build with and without --profile and compare.
check() {
    local name=$1 model=$2 input=$3 flops=$4 w=$work/$1
    mkdir -p "$w"
    if ! "$onnxcc" build "$model" "$input" --profile -o "$w/prof" 2>"$w/err" ||
        ! "$onnxcc" build "$model" "$input" -o "$w/plain" 2>"$w/err" ||
        ! "$onnxcc" compile "$model" "$input" --profile -o "$w/prof_c" >/dev/null 2>"$w/err" ||
        ! "$onnxcc" compile "$model" "$input" -o "$w/plain_c" >/dev/null 2>"$w/err"; then
        bad "$name: build: $(cat "$w/err")"
        return
    fi
    ok
    # the outputs are bit-identical: the timing hooks touch no tensor
    if "$w/plain" "$input" --out "$w/out_plain" >/dev/null &&
        "$w/prof" "$input" --out "$w/out_prof" --bench 3 --profile-json "$w/p.json" >"$w/table" &&
        diff -r "$w/out_plain" "$w/out_prof" >/dev/null; then
        ok
    else
        bad "$name: profiled outputs differ from the plain binary's"
        return
    fi
    # without --profile, no profiling symbol anywhere in the generated C
    if grep -lE 'rt_now_ms|RtProf|_profile|rt_main_profile|_prof\[' \
        "$w/plain_c"/*.c "$w/plain_c"/*.h >/dev/null; then
        bad "$name: the plain generated C mentions the profiler"
    else
        ok
    fi
    # every node the generated code runs (one comment per call) is listed once
    local nodes
    nodes=$("$onnxcc" inspect "$model" "$input" | sed -n 's/^# \([0-9]*\) nodes.*/\1/p')
    grep -q ": $nodes nodes, arena" "$w/prof_c"/*.c && ok ||
        bad "$name: inspect says $nodes nodes, the generated code another count"
    sed -n "s|^    /\* node '\(.*\)' (.*) \*/$|\1|p" "$w/prof_c"/*.c | sort >"$w/names_code"
    [ "$(wc -l <"$w/names_code")" = "$nodes" ] && ok || bad "$name: $nodes nodes, code calls $(wc -l <"$w/names_code")"
    # the table: one row per node, then the total
    local rows
    rows=$(sed -n '/^ *# *node /,/^total:/p' "$w/table" | grep -c '^ *[0-9]')
    [ "$rows" = "$nodes" ] && ok || bad "$name: the table has $rows rows for $nodes nodes"
    grep -q '^peak: [0-9.]* GFLOP/s fp32 FMA, [0-9.]* GB/s read (measured' "$w/table" && ok ||
        bad "$name: no peak line"
    grep -q '^cpu: ' "$w/table" && ok || bad "$name: no cpu line"
    # the JSON parses, names each node once, shares add up, FLOPs as by hand
    if python3 - "$w/p.json" "$w/names_code" "$flops" <<'EOF'; then ok; else bad "$name: JSON checks"; fi
import json, sys
d = json.load(open(sys.argv[1]))
names = sorted(n["name"] for n in d["nodes"])
code = sorted(open(sys.argv[2]).read().split("\n")[:-1])
assert names == code, "JSON nodes differ from the code's calls"
assert all(n["calls"] == d["runs"] == 3 for n in d["nodes"]), "calls != runs"
share = sum(n["share_pct"] for n in d["nodes"])
assert abs(share - 100.0) < 0.1, "shares sum to %f" % share
assert d["peak_gflops"] > 0 and d["peak_read_gbs"] > 0, "no peak"
by = {n["name"]: n for n in d["nodes"]}
for item in sys.argv[3].split():
    node, flops = item.rsplit("=", 1)
    assert by[node]["flops"] == int(flops), "%s: %d FLOPs, expected %s" % (node, by[node]["flops"], flops)
EOF
}

digits=$src/examples/digits
# Conv 3x3 16->32 on 4x4: 2*32*16*9*16; Gemm 128->10: 2*10*128
check digits "$digits/digits.onnx" "$digits/samples/digit_0_0.pb" \
    "/features/features.3/Conv=147456 /features/features.0/Conv=18432 /classifier/Gemm=2560"
models=$src/build/models
[ -d "$models" ] || models=$(dirname "$onnxcc")/models
if [ -f "$models/resnet18/model.onnx" ]; then
    # conv1 7x7 3->64 to 112x112: 2*64*3*49*112*112; fc 512->1000: 2*512*1000
    r=$models/resnet18
    check resnet18_model "$r/model.onnx" "$r/test_data_set_0/input_0.pb" \
        "/conv1/Conv=236027904 /fc/Gemm=1024000"
else
    echo "note: no build/models/resnet18; only digits checked"
fi

# a binary built without --profile refuses --profile-json in one line
"$work/digits/plain" "$digits/samples/digit_0_0.pb" --profile-json "$work/x.json" >/dev/null 2>"$work/err" &&
    bad "a plain binary accepted --profile-json" ||
    { grep -q "built without --profile" "$work/err" && ok || bad "refusal: $(cat "$work/err")"; }

finish profile
