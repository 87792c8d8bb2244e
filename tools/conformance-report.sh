#!/usr/bin/env bash
# conformance-report.sh: regenerates docs/conformance.md (every case that does not pass, with its reason).
# Covers Debian's ONNX 1.12 test data and the vendored ONNX 1.23 node cases
# (tests/onnx-1.23, suite "node-1.23"), so the per-family table counts both.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build -j"$(nproc)" --target onnxcc_conformance >/dev/null
d=/usr/share/libonnx-testdata/data
build/tests/onnxcc_conformance --jobs "$(nproc)" --report docs/conformance.md \
    "$d/node" "$d/simple" "$d/pytorch-converted" "$d/pytorch-operator" \
    node-1.23=tests/onnx-1.23/node | tail -1
# The node suite the way a runtime meets it (--no-samples): its figure is
# appended, since that mode fails by design on what needs a sample.
ns=$(build/tests/onnxcc_conformance --jobs "$(nproc)" --no-samples "$d/node" | tail -1)
printf '\n## Without samples\n\nThe node suite built with `--no-samples` (no shape or value taken from\nthe test inputs; every input stays an input), binary and interpreter: %s.\n' \
    "${ns#conformance: }" >> docs/conformance.md
