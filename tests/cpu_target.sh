#!/usr/bin/env bash
# cpu_target.sh: --target levels build, run where the CPU has them, and refuse in one line where it does not.
set -euo pipefail
onnxcc=$1 ex=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
model=$ex/digits.onnx
sample=$(ls "$ex"/samples/digit_*.pb | head -1)
. "$(dirname "$0")/tally.sh"

# The CPU this ran on, so a failure can be tied to its machine.
"$onnxcc" --version | sed -n 2p

# Does this CPU have every flag /proc/cpuinfo must show for a level?
has_flags() {
    local f
    for f in "$@"; do grep -qw "$f" /proc/cpuinfo || return 1; done
}
level_flags() {
    case $1 in
    generic) echo "" ;;
    x86-64-v2) echo "sse4_2 popcnt ssse3" ;;
    x86-64-v3) echo "sse4_2 popcnt avx avx2 fma bmi1 bmi2 f16c movbe" ;;
    x86-64-v4) echo "sse4_2 avx2 fma avx512f avx512bw avx512cd avx512dq avx512vl" ;;
    esac
}

# A refusal is exactly one line on stderr naming the feature, exit status 1,
# and nothing on stdout.
expect_refusal() { # BIN FEATURE [ENV...]
    local bin=$1 feat=$2; shift 2
    local st=0
    env "$@" "$bin" "$sample" >"$work/out" 2>"$work/err" || st=$?
    if [ "$st" = 1 ] && [ "$(wc -l < "$work/err")" = 1 ] && [ ! -s "$work/out" ] &&
        grep -q "built for CPUs with $feat, which this CPU" "$work/err"; then
        ok
    else
        bad "$(basename "$bin") with $*: expected a one-line refusal naming $feat" \
            "(status $st): $(cat "$work/err")"
    fi
}

"$onnxcc" build "$model" --target bogus -o "$work/none" 2>"$work/err" && bad "--target bogus accepted" ||
    { grep -q "bad --target 'bogus'" "$work/err" && ok || bad "--target bogus: $(cat "$work/err")"; }
[ ! -e "$work/none" ] && ok || bad "--target bogus left a file behind"

for level in generic x86-64-v2 x86-64-v3 x86-64-v4; do
    bin=$work/digits_$level
    if ! "$onnxcc" build "$model" --target "$level" -o "$bin" 2>"$work/err"; then
        bad "build --target $level: $(cat "$work/err")"
        continue
    fi
    ok
    # shellcheck disable=SC2046
    if has_flags $(level_flags "$level"); then
        if "$bin" "$sample" >"$work/out" 2>"$work/err" && grep -q "argmax" "$work/out"; then
            ok
        else
            bad "$level binary on a CPU that has the level: $(cat "$work/err")"
        fi
    else
        echo "note: this CPU is below $level; only its refusal is checked"
    fi
    # the start-up check pointed at a feature the level needs
    case $level in
    generic)
        # portable code needs nothing beyond the baseline: hiding features changes nothing
        if ONNXCC_CPU_DISABLE=avx2,avx,sse4.2 "$bin" "$sample" >"$work/out" 2>&1; then ok
        else bad "generic binary refused: $(cat "$work/out")"; fi ;;
    x86-64-v2) expect_refusal "$bin" sse4.2 ONNXCC_CPU_DISABLE=sse4.2 ;;
    x86-64-v3) expect_refusal "$bin" avx2 ONNXCC_CPU_DISABLE=avx2 ;;
    x86-64-v4) expect_refusal "$bin" avx512f ONNXCC_CPU_DISABLE=avx512f ;;
    esac
done

# The same check guards a compiled folder built with its own Makefile.
"$onnxcc" compile "$model" --target x86-64-v3 -o "$work/folder" >/dev/null
grep -q -- "-march=x86-64-v3" "$work/folder/Makefile" && ok || bad "Makefile lacks -march=x86-64-v3"
make -s -C "$work/folder" >/dev/null 2>&1 && ok || bad "make in the compiled folder failed"
expect_refusal "$work/folder/digits" avx2 ONNXCC_CPU_DISABLE=avx2

# Its Conv weights are packed for the v3 GEMM tile (6 x 16): CFLAGS of the
# user's own keep the ISA (ARCH), and dropping ARCH stops the C compiler
# with a message rather than building a binary whose every run fails.
make -s -C "$work/folder" clean >/dev/null
if make -s -C "$work/folder" CFLAGS="-O1" >/dev/null 2>&1; then
    ok
    # shellcheck disable=SC2046
    if has_flags $(level_flags x86-64-v3); then
        "$work/folder/digits" "$sample" >/dev/null 2>&1 && ok ||
            bad "the v3 folder built with CFLAGS=-O1 does not run"
    fi
else
    bad "make CFLAGS=-O1 in the v3 folder failed"
fi
make -s -C "$work/folder" clean >/dev/null
if make -s -C "$work/folder" ARCH= >"$work/make.out" 2>&1; then
    bad "make ARCH= built v3-packed weights for the portable tile"
elif grep -q "weights packed for the x86-64-v3 target's GEMM tile (6 x 16)" "$work/make.out"; then
    ok
else
    bad "make ARCH=: expected the packed-tile message: $(tail -3 "$work/make.out")"
fi

finish cpu_target
