#!/usr/bin/env bash
# cross.sh: digits cross-built for aarch64 and riscv64 (both backends) runs under qemu-user and predicts what the host does; the Cortex-M object and library are built for their core.
set -euo pipefail
onnxcc=$1 ex=$2 work=$3
# a missing tool skips (ctest's SKIP_RETURN_CODE 77), never passes
for tool in aarch64-linux-gnu-gcc riscv64-linux-gnu-gcc qemu-aarch64 qemu-riscv64 \
    arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-readelf llvm-objdump-19 /usr/bin/python3; do
    command -v "$tool" > /dev/null || { echo "cross: $tool not installed: skipped"; exit 77; }
done
[ -d /usr/aarch64-linux-gnu ] && [ -d /usr/riscv64-linux-gnu ] || { echo "cross: no sysroot"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
# without the cross compiler: one line naming the package, no output
if PATH=/nonexistent "$onnxcc" build "$ex/digits.onnx" --target riscv64-linux-gnu \
    -o "$work/none" 2> "$work/none.err"; then
    echo "cross: build without riscv64-linux-gnu-gcc succeeded"; exit 1
fi
grep -q "apt-get install gcc-riscv64-linux-gnu" "$work/none.err" && [ ! -e "$work/none" ] \
    && [ "$(wc -l < "$work/none.err")" = 1 ] || { cat "$work/none.err"; exit 1; }

# compile --target: the folder's Makefile uses the cross compiler (its
# implicit rule compiles the model alone; the runtime is the same as build's)
"$onnxcc" compile "$ex/digits.onnx" --target aarch64-linux-gnu -o "$work/a64_folder"
make -s -C "$work/a64_folder" digits.o
llvm-objdump-19 -f "$work/a64_folder/digits.o" | grep -q "^architecture: aarch64" \
    || { echo "cross: the folder's digits.o is not for aarch64"; exit 1; }

samples=("$ex"/samples/digit_0_0.pb "$ex"/samples/digit_3_1.pb "$ex"/samples/digit_7_0.pb)

# the host's logits: the portable build, which the cross targets' runtime also is
"$onnxcc" build "$ex/digits.onnx" --target generic -o "$work/host"
for f in "${samples[@]}"; do
    b=$(basename "$f" .pb)
    mkdir -p "$work/out/host/$b"
    "$work/host" "$f" --out "$work/out/host/$b" --npy > /dev/null
done

# aarch64 and riscv64, C and LLVM: a binary for the triple, run by qemu-user
# with the cross C library's folder as its root
for triple in aarch64-linux-gnu riscv64-linux-gnu; do
    qemu="qemu-${triple%%-*}"
    for backend in c llvm; do
        bin="$work/${triple%%-*}_$backend"
        "$onnxcc" build "$ex/digits.onnx" --target "$triple" --backend "$backend" -o "$bin"
        file_arch=$(llvm-objdump-19 -f "$bin" | sed -n 's/^architecture: //p')
        case "$triple:$file_arch" in
        aarch64*:aarch64 | riscv64*:riscv64) ;;
        *) echo "cross: $bin is for '$file_arch', not $triple"; exit 1 ;;
        esac
        for f in "${samples[@]}"; do
            b=$(basename "$f" .pb)
            mkdir -p "$work/out/$triple-$backend/$b"
            "$qemu" -L "/usr/$triple" "$bin" "$f" --out "$work/out/$triple-$backend/$b" --npy \
                > /dev/null
        done
    done
done

# every cross output against the host's: the same argmax, logits within 1e-4
/usr/bin/python3 - "$work/out" <<'EOF'
import os, sys
import numpy as np
root = sys.argv[1]
host = os.path.join(root, "host")
worst = 0.0
for run in sorted(os.listdir(root)):
    if run == "host":
        continue
    diffs = []
    for b in sorted(os.listdir(host)):
        ref = np.load(os.path.join(host, b, "output_0.npy"))
        got = np.load(os.path.join(root, run, b, "output_0.npy"))
        assert got.shape == ref.shape, (run, b, got.shape, ref.shape)
        if got.argmax() != ref.argmax():
            sys.exit(f"cross: {run} {b}: predicts {got.argmax()}, the host {ref.argmax()}")
        d = float(np.abs(got.astype(np.float64) - ref).max())
        if d > 1e-4:
            sys.exit(f"cross: {run} {b}: logits differ by {d:g} (> 1e-4)")
        diffs.append(d)
    worst = max(worst, max(diffs))
    same = "bit-identical" if max(diffs) == 0 else f"max |diff| {max(diffs):.3g}"
    print(f"cross: {run}: {len(diffs)} samples, host's predictions, logits {same}")
EOF

# Cortex-M4F: the object for the core, and a folder whose runtime builds
# with arm-none-eabi-gcc as a library (no driver, one thread)
m4="$work/m4"
"$onnxcc" compile "$ex/digits.onnx" --backend llvm --target thumbv7em-none-eabihf \
    --cpu cortex-m4 -o "$m4"
[ ! -e "$m4/main.c" ] && [ ! -e "$m4/runtime/rt_main.c" ] || { echo "cross: $m4 has a driver"; exit 1; }
llvm-objdump-19 -f "$m4/digits.o" | grep -q "elf32-littlearm" \
    || { echo "cross: digits.o is not a 32-bit ARM object"; exit 1; }
attrs=$(arm-none-eabi-readelf -A "$m4/digits.o")
for want in 'Tag_CPU_name: "cortex-m4"' 'Tag_CPU_arch: v7E-M' 'Tag_ABI_VFP_args: VFP registers'; do
    grep -qF "$want" <<< "$attrs" || { echo "cross: digits.o lacks '$want'"; exit 1; }
done
make -s -C "$m4" -j2 > /dev/null
[ -f "$m4/libdigits.a" ] || { echo "cross: no libdigits.a"; exit 1; }
# a firmware that runs the model once: what the model takes in flash, the
# kernels it calls only (--gc-sections), without newlib's start-up
cat > "$m4/fw.c" <<'EOF'
#include "digits.h"
static float image[DIGITS_INPUT_0_SIZE], logits[DIGITS_OUTPUT_0_SIZE];
int main(void)
{
    return digits_run(0, image, logits);
}
EOF
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2 \
    -I"$m4" -I"$m4/runtime" -specs=nosys.specs -Wl,--gc-sections,--no-warn-execstack \
    -o "$m4/fw.elf" \
    "$m4/fw.c" "$m4/libdigits.a" -lm
read -r text data bss < <(arm-none-eabi-size "$m4/fw.elf" | awk 'NR == 2 {print $1, $2, $3}')
wbytes=$(sed -n 's/^#define DIGITS_WEIGHTS_BYTES \([0-9]*\).*/\1/p' "$m4/digits.h")
arena=$(sed -n 's/^#define DIGITS_ARENA_BYTES \([0-9]*\).*/\1/p' "$m4/digits.h")
[ "$bss" -ge "$arena" ] || { echo "cross: bss $bss < arena $arena"; exit 1; }
echo "cross: thumbv7em digits firmware: text $text bytes ($((text - wbytes)) without the" \
    "$wbytes bytes of weights), data $data, bss $bss (arena $arena)"
