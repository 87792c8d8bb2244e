#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages onnxcc builds and tests with (as root).
set -euo pipefail
# build: compiler, CMake, protobuf-c, ONNX's onnx.proto, LLVM 19 (the LLVM backend),
# Lua 5.4 (--pipeline recipes)
build_pkgs="gcc make cmake pkg-config protobuf-c-compiler libprotobuf-c-dev libonnx-dev llvm-19-dev
liblua5.4-dev"
# tests: ONNX's conformance data, valgrind, PyTorch for the model tests' reference outputs,
# clang to check that the generated C is warning-free under a second compiler, graphviz and
# chromium to render and load what onnxcc inspect writes; cross compilers and qemu-user for
# the cross test (aarch64 and riscv64 binaries run under qemu, a Cortex-M library)
test_pkgs="libonnx-testdata valgrind python3-onnx python3-numpy python3-torch python3-torchvision clang-19
graphviz chromium gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-riscv64-linux-gnu
libc6-dev-riscv64-cross qemu-user gcc-arm-none-eabi
libnewlib-arm-none-eabi"
# fuzz: clang with libFuzzer, for tools/fuzz.sh only (CI does not fuzz)
fuzz_pkgs="clang-19 libclang-rt-19-dev"
# examples: retraining examples/digits (scikit-learn's bundled digits) and examples/charlm
examples_pkgs="python3-sklearn python3-torch python3-onnx python3-numpy"
want="$build_pkgs"
case "${1:-}" in
--tests) want="$build_pkgs $test_pkgs" ;;
--fuzz) want="$build_pkgs $fuzz_pkgs" ;;
--examples) want="$build_pkgs $examples_pkgs" ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "onnxcc: installing$missing"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
