#!/usr/bin/env bash
# quickstart.sh: installs what is missing, builds onnxcc, compiles the bundled digits model and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== onnxcc build examples/digits/digits.onnx -o build/digits_bin"
build/onnxcc build examples/digits/digits.onnx -o build/digits_bin
echo "== predictions on the bundled samples (true label in the file name)"
for f in examples/digits/samples/digit_*_0.pb; do
    printf '%s -> ' "$(basename "$f")"
    build/digits_bin "$f" | grep -m1 -i "argmax\|predict" || true
done
echo "== latency"
build/digits_bin examples/digits/samples/digit_3_0.pb --bench 1000
