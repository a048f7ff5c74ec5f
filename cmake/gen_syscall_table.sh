#!/bin/sh
# Writes the running architecture's syscall table as C++ initializers:
# {nr, "name"}, from the kernel UAPI header the toolchain uses.
set -eu
cc="$1"; out="$2"
echo '#include <asm/unistd.h>' | "$cc" -E -dM -x c - |
  awk '$1 == "#define" && $2 ~ /^__NR_[a-z0-9_]+$/ && $3 ~ /^[0-9]+$/ {
         sub(/^__NR_/, "", $2); printf "{%s, \"%s\"},\n", $3, $2 }' |
  sort -t, -k1.2n > "$out.tmp"
mv "$out.tmp" "$out"
