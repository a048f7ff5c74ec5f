#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit and BPF
# integration). BPF tests skip without root unless REDLINE_REQUIRE_BPF=1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Tracepoint checks in tests read tracefs; mount it when we may.
if [[ $(id -u) -eq 0 && ! -e /sys/kernel/tracing/events ]]; then
  mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi
# The Kubernetes schema validator, from the npm registry (lockfile pinned).
if command -v npm >/dev/null; then
  (cd tests/packaging/schema && npm ci --no-audit --no-fund --silent)
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
# Host-wide tests (BPF, netns, timing) one at a time; the qemu VMs, each
# a world of its own, one per core (CI here, 2 cores: 6.3 min against
# 7.3; TCG and the arm64 cross build share the cores).
if (($# == 0)); then
  (cd build && ctest --output-on-failure -j1 -LE '^vm$')
  (cd build && ctest --output-on-failure -j"$(nproc)" -L '^vm$')
else
  (cd build && ctest --output-on-failure -j1 "$@")
fi
# With ctest arguments (a subset), stop here. Otherwise also the bounded
# fuzzing (FUZZ_SECONDS per target, default 30, one per core) and the suites
# again under ASan+UBSan (the fuzzers' build) and under ThreadSanitizer.
if (($# == 0)); then
  scripts/fuzz.sh
  scripts/sanitize.sh asan tsan
fi
