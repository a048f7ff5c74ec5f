#!/usr/bin/env bash
# The unit tests and the agent-level integration tests again, built with
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/), and the unit
# tests plus the HTTP/scrape concurrency tests with ThreadSanitizer
# (build-tsan/). Any finding aborts the process, so the test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# Integration tests whose agent is the code under test (the rest measure
# the kernel or latency, and run in the plain build; systemd_test traces the
# agent's syscalls, which a sanitizer runtime changes).
ASAN_IT='integration\.(syscalls|lifecycle|prometheus|identity|slo|degrade|scrape|web_config)_test'
# (scrape_test's 1 s latency bound does not hold at TSan's slowdown.)
TSAN_IT='integration\.(prometheus|lifecycle|web_config)_test'

# C++ only: the C test helpers stay plain, because the sanitizer runtimes
# make syscalls of their own (LeakSanitizer's tracer calls getppid) that
# would spoil the helpers' exact syscall counts.
build() {  # dir, sanitizer flags
  cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="$2 -fno-omit-frame-pointer" -DCMAKE_C_FLAGS= \
    -DCMAKE_EXE_LINKER_FLAGS= >/dev/null
  cmake --build "$1" -j"$jobs" >/dev/null
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Timing bounds meant for the release build are relaxed under sanitizers.
export REDLINE_SANITIZED=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp

asan() {
  echo "sanitize: ASan+UBSan build"
  build build-asan "-fsanitize=address,undefined -fno-sanitize-recover=undefined"
  (cd build-asan && ctest --output-on-failure -L unit -j"$jobs" &&
    ctest --output-on-failure -R "$ASAN_IT" -j1)
}

tsan() {
  echo "sanitize: TSan build"
  build build-tsan "-fsanitize=thread"
  (cd build-tsan && ctest --output-on-failure -L unit -j"$jobs" &&
    ctest --output-on-failure -R "$TSAN_IT" -j1)
}

# usage: scripts/sanitize.sh [asan] [tsan]   (default: both)
for s in "${@:-asan tsan}"; do
  for one in $s; do "$one"; done
done
