#!/usr/bin/env bash
# test.sh: the whole test suite: release build + ctest, the same under ASan/UBSan, valgrind on the compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --tests
jobs=$(nproc)
# Every log names its machine: a failure may be one CPU's alone.
echo "== machine: $(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//'), $jobs cores"

echo "== release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-Werror >/dev/null
cmake --build build -j"$jobs" >/dev/null
build/onnxcc --version | sed -n 's/^cpu: /== cpu features (onnxcc probe): /p'
echo "== model tests: exporting reference models with PyTorch"
/usr/bin/python3 tests/models/make_models.py build/models >/dev/null
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DONNXCC_SANITIZE=ON -DCMAKE_C_FLAGS=-Werror >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
mkdir -p build-asan && ln -sfn ../build/models build-asan/models
# The node suite's generic and x86-64-v3 runs are left to the release pass:
# sanitizers instrument the C before it is vectorized, so they would check
# the same code as conformance_node a second and third time. The ONNX 1.23
# cases (conformance_node123, 1.2 times the 1.12 suite's time) run in the
# release pass only, to keep CI within its 45 minutes on 2 cores. So does
# `cross`: its code is cross-built by gcc and run under qemu, and the
# sanitized build has no cross runtimes (it would rebuild them per binary).
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" \
    -E '^conformance_node_|^conformance_node123$|^cross$'

# The compiler's own kernels are the portable build, so valgrind (which
# cannot decode AVX-512) can run it on any machine.
echo "== valgrind: the compiler on conformance models"
tests/valgrind.sh build/onnxcc
