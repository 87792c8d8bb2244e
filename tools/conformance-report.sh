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
