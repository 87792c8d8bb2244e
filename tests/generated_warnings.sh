#!/usr/bin/env bash
# generated_warnings.sh: the C onnxcc writes compiles with -Wall -Wextra -Werror under gcc and clang.
set -uo pipefail
onnxcc=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
node=/usr/share/libonnx-testdata/data/node
src=$(cd "$(dirname "$0")/.." && pwd)
. "$(dirname "$0")/tally.sh"
compilers="gcc"
if command -v clang-19 >/dev/null; then compilers="$compilers clang-19"
else bad "clang-19 is not installed (tools/install-deps.sh --tests installs it)"; fi
# A spread of what the emitter writes: C-array and blob weights, strings,
# data-dependent outputs, sequences, recurrent and quantized ops; and the
# timing hooks of --profile (the last field "profile" instead of weights).
cases="digits:$src/examples/digits/digits.onnx:c digits_obj:$src/examples/digits/digits.onnx:obj
digits_file:$src/examples/digits/digits.onnx:file digits_profile:$src/examples/digits/digits.onnx:profile
nonzero_profile:$node/test_nonzero_example/model.onnx:profile"
for t in test_lstm_defaults test_nonzero_example test_strnormalizer_export_monday_casesensintive_nochangecase \
    test_sequence_insert_at_back test_qlinearconv test_einsum_batch_matmul test_resize_downsample_scales_linear \
    test_optional_get_element_sequence test_unique_sorted_with_axis; do
    cases="$cases $t:$node/$t/model.onnx:auto"
done
flags="-O1 -Wall -Wextra -Werror"
# Every folder carries the same runtime: each compiler builds it once, from
# the first folder, with the flags above; the other folders compile their own
# model code and link that build, unless their runtime differs.
rtlib() {
    local cc=$1 dir=$2 out=$work/runtime.$1
    mkdir -p "$out"
    # shellcheck disable=SC2086
    ls "$dir"/runtime/*.c | xargs -P "$(nproc)" -I{} sh -c \
        "$cc -std=c99 -I'$dir/runtime' $flags -march=native -c {} -o '$out'/\$(basename {} .c).o" \
        && ar rcs "$out/libonnxcc_rt.a" "$out"/*.o
}
ref=""
for c in $cases; do
    name=${c%%:*} rest=${c#*:}
    model=${rest%:*} weights=${rest##*:}
    inputs=$(ls "$(dirname "$model")"/test_data_set_0/input_*.pb 2>/dev/null | sort -V)
    case $weights in
    auto) wopt="" ;;
    profile) wopt="--profile" ;;
    *) wopt="--weights $weights" ;;
    esac
    # shellcheck disable=SC2086
    if ! "$onnxcc" compile "$model" $inputs $wopt -o "$work/$name" >/dev/null 2>"$work/$name.err"; then
        bad "compile $name: $(cat "$work/$name.err")"; continue
    fi
    if [ -z "$ref" ]; then
        ref=$work/$name
        for cc in $compilers; do
            rtlib "$cc" "$ref" >"$work/runtime.$cc.log" 2>&1 ||
                { bad "the runtime with $cc:"; head -20 "$work/runtime.$cc.log"; }
        done
    fi
    shared=1
    diff -rq "$ref/runtime" "$work/$name/runtime" >/dev/null || shared=0
    for cc in $compilers; do
        if [ $shared = 1 ]; then
            set -- RUNTIME= LDLIBS="$work/runtime.$cc/libonnxcc_rt.a -lm -pthread"
        else
            set --
        fi
        if make -s -C "$work/$name" CC="$cc" CFLAGS="$flags" "$@" >"$work/$name.$cc.log" 2>&1; then
            ok
        else
            bad "$name with $cc:"; head -20 "$work/$name.$cc.log"
        fi
        make -s -C "$work/$name" clean >/dev/null 2>&1
    done
done
finish "generated_warnings ($compilers)"
