#!/usr/bin/env bash
# lua.sh: --pipeline recipes (examples/lua/ and broken ones) do what they say, and fail cleanly.
#
# Usage: tests/lua.sh ONNXCC SRC WORK
#   - mixed_int4.lua on examples/chartf: inspect shows MatMulWQ int4 g64 on the 12 block
#     MatMuls and /head/MatMul still MatMul; the built binary's logits are byte for byte
#     those of the same choice made with flags (--quantize-weights int4 --group 64
#     --keep-float '*head*'), within 15% (relative L2) of the float32 interpreter's
#     and with its most likely next character;
#   - mixed_formats.lua on examples/chartf: int8 q/k/v/o, int4 g32 ff1/ff2, float head;
#     each layer's weight error equals the flags' for its format, logits near float32's;
#   - matmul_add_gemm.lua on tests/data/lua_mlp: both MatMul + Add pairs become Gemm
#     (g:match, g:replace), and the binary matches numpy within 1e-6;
#   - report.lua on examples/charlm: its total FLOPs equal `onnxcc cost`'s;
#   - fold_mul_one.lua on tests/data/lua_mul1: the two Mul-by-ones are gone, the Mul by
#     0.5 stays, and the built binary matches numpy's output within 1e-5;
#   - errors: a syntax error, a runaway loop, memory, io/os, API misuse and pipelines
#     that break the rules each give one line "FILE:LINE: message" (or the rule), exit
#     non-zero and leave no output folder behind.
set -uo pipefail
onnxcc=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
cd "$work" || exit 1
. "$src/tests/tally.sh"
ex=$src/examples/lua
tf=$src/examples/chartf
lm=$src/examples/charlm
mul=$src/tests/data/lua_mul1

# maxdiff A.pb B.pb: the largest absolute difference of two tensors (numpy as reference)
maxdiff() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
a, b = (numpy_helper.to_array(onnx.load_tensor(p)).astype(np.float64) for p in sys.argv[1:3])
print(float(np.max(np.abs(a - b))) if a.shape == b.shape else "shape")
PY
}
# within A B TOL: max |A - B| <= TOL
within() {
    local d
    d=$(maxdiff "$1" "$2")
    if [ "$d" != shape ] && /usr/bin/python3 -c "import sys; sys.exit(not $d <= $3)"; then ok
    else bad "$1 vs $2: max abs difference $d, tolerance $3"; fi
}

# w FILE TEXT: writes a recipe
w() { printf '%s\n' "$2" > "$1"; }
# near A B: A's relative L2 distance to B (printed) <= 0.15 and the same argmax
near() {
    local r
    r=$(/usr/bin/python3 - "$1" "$2" <<'PY'
import sys
import numpy as np
import onnx
from onnx import numpy_helper
a, b = (numpy_helper.to_array(onnx.load_tensor(p)).astype(np.float64) for p in sys.argv[1:3])
rel = np.linalg.norm(a - b) / np.linalg.norm(b)
print("%.4f %s" % (rel, "ok" if rel <= 0.15 and a.argmax() == b.argmax() else "bad"))
PY
)
    echo "${3:-mixed_int4} on chartf: relative L2 distance to fp32's logits ${r% *}"
    if [ "${r#* }" = ok ]; then ok; else bad "$1 vs $2: $r (need <= 0.15, same argmax)"; fi
}

# ---- mixed_int4.lua on chartf ----
ctx=$tf/samples/context_0.pb
expect_ok "$onnxcc" inspect "$tf/chartf.onnx" "$ctx" --dim batch=1 \
    --pipeline "$ex/mixed_int4.lua"
cp o.txt mixed.ir
wq=$(grep -c "= onnxcc.MatMulWQ(" mixed.ir) # the IR lines, not the cost table after them
int4=$(grep -c "MatMulWQ(.*{format=2, .*group=64," mixed.ir) # format 2: RT_WQ_INT4
if [ "$wq" = 12 ] && [ "$int4" = 12 ]; then ok
else bad "mixed_int4: $wq MatMulWQ nodes, $int4 of them int4 g64, expected 12: $(grep MatMulWQ mixed.ir | head -3)"; fi
if grep -q "= MatMul(.*# '/head/MatMul'" mixed.ir && ! grep -q "= onnxcc.MatMulWQ(.*head" mixed.ir; then ok
else bad "mixed_int4: /head/MatMul is not a float MatMul: $(grep head mixed.ir)"; fi
expect_ok "$onnxcc" build "$tf/chartf.onnx" "$ctx" --dim batch=1 \
    --pipeline "$ex/mixed_int4.lua" -o mixed_bin
