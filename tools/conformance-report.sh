#!/usr/bin/env bash
# conformance-report.sh: regenerates docs/conformance.md (every case that does not pass, with its reason).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build -j"$(nproc)" --target onnxcc_conformance >/dev/null
d=/usr/share/libonnx-testdata/data
build/tests/onnxcc_conformance --jobs "$(nproc)" --report docs/conformance.md \
    "$d/node" "$d/simple" "$d/pytorch-converted" "$d/pytorch-operator" | tail -1
