#!/usr/bin/env bash
# cmake/gen_syscall_table.sh names arm64's syscalls: asm-generic defines
# some by alias (__NR_mmap __NR3264_mmap), which the table once dropped
# (mmap, fcntl, lseek, fstat, ... counted as sys_222, sys_25, ...). The
# compiler's -dM output is given by a stand-in holding arm64's lines (alias
# before target, as -dM may print them); with Debian's cross compiler
# (g++-aarch64-linux-gnu) installed, the real arm64 header is checked too.
# Usage: gen_syscall_table_test.sh SOURCE_DIR
set -euo pipefail
gen=$1/cmake/gen_syscall_table.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cat >"$tmp/cc" <<'CC'
#!/bin/sh
cat >/dev/null
cat <<'DEFS'
#define __NR_mmap __NR3264_mmap
#define __NR_getppid 173
#define __NR3264_mmap 222
#define __NR_openat 56
#define __NR_fcntl __NR3264_fcntl
#define __NR3264_fcntl 25
#define __NR_syscalls 451
#define __NR_unknown_alias __NR3264_nothing
DEFS
CC
chmod +x "$tmp/cc"
expect() { # file, want lines
  local f=$1; shift
  for w in "$@"; do grep -qxF "$w" "$f" || { cat "$f"; fail "$f lacks $w"; }; done
}
sh "$gen" "$tmp/cc" "$tmp/fake.inc"
expect "$tmp/fake.inc" '{25, "fcntl"},' '{56, "openat"},' '{173, "getppid"},' \
  '{222, "mmap"},' '{451, "syscalls"},'
[[ $(wc -l <"$tmp/fake.inc") == 5 ]] || { cat "$tmp/fake.inc"; fail "5 entries"; }
[[ $(head -1 "$tmp/fake.inc") == '{25, "fcntl"},' ]] || fail "sorted by number"
echo "ok: aliased numbers resolved, unresolvable aliases left out, sorted"
if command -v aarch64-linux-gnu-gcc >/dev/null; then
  sh "$gen" aarch64-linux-gnu-gcc "$tmp/arm64.inc"
  expect "$tmp/arm64.inc" '{56, "openat"},' '{173, "getppid"},' '{222, "mmap"},' \
    '{25, "fcntl"},' '{62, "lseek"},' '{80, "fstat"},'
  dups=$(cut -d, -f1 "$tmp/arm64.inc" | sort | uniq -d)
  [[ -z $dups ]] || fail "arm64: numbers named twice: $dups"
  echo "ok: arm64's own header: openat 56, getppid 173, mmap 222, no duplicates"
else
  echo "info: no aarch64-linux-gnu-gcc: arm64's header not checked"
fi
