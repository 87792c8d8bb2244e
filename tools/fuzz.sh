#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets (clang-19), seeds them, runs each for a while and keeps what crashed.
# usage: tools/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 600 s, every target)
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-600}"
shift || true
targets="${*:-fuzz_load fuzz_prepare fuzz_prepare_struct fuzz_tensor}"
out="$src/build-fuzz"
testdata=/usr/share/libonnx-testdata/data

"$src/tools/install-deps.sh" --fuzz
cmake -S "$src" -B "$out" -DONNXCC_FUZZ=ON -DCMAKE_C_COMPILER=clang-19 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$out" -j2 --target $targets >/dev/null

# Corpora: the committed seeds, every conformance model (node suite) and its
# input/output tensors, the example's model and samples. Rebuilt from the
# sources each run; what libFuzzer adds stays in build-fuzz/corpus.
seed() {
    local dir="$out/corpus/$1" kind="$2"
    mkdir -p "$dir"
    cp -n "$src/tests/fuzz/seeds/$kind"/* "$dir"/ 2>/dev/null || true
    local f n
    if [ "$kind" = model ]; then
        cp -n "$src/examples/digits/digits.onnx" "$dir"/
        for f in "$testdata"/node/*/model.onnx; do
            n="$(basename "$(dirname "$f")")"
            # libFuzzer drops inputs over -max_len anyway
            [ "$(stat -c %s "$f")" -le 65536 ] && cp -n "$f" "$dir/$n.onnx"
        done
    else
        for f in "$testdata"/node/*/test_data_set_0/*.pb "$src"/examples/digits/samples/*.pb; do
            n="$(basename "$(dirname "$(dirname "$f")")")_$(basename "$f")"
            [ "$(stat -c %s "$f")" -le 65536 ] && cp -n "$f" "$dir/$n"
        done
    fi
    return 0
}

# Each input gets a second and 1 GiB (ASan's shadow included); fork mode
# with one worker keeps going after a crash, OOM or timeout and records each
# under build-fuzz/artifacts, at the CPU cost of -jobs=1 -workers=1.
run() {
    local t="$1" art="$out/artifacts/$1" log="$out/$1.log"
    mkdir -p "$art"
    "$out/tests/fuzz/$t" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -max_total_time="$secs" -timeout=1 -rss_limit_mb=1024 -malloc_limit_mb=512 \
        -max_len=65536 -artifact_prefix="$art/" "$out/corpus/$t" >"$log" 2>&1 || true
}

# A crash is minimized (30 s at most) into tests/fuzz/regressions/<target>,
# named by its content, where the normal suite replays it (fuzz_replay_*).
keep() {
    local t="$1" f reg="$src/tests/fuzz/regressions/$1" min
    mkdir -p "$reg"
    for f in "$out/artifacts/$t"/crash-* "$out/artifacts/$t"/leak-*; do
        [ -e "$f" ] || continue
        min="$out/artifacts/$t/min-$(basename "$f")"
        "$out/tests/fuzz/$t" -minimize_crash=1 -max_total_time=30 -timeout=5 \
            -exact_artifact_path="$min" "$f" >/dev/null 2>&1 || true
        [ -s "$min" ] || min="$f"
        # a crash in the mutator is saved with whatever input it held: keep
        # only what crashes the target again
        "$out/tests/fuzz/$t" "$min" >/dev/null 2>&1 && continue
        cp "$min" "$reg/$(basename "$f" | cut -d- -f1)-$(sha1sum "$min" | cut -c1-16)"
    done
}

# The figures of the last status line: "#N ... oom/timeout/crash: a/b/c time: Ns".
figures() {
    local log="$out/$1.log" line
    line="$(grep -E '^#[0-9]+: ' "$log" | tail -1 || true)"
    local execs time otc
    execs="$(echo "$line" | sed -nE 's/^#([0-9]+):.*/\1/p')"
    time="$(echo "$line" | sed -nE 's/.* time: ([0-9]+)s.*/\1/p')"
    otc="$(echo "$line" | sed -nE 's#.*oom/timeout/crash: ([0-9]+/[0-9]+/[0-9]+).*#\1#p')"
    local kept
    kept="$(find "$src/tests/fuzz/regressions/$1" -type f 2>/dev/null | wc -l)"
    echo "| \`$1\` | ${execs:-?} | ${time:-?} s | ${otc:-?} | $kept |"
}

for t in $targets; do
    case "$t" in
    fuzz_tensor) seed "$t" tensor ;;
    *) seed "$t" model ;;
    esac
    echo "onnxcc: fuzzing $t for $secs s"
    run "$t"
    keep "$t"
done

# docs/robustness.md: only the part between the fuzz markers is ours.
doc="$src/docs/robustness.md"
section="$(mktemp)"
{
    echo "<!-- fuzz:begin -->"
    echo "## Fuzzing"
    echo
    echo "\`tools/fuzz.sh $secs\` on $(date -u +%Y-%m-%d): libFuzzer (clang-19) with ASan and UBSan,"
    echo "one worker, 1 s and 1 GiB per input, seeded from the ONNX node suite and examples/digits."
    echo "Crashes are kept, minimized, in \`tests/fuzz/regressions/<target>/\`; the normal"
    echo "suite replays them (ctest \`fuzz_replay_<target>\`, gcc, no clang needed)."
    echo
    echo "| target | executions | time | OOM/timeout/crash | regression inputs |"
    echo "|---|---|---|---|---|"
    for t in $targets; do figures "$t"; done
    echo "<!-- fuzz:end -->"
} >"$section"
[ -f "$doc" ] || printf '# Robustness\n\n' >"$doc"
if grep -q '<!-- fuzz:begin -->' "$doc"; then
    awk -v f="$section" '
        /<!-- fuzz:begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
        /<!-- fuzz:end -->/ { skip = 0; next }
        !skip' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
else
    { echo; cat "$section"; } >>"$doc"
fi
rm -f "$section"
sed -n '/<!-- fuzz:begin -->/,/<!-- fuzz:end -->/p' "$doc"
