#!/bin/sh
# runtime_inputs.sh: the standalone binary refuses a device, an oversized input file and
# never writes through a planted symlink at its temp name.
# usage: runtime_inputs.sh ONNXCC DIGITS.onnx SAMPLE.pb WORKDIR
set -u
onnxcc=$1 model=$2 sample=$3 w=$4
rm -rf "$w" && mkdir -p "$w" || exit 1
"$onnxcc" build "$model" -o "$w/bin" || exit 1
fails=0
check() { # name, expected stderr, command...
    name=$1 want=$2; shift 2
    got=$("$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -eq 0 ] || [ "$got" != "$want" ]; then
        echo "FAIL $name: status $rc"; echo "  want: $want"; echo "  got:  $got"; fails=$((fails + 1))
    fi
}
check dev_zero "bin: input 'image': /dev/zero: not a regular file" "$w/bin" /dev/zero
head -c 100000 /dev/zero >"$w/big.pb"
check oversized "bin: input 'image': $w/big.pb: the file is larger than 66240 bytes, more than this input can be" "$w/bin" "$w/big.pb"
mkdir "$w/o" && ln -s "$w/victim" "$w/o/output_0.pb.tmp"
"$w/bin" "$sample" --out "$w/o" >/dev/null || { echo "FAIL --out"; fails=$((fails + 1)); }
[ -e "$w/victim" ] && { echo "FAIL symlink followed"; fails=$((fails + 1)); }
[ -s "$w/o/output_0.pb" ] || { echo "FAIL no output"; fails=$((fails + 1)); }
[ $fails -eq 0 ] && echo "runtime inputs: all pass"
[ $fails -eq 0 ]
