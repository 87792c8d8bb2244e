#!/usr/bin/env bash
# output_safety.sh: compile and build leave a whole output or nothing, and never write through a planted symlink.
set -uo pipefail
onnxcc=$1 model=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
. "$(cd "$(dirname "$0")" && pwd)/tally.sh"
cd "$work" || exit 1
no_leftovers() { # no staging folder or temp file matching the glob
    local left
    left=$(find . -name "$1" | head -3)
    [ -z "$left" ] && ok || bad "left behind: $left"
}
echo victim > victim.txt

# -o names a file: refused, the file untouched
echo keep > afile
expect_error "exists and is not a folder" "$onnxcc" compile "$model" -o afile
[ "$(cat afile)" = keep ] && ok || bad "afile was changed"
# -o inside a file: nothing created
expect_error "cannot create a folder beside 'afile/sub'" "$onnxcc" compile "$model" -o afile/sub
no_leftovers '*.onnxcc-*'

# a write that fails midway (file size limit: EFBIG rather than SIGXFSZ)
expect_error "cannot write" bash -c 'trap "" XFSZ; ulimit -f 8; exec "$@"' _ \
    "$onnxcc" compile "$model" -o full
[ ! -e full ] && ok || bad "a failed compile left the folder 'full'"
no_leftovers '*.onnxcc-*'
expect_error "cannot write\|failed" bash -c 'trap "" XFSZ; ulimit -f 8; exec "$@"' _ \
    "$onnxcc" build "$model" -o fullbin
[ ! -e fullbin ] && ok || bad "a failed build left 'fullbin'"
no_leftovers 'fullbin*'

# a fresh folder, then the same folder again over planted symlinks
"$onnxcc" compile "$model" -o out >/dev/null 2>e.txt && ok || bad "compile: $(cat e.txt)"
[ -f out/digits.c ] && [ -f out/runtime/onnxcc_rt.h ] && [ -f out/Makefile ] && ok ||
    bad "out/ is missing files"
ln -s ../victim.txt out/digits.c.tmp
ln -sf ../victim.txt out/digits.h
"$onnxcc" compile "$model" -o out >/dev/null 2>e.txt && ok || bad "recompile: $(cat e.txt)"
[ "$(cat victim.txt)" = victim ] && ok || bad "a symlink in out/ was written through"
[ -f out/digits.h ] && [ ! -L out/digits.h ] && ok || bad "out/digits.h is still the symlink"
no_leftovers '*.tmp-*'
no_leftovers '*.onnxcc-*'

# build: a planted NAME.tmp symlink is never followed
ln -s victim.txt bin.tmp
"$onnxcc" build "$model" -o bin >/dev/null 2>e.txt && ok || bad "build: $(cat e.txt)"
[ "$(cat victim.txt)" = victim ] && ok || bad "build wrote through bin.tmp"
[ -x bin ] && ok || bad "bin is not executable"
no_leftovers 'bin.tmp-*'

finish output_safety