expect_ok "$onnxcc" build "$tf/chartf.onnx" "$ctx" --dim batch=1 --quantize-weights int4 \
    --group 64 --keep-float '*head*' -o flags_bin
expect_ok "$onnxcc" run "$tf/chartf.onnx" "$ctx" --dim batch=1 --out ref
expect_ok ./mixed_bin "$ctx" --out mixed
expect_ok ./flags_bin "$ctx" --out flags
if cmp -s mixed/output_0.pb flags/output_0.pb; then ok
else bad "mixed_int4: the recipe's logits differ from the flags' (max $(maxdiff mixed/output_0.pb flags/output_0.pb))"; fi
near mixed/output_0.pb ref/output_0.pb

# ---- mixed_formats.lua on chartf: a format per layer ----
# q, k, v, o int8; ff1, ff2 int4 g32; the head float. Each layer's weight error
# in the recipe's report is the one the same format gets from the flags alone
# (the same codes from the same weights), and the logits stay near float32's.
expect_ok "$onnxcc" inspect "$tf/chartf.onnx" "$ctx" --dim batch=1 \
    --pipeline "$ex/mixed_formats.lua"
cp o.txt formats.ir
grep "^  [0-9.]*  */" e.txt | sort > formats.report
int8=$(grep -c "MatMulWQ(.*{format=1, .*group=32," formats.ir)
int4=$(grep -c "MatMulWQ(.*{format=2, .*group=32," formats.ir)
if [ "$int8" = 8 ] && [ "$int4" = 4 ] && grep -q "= MatMul(.*# '/head/MatMul'" formats.ir; then ok
else bad "mixed_formats: $int8 int8 and $int4 int4 g32 layers (want 8 and 4), head: $(grep head formats.ir | head -1)"; fi
"$onnxcc" inspect "$tf/chartf.onnx" "$ctx" --dim batch=1 --quantize-weights int8 \
    --quant-report 2>&1 >/dev/null | grep "/[qkvo]/MatMul" > flags.report
"$onnxcc" inspect "$tf/chartf.onnx" "$ctx" --dim batch=1 --quantize-weights int4 --group 32 \
    --quant-report 2>&1 >/dev/null | grep "/ff[12]/MatMul" >> flags.report
sort -o flags.report flags.report
if [ "$(wc -l < formats.report)" = 12 ] && cmp -s formats.report flags.report; then ok
else bad "mixed_formats: per-layer report differs from the flags': $(diff formats.report flags.report | head -4)"; fi
expect_ok "$onnxcc" build "$tf/chartf.onnx" "$ctx" --dim batch=1 \
    --pipeline "$ex/mixed_formats.lua" -o formats_bin
expect_ok ./formats_bin "$ctx" --out formats
near formats/output_0.pb ref/output_0.pb mixed_formats

# ---- report.lua on charlm ----
expect_ok "$onnxcc" inspect "$lm/charlm.onnx" --dim batch=1 --pipeline "$ex/report.lua"
got=$(grep -o "^total: [0-9]* nodes, [0-9.]* GFLOP" e.txt)
"$onnxcc" cost "$lm/charlm.onnx" --dim batch=1 > cost.txt 2>&1
want=$(grep -o "^total: [0-9]* nodes, [0-9.]* GFLOP" cost.txt)
if [ -n "$got" ] && [ "$got" = "$want" ]; then ok
else bad "report: '$got', onnxcc cost: '$want'"; fi
if grep -q "^Gemm  *3 " e.txt; then ok; else bad "report: no row of 3 Gemm nodes: $(cat e.txt)"; fi

# ---- the backend from a recipe: digits' object, as --backend llvm writes it ----
digits=$src/examples/digits/digits.onnx
if "$onnxcc" compile "$digits" --backend llvm -o flag_llvm > /dev/null 2>&1; then
    w backend.lua $'onnxcc.options{backend = "llvm"}\nreturn onnxcc.pipeline(2)'
    expect_ok "$onnxcc" compile "$digits" --pipeline backend.lua -o recipe_llvm
    if [ -f recipe_llvm/digits.o ] && [ ! -e recipe_llvm/digits.c ] &&
        cmp -s recipe_llvm/digits.h flag_llvm/digits.h; then ok
    else bad "backend.lua: no digits.o in place of digits.c: $(ls recipe_llvm)"; fi
else
    echo "lua: onnxcc built without the LLVM backend; the recipe's backend choice is not checked"
