#!/usr/bin/env bash
# The README's build commands with CMake's default generator (Unix
# Makefiles), not only Ninja: a fresh build directory configures and builds
# every BPF object and skeleton (the cross-directory custom commands that
# once failed with "No rule to make target 'bpf/vmlinux.h'").
set -euo pipefail
src=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cmake -S "$src" -B "$dir" -DREDLINE_BUILD_TESTS=OFF >"$dir/configure.log" 2>&1 \
  || { cat "$dir/configure.log"; exit 1; }
grep -q "Unix Makefiles" "$dir/CMakeCache.txt" \
  || { echo "FAIL: the default generator was not Unix Makefiles"; exit 1; }
targets=(syscalls_skel_gen sched_skel_gen block_skel_gen tcp_skel_gen l7_skel_gen)
if ! cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}" \
    >"$dir/build.log" 2>&1; then
  tail -20 "$dir/build.log"
  echo "FAIL: skeletons did not build with Unix Makefiles"
  exit 1
fi
for t in syscalls sched block tcp l7; do
  [[ -s "$dir/bpf/$t.skel.h" ]] || { echo "FAIL: no $t.skel.h"; exit 1; }
done
echo "ok: ${#targets[@]} skeletons built with Unix Makefiles"
