#!/usr/bin/env bash
# The build as a user types it: CMake's default generator (Unix Makefiles,
# not the Ninja the scripts use) configures, and builds every BPF object
# with its skeleton, once with Debian 12's clang (14) and once with clang-19
# (-DREDLINE_BPF_CLANG), and a C++ library (the first time only: the BPF
# clang does not touch it, and it is most of the test's time). Each object must be BPF ELF
# whose DWARF names the clang that was asked for (the option took effect).
# Usage: generators_test.sh SOURCE_DIR. Exit 77 (skip) without clang-19,
# unless REDLINE_REQUIRE_BPF=1.
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset CMAKE_GENERATOR # the default, whatever the caller's environment says
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v clang-19 >/dev/null; then
  [[ ${REDLINE_REQUIRE_BPF:-} == 1 ]] && fail "clang-19 not installed"
  echo "SKIP: clang-19 not installed (scripts/install-deps.sh)"
  exit 77
fi
objs=(syscalls sched block tcp l7)
cxx=redline_base
for clang in clang clang-19; do
  b=$tmp/$clang
  cmake -S "$src" -B "$b" -DREDLINE_BPF_CLANG="$clang" \
    -DREDLINE_BUILD_TESTS=OFF >"$tmp/cfg.log" 2>&1 ||
    { cat "$tmp/cfg.log"; fail "$clang: configure"; }
  grep -q 'CMAKE_MAKE_PROGRAM:FILEPATH=.*make$' "$b/CMakeCache.txt" ||
    fail "$clang: not the Makefiles generator"
  cmake --build "$b" -j2 --target "${objs[@]/%/_skel_gen}" $cxx \
    >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; fail "$clang: build"; }
  want=$("$clang" --version | grep -o 'clang version [0-9]*' | head -1)
  for o in "${objs[@]}"; do
    obj=$b/bpf/$o.bpf.o
    readelf -h "$obj" | grep -q 'Machine:.*Linux BPF' || fail "$obj: not BPF"
    # To a file: grep -q would stop reading, and pipefail fail readelf.
    readelf --debug-dump=info "$obj" >"$tmp/dwarf" 2>/dev/null
    grep -q "DW_AT_producer.*$want" "$tmp/dwarf" || fail "$obj: not built by $want"
    [[ -s $b/bpf/$o.skel.h ]] || fail "$o.skel.h missing"
  done
  echo "ok: Makefiles, BPF with $want: ${objs[*]} objects and skeletons" \
    "${cxx:+and $cxx}"
  cxx=
done