fi

# ---- matmul_add_gemm.lua on lua_mlp: a fusion through g:match and g:replace ----
mlp=$src/tests/data/lua_mlp
expect_ok "$onnxcc" inspect "$mlp/model.onnx" --pipeline "$ex/matmul_add_gemm.lua"
if grep -q "2 MatMul + Add pairs became Gemm" e.txt && [ "$(grep -c "= Gemm(" o.txt)" = 2 ] &&
    ! grep -q "= MatMul(\|= Add(" o.txt; then ok
else bad "matmul_add_gemm: $(cat e.txt) / $(grep -c "= Gemm(" o.txt) Gemm nodes"; fi
expect_ok "$onnxcc" build "$mlp/model.onnx" --pipeline "$ex/matmul_add_gemm.lua" -o mlp_bin
expect_ok ./mlp_bin "$mlp/input_0.pb" --out mlp_out
within mlp_out/output_0.pb "$mlp/output_0.pb" 1e-6

# ---- fold_mul_one.lua on lua_mul1 ----
expect_ok "$onnxcc" inspect "$mul/model.onnx" --pipeline "$ex/fold_mul_one.lua"
if grep -q "removed 2 Mul nodes" e.txt && ! grep -q "scale_one\|gain_ones" o.txt &&
    grep -q "scale_half" o.txt; then ok
else bad "fold_mul_one: $(cat e.txt) / $(grep -c . o.txt) IR lines"; fi
expect_ok "$onnxcc" build "$mul/model.onnx" --pipeline "$ex/fold_mul_one.lua" -o mul_bin
expect_ok ./mul_bin "$mul/input_0.pb" --out mul
within mul/output_0.pb "$mul/output_0.pb" 1e-5

# ---- the backend's target from a recipe ----
w target.lua $'onnxcc.options{target = "generic"}\nreturn onnxcc.pipeline(2)'
expect_ok "$onnxcc" compile "$mul/model.onnx" --pipeline target.lua -o target_c
if grep -q "^ARCH ?=$" target_c/Makefile && grep -q "generic target's GEMM tile" target_c/model.c
then ok; else bad "target.lua: the compiled folder is not for the generic target"; fi
expect_ok "$onnxcc" build "$mul/model.onnx" --pipeline target.lua -o target_bin
expect_ok ./target_bin "$mul/input_0.pb" --out target
within target/output_0.pb "$mul/output_0.pb" 1e-5

# ---- errors ----
# fails RECIPE PATTERN: compile with the recipe fails in one line matching PATTERN, and
# leaves no output folder
fails() {
    local recipe=$1 want=$2
    rm -rf out_err
    expect_error "$want" "$onnxcc" compile "$mul/model.onnx" --pipeline "$recipe" -o out_err
    if [ ! -e out_err ]; then ok; else bad "$recipe: left out_err behind"; fi
}
w syntax.lua $'onnxcc.run_pass("shape")\nlocal x = = 1'
fails syntax.lua "^onnxcc: syntax.lua:2: unexpected symbol"
w loop.lua $'onnxcc.run_pass("shape")\nwhile true do end'
fails loop.lua "^onnxcc: loop.lua:2: instruction limit reached"
w memory.lua $'local t = {}\nfor i = 1, 1e9 do t[i] = string.rep("x", 4096) .. i end'
fails memory.lua "^onnxcc: not enough memory\|^onnxcc: memory.lua:2: not enough memory"
w io.lua $'io.open("x.txt", "w")'
fails io.lua "^onnxcc: io.lua:1: attempt to index a nil value (global 'io')"
w os.lua $'os.execute("touch pwned")'
fails os.lua "^onnxcc: os.lua:1: attempt to index a nil value (global 'os')"
w load.lua $'load("return 1")'
fails load.lua "^onnxcc: load.lua:1: attempt to call a nil value (global 'load')"
w badarg.lua $'onnxcc.run_pass({})'
fails badarg.lua "^onnxcc: badarg.lua:1: bad argument #1 to 'run_pass' (string expected, got table)"
w unknown_pass.lua $'onnxcc.run_pass("shape")\nonnxcc.run_pass("nope")'
fails unknown_pass.lua "^onnxcc: unknown_pass.lua:2: unknown pass 'nope'"
w unknown_opt.lua $'onnxcc.options{quantize_weights = "int4", wq_grup = 64}'
fails unknown_opt.lua "^onnxcc: unknown_opt.lua:1: onnxcc.options: unknown option 'wq_grup'"
w bad_fmt.lua $'onnxcc.options{quantize_weights = "int5"}'
fails bad_fmt.lua "^onnxcc: bad_fmt.lua:1: onnxcc.options: bad quantize_weights 'int5'"
w bad_node_fmt.lua $'onnxcc.quantize_if(function(n)\n  return {format = "int5"}\nend)\nreturn onnxcc.pipeline(2)'
fails bad_node_fmt.lua "^onnxcc: bad_node_fmt.lua: onnxcc.quantize_if: bad format 'int5'"
w bad_node_group.lua $'onnxcc.quantize_if(function(n)\n  return {format = "mxfp4", group = 64}\nend)\nreturn onnxcc.pipeline(2)'
fails bad_node_group.lua "^onnxcc: bad_node_group.lua: onnxcc.quantize_if: group does not apply to the MX"
w late_backend.lua $'onnxcc.run_pass("shape")\nonnxcc.options{backend = "llvm"}\nreturn {"plan"}'
fails late_backend.lua "^onnxcc: late_backend.lua:2: onnxcc.options: backend 'llvm' after 'shape'"
w bad_target.lua $'onnxcc.options{target = "pentium"}'
fails bad_target.lua "^onnxcc: bad_target.lua:1: onnxcc.options: bad target 'pentium'"
w no_plan.lua $'return {"shape", "fold"}'
fails no_plan.lua "^onnxcc: no_plan.lua: the pipeline must end with 'plan' (the last pass run: 'fold')"
w after_plan.lua $'return {"shape", "plan", "dce"}'
fails after_plan.lua "pass 'dce' after 'plan': plan ends the pipeline"
w order.lua $'return {"shape", "dce", "fold", "plan"}'
fails order.lua "^onnxcc: order.lua:.*pass 'fold' cannot run after 'dce'"
w first.lua $'onnxcc.run_pass("fold")'
fails first.lua "^onnxcc: first.lua:1: the pipeline must start with 'shape'"
w shadow.lua $'onnxcc.pass("fold", function(g) end)'
fails shadow.lua "^onnxcc: shadow.lua:1: 'fold' is a built-in pass"
# edits that would break the graph
w edit_type.lua $'onnxcc.pass("p", function(g)\n  local relu = g:node("relu")\n  relu:set_input(1, g:value("x"))\nend)\nreturn {"shape", "p", "plan"}'
fails edit_type.lua "^onnxcc: edit_type.lua:3: set_input: node 'relu' input 1 is float32\[2,8\], value 'x' is float32\[2,16\]"
w edit_cycle.lua $'onnxcc.pass("p", function(g)\n  g:node("relu"):set_input(1, g:value("a"))\nend)\nreturn {"shape", "p", "plan"}'
fails edit_cycle.lua "^onnxcc: edit_cycle.lua:2: set_input: value 'a' is computed at or after node 'relu' (a cycle)"
w edit_dangling.lua $'onnxcc.pass("p", function(g)\n  g:remove_node(g:node("relu"))\nend)\nreturn {"shape", "p", "plan"}'
fails edit_dangling.lua "^onnxcc: edit_dangling.lua:2: remove_node: node 'gain_ones' reads 'r'"
w edit_out.lua $'onnxcc.pass("p", function(g)\n  g:remove_node(g:node("scale_half"), g:value("a"))\nend)\nreturn {"shape", "p", "plan"}'
fails edit_out.lua "^onnxcc: edit_out.lua:2: remove_node: 'scale_half' computes the graph output 'y'"
w stale.lua $'onnxcc.pass("p", function(g)\n  local n = g:node("scale_one")\n  g:remove_node(n, g:value("m"))\n  print(n.name)\nend)\nreturn {"shape", "p", "plan"}'
fails stale.lua "^onnxcc: stale.lua:4: bad argument #1: the node was removed from the graph"
w attr.lua $'onnxcc.pass("p", function(g)\n  g:node("fc"):set_attr("x", {})\nend)\nreturn {"shape", "p", "plan"}'
fails attr.lua "^onnxcc: attr.lua:2: attribute 'x': a list of 1 to 4096 numbers"
w add_bad.lua $'onnxcc.pass("p", function(g)\n  g:add_node{op = "Add", inputs = {g:value("x"), g:value("m")}}\nend)\nreturn {"shape", "p", "plan"}'
fails add_bad.lua "^onnxcc: add_bad.lua:2: add_node: .*Add"
# g:replace keeps the graph whole
rfails() {
    local recipe=$1 want=$2
    rm -rf out_err
    expect_error "$want" "$onnxcc" compile "$mlp/model.onnx" --pipeline "$recipe" -o out_err
    if [ ! -e out_err ]; then ok; else bad "$recipe: left out_err behind"; fi
}
pre=$'onnxcc.pass("p", function(g)\n'
post=$'\nend)\nreturn {"shape", "p", "plan"}'
w rep_two.lua "${pre}g:replace({g:node(\"fc1/MatMul\"), g:node(\"relu\")}, {op = \"Relu\", inputs = {g:value(\"x\")}})${post}"
rfails rep_two.lua "^onnxcc: rep_two.lua:2: replace: both 'm1' and 'r1' are read outside the nodes"
w rep_type.lua "${pre}g:replace({g:node(\"fc1/MatMul\"), g:node(\"fc1/Add\")}, {op = \"Relu\", inputs = {g:value(\"x\")}})${post}"
rfails rep_type.lua "^onnxcc: rep_type.lua:2: replace: the new Relu node cannot stand for 'a1' (float32\[4,64\], it computes float32\[4,32\]): its output's type differs"
w rep_inner.lua "${pre}g:replace({g:node(\"fc1/MatMul\"), g:node(\"fc1/Add\")}, {op = \"Relu\", inputs = {g:value(\"m1\")}})${post}"
rfails rep_inner.lua "^onnxcc: rep_inner.lua:2: replace: input 'm1' is computed by the nodes replaced"
w rep_out.lua "${pre}g:replace({g:node(\"softmax\")}, {op = \"Relu\", inputs = {g:value(\"a2\")}})${post}"
rfails rep_out.lua "^onnxcc: rep_out.lua:2: replace: 'softmax' computes the graph output 'y'"
w match_bad.lua "${pre}g:match{}${post}"
rfails match_bad.lua "^onnxcc: match_bad.lua:2: g:match: a list of 1 to 16 op names"
w pass_err.lua $'onnxcc.pass("p", function(g)\n  error("my pass gives up")\nend)\nreturn {"shape", "p", "plan"}'
fails pass_err.lua "^onnxcc: pass_err.lua:2: my pass gives up"
expect_error "cannot open missing.lua" "$onnxcc" inspect "$mul/model.onnx" --pipeline missing.lua
[ ! -e pwned ] && [ ! -e x.txt ] && ok || bad "a recipe wrote a file"

# misuse at scale: every attribute of every chartf node set to odd values and back, every
# input offered the graph's inputs, each under pcall; nothing crashes, and once the
# attributes are restored the model computes what it computed
cat > churn.lua <<'LUA'
local taken, refused = 0, 0
onnxcc.pass("churn", function(g)
  for n in g:nodes() do
    for name, v in pairs(n.attributes) do
      for _, x in ipairs{0, -1, 2, 7, -1000000000, 1000000000, 0.5, "x", {1, 2}, {0.5}} do
        if pcall(n.set_attr, n, name, x) then
          taken = taken + 1
          assert(pcall(n.set_attr, n, name, v))
        else
          refused = refused + 1
        end
      end
    end
    for i, v in ipairs(n.inputs) do
      if v then for _, w in ipairs(g.inputs) do
        if pcall(n.set_input, n, i, w) then n:set_input(i, v) end
      end end
    end
  end
  print("churn: taken " .. taken .. ", refused " .. refused)
end)
return {"shape", "churn", "fold", "noop", "recognize", "fuse", "fuse_chain", "dce", "plan"}
LUA
expect_ok "$onnxcc" run "$tf/chartf.onnx" "$ctx" --dim batch=1 --pipeline churn.lua --out churn
if grep -q "^churn: taken [1-9][0-9]*, refused [1-9]" e.txt &&
    cmp -s churn/output_0.pb ref/output_0.pb; then ok
else bad "churn: $(cat e.txt); logits max diff $(maxdiff churn/output_0.pb ref/output_0.pb)"; fi

# an edit that works: a Relu added after fc, read by scale_one; the outputs keep matching
w add_ok.lua $'onnxcc.pass("p", function(g)\n  local r = g:add_node{op = "Relu", name = "extra", inputs = {g:value("m")}}\n  g:node("scale_one"):set_input(1, r.outputs[1])\nend)\nreturn {"shape", "p", "plan"}'
expect_ok "$onnxcc" build "$mul/model.onnx" --pipeline add_ok.lua -o add_bin
expect_ok ./add_bin "$mul/input_0.pb" --out add
within add/output_0.pb "$mul/output_0.pb" 1e-5

finish lua
