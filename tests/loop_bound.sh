#!/usr/bin/env bash
# loop_bound.sh: a run-time Loop past its bound (--loop-max) fails the run with one line and a non-zero status, binary and interpreter alike.
set -uo pipefail
onnxcc=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
. "$(cd "$(dirname "$0")" && pwd)/tally.sh"
cd "$work" || exit 1
case=$src/tests/data/cases/test_loop_runtime_trip_count
# set k's inputs: M, x, a0, b0 (M is 5, 0, 1 and 4096 in sets 0..3)
inputs() { local d=$case/test_data_set_$1; echo "$d/input_0.pb $d/input_1.pb $d/input_2.pb $d/input_3.pb"; }

# bound 4: M = 0 and 1 run, M = 5 fails with RT_EBOUND (code 8)
expect_ok "$onnxcc" build "$case/model.onnx" --loop-max 4 -o bin4
expect_ok ./bin4 $(inputs 1)
expect_ok ./bin4 $(inputs 2) --out out2
[ -s out2/output_3.pb ] && ok || bad "no scan output written"
expect_error "past the bound the model was compiled for (--dim, --loop-max, --max-elements) (code 8)" ./bin4 $(inputs 0)
expect_error "needs more than 4 iterations, its bound (--loop-max N raises it)" \
    "$onnxcc" run "$case/model.onnx" $(inputs 0) --loop-max 4
# the default bound is 4096: M = 4096 runs
expect_ok "$onnxcc" build "$case/model.onnx" -o bin
expect_ok ./bin $(inputs 3)
# the generated header states the bound
expect_ok "$onnxcc" compile "$case/model.onnx" --loop-max 4 -o src4
grep -q "_LOOP_MAX 4$" src4/*.h && ok || bad "the header does not state the bound"
expect_error "bad --loop-max '0'" "$onnxcc" build "$case/model.onnx" --loop-max 0 -o bin0
finish loop_bound
