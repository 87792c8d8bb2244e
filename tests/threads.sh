#!/usr/bin/env bash
# threads.sh: a generated binary computes the same outputs with --threads 2 as with 1, and onnxcc --threads bakes its default.
set -uo pipefail
onnxcc=$1 src=$2 work=$3 models=${4:-}
rm -rf "$work" && mkdir -p "$work"
. "$(dirname "$0")/tally.sh"

# same NAME MODEL INPUT: one binary, run at 1, 2 and 3 threads; outputs bit-identical
# (every kernel's ranges own their outputs: no reduction is split).
same() {
    local name=$1 model=$2 input=$3 w=$work/$1
    mkdir -p "$w"
    if ! "$onnxcc" build "$model" "$input" -o "$w/bin" 2> "$w/err"; then
        bad "$name: build: $(cat "$w/err")"
        return
    fi
    for t in 1 2 3; do
        if ! "$w/bin" "$input" --threads "$t" --out "$w/out$t" > "$w/run$t" 2>&1; then
            bad "$name: --threads $t: $(tail -1 "$w/run$t")"
            return
        fi
    done
    diff -r "$w/out1" "$w/out2" > /dev/null && ok || bad "$name: --threads 2 differs from 1"
    diff -r "$w/out1" "$w/out3" > /dev/null && ok || bad "$name: --threads 3 differs from 1"
    # the timed runs too: the pool is reused run after run
    "$w/bin" "$input" --threads 2 --bench 5 > "$w/bench" 2>&1 &&
        grep -q '^threads: 2$' "$w/bench" && ok ||
        bad "$name: --bench 5 --threads 2: $(tail -1 "$w/bench")"
}

digits=$src/examples/digits
same digits "$digits/digits.onnx" "$digits/samples/digit_3_0.pb"
# resnet18 has MaxPool over 64 planes of 112x112: the pooling kernel splits its planes
if [ -n "$models" ] && [ -f "$models/resnet18/model.onnx" ]; then
    same resnet18 "$models/resnet18/model.onnx" "$models/resnet18/test_data_set_0/input_0.pb"
else
    echo "note: no resnet18 under '$models' (tests/models/make_models.py): not run, not counted"
fi

# onnxcc --threads 2: the default baked into main.c, the binary's flag still wins
in=$digits/samples/digit_3_0.pb
if "$onnxcc" build "$digits/digits.onnx" "$in" --threads 2 -o "$work/t2" 2> "$work/err"; then
    "$work/t2" "$in" --bench 2 | grep -q '^threads: 2$' && ok ||
        bad "onnxcc --threads 2: the binary does not default to 2 threads"
    "$work/t2" "$in" --bench 2 --threads 1 | grep -q '^threads: 1$' && ok ||
        bad "--threads 1 does not override the baked default"
    "$work/t2" "$in" --help | grep -q 'default 2' && ok || bad "--help does not show the default"
else
    bad "build --threads 2: $(cat "$work/err")"
fi
"$work/t2" "$in" --threads x > /dev/null 2>&1 && bad "--threads x accepted" || ok
"$onnxcc" build "$digits/digits.onnx" --threads -1 -o "$work/bad" > /dev/null 2>&1 &&
    bad "onnxcc --threads -1 accepted" || ok

# compile: main.c calls rt_main_threads, the Makefile links the pool
if "$onnxcc" compile "$digits/digits.onnx" --threads 4 -o "$work/c4" > /dev/null 2> "$work/err"; then
    grep -q 'rt_main_threads(4);' "$work/c4/main.c" && ok || bad "compile: no rt_main_threads(4)"
    grep -q -- '-pthread' "$work/c4/Makefile" && ok || bad "compile: the Makefile does not link -pthread"
else
    bad "compile --threads 4: $(cat "$work/err")"
fi
# the folder built the way the Makefile says for a C library without
# pthreads: the baked default of 4 gives a note and one thread; an explicit
# --threads 2 is refused
if make -s -C "$work/c4" LDLIBS= CFLAGS="-O0 -DONNXCC_NO_THREADS" > "$work/make.log" 2>&1; then
    "$work/c4/digits" "$in" --bench 1 > "$work/nt.out" 2> "$work/nt.err" &&
        grep -q '^threads: 1$' "$work/nt.out" && grep -q 'running on 1 thread, not 4' "$work/nt.err" &&
        ok || bad "no-threads build: $(cat "$work/nt.err")"
    "$work/c4/digits" "$in" --threads 2 > /dev/null 2>&1 && bad "no-threads build took --threads 2" || ok
else
    bad "make LDLIBS= CFLAGS=-DONNXCC_NO_THREADS: $(tail -3 "$work/make.log")"
fi
"$onnxcc" compile "$digits/digits.onnx" -o "$work/c1" > /dev/null 2>&1
# a library has no main.c to keep the default in: refused, not dropped
"$onnxcc" compile "$digits/digits.onnx" --no-main --threads 2 -o "$work/lib2" 2> "$work/lib2.err" &&
    bad "compile --no-main --threads 2 accepted" ||
    { grep -q 'rt_set_threads(2)' "$work/lib2.err" && [ ! -e "$work/lib2" ] && ok ||
        bad "compile --no-main --threads 2: $(cat "$work/lib2.err")"; }
# --threads 0 is every CPU this process may use, not every CPU online
if command -v taskset > /dev/null && taskset -c 0 true 2> /dev/null; then
    taskset -c 0 "$work/t2" "$in" --threads 0 --bench 1 | grep -q '^threads: 1$' && ok ||
        bad "taskset -c 0, --threads 0: not 1 thread"
else
    echo "note: no taskset: the affinity check is not run, not counted"
fi
grep -q 'rt_main_threads' "$work/c1/main.c" && bad "compile: rt_main_threads without --threads" || ok

# without pthreads (-DONNXCC_NO_THREADS, a bare-metal C library) the serial
# version compiles cleanly and refuses a second thread
cat > "$work/nothreads.c" <<'C'
#include "onnxcc_rt.h"
int main(void) { return rt_set_threads(2) == RT_ETHREAD && rt_threads() == 1 ? 0 : 1; }
C
if ${CC:-cc} -std=c99 -Wall -Wextra -Werror -DONNXCC_NO_THREADS -I"$src/runtime" \
    "$work/nothreads.c" "$src/runtime/rt_threads.c" "$src/runtime/rt_time.c" \
    -o "$work/nothreads" 2> "$work/err" && "$work/nothreads"; then
    ok
else
    bad "-DONNXCC_NO_THREADS: $(cat "$work/err")"
fi
finish threads
