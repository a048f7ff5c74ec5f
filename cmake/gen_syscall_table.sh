#!/bin/sh
# Writes the running architecture's syscall table as C++ initializers:
# {nr, "name"}, from the kernel UAPI header the toolchain uses.
set -eu
cc="$1"; out="$2"
# asm-generic architectures (arm64, riscv64) define some by an alias of
# the 32/64-bit pair: __NR_mmap __NR3264_mmap, __NR3264_mmap 222. Aliases
# are resolved once all defines are read (-dM prints them in any order).
echo '#include <asm/unistd.h>' | "$cc" -E -dM -x c - |
  awk '$1 == "#define" && $3 ~ /^[0-9]+$/ { num[$2] = $3 }
       $1 == "#define" && $2 ~ /^__NR_[a-z0-9_]+$/ { nr[$2] = $3 }
       END {
         for (n in nr) {
           v = nr[n] ~ /^[0-9]+$/ ? nr[n] : num[nr[n]]
           if (v == "") continue
           sub(/^__NR_/, "", n); printf "{%s, \"%s\"},\n", v, n
         }
       }' |
  sort -t, -k1.2n > "$out.tmp"
mv "$out.tmp" "$out"
