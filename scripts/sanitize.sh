#!/usr/bin/env bash
# The unit tests and the agent-level integration tests again, built with
# AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/, the same build
# that carries the libFuzzer targets of scripts/fuzz.sh), and the unit
# tests plus the HTTP/scrape concurrency tests with ThreadSanitizer
# (build-tsan/). Any finding aborts the process, so the test fails.
#
# Both are clang builds at -O1 with line tables only: that is what a
# sanitizer report needs, and it compiles in about a third of the time of
# GCC's ASan+UBSan at -O2 -g (17 min of a CI run's 85 on 2 cores, 2026-12).
#
# usage: scripts/sanitize.sh [asan] [tsan]      build and test (default both)
#        scripts/sanitize.sh --build asan|tsan [target...]   build only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# Integration tests whose agent is the code under test (the rest measure
# the kernel or latency, and run in the plain build; systemd_test traces the
# agent's syscalls, which a sanitizer runtime changes).
ASAN_IT='integration\.(syscalls|lifecycle|prometheus|identity|slo|degrade|scrape|web_config)_test'
# (scrape_test's 1 s latency bound does not hold at TSan's slowdown.)
TSAN_IT='integration\.(prometheus|lifecycle|web_config)_test'
# Tests labelled unit that run no sanitized code (scripts, a CMake build,
# manifests): once, in the plain build, is enough.
NOT_CXX='^(lint|build|packaging)\.'

# C++ only: the C test helpers stay plain, because the sanitizer runtimes
# make syscalls of their own (LeakSanitizer's tracer calls getppid) that
# would spoil the helpers' exact syscall counts. REDLINE_FUZZ applies
# ASan+UBSan (and coverage for libFuzzer) to C++ the same way.
build() {  # asan|tsan, targets...
  local kind=$1 dir=build-$1
  shift
  local flags=() cxx=""
  if [[ $kind == asan ]]; then
    flags=(-DREDLINE_FUZZ=ON)
  else
    cxx="-fsanitize=thread"
  fi
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DCMAKE_CXX_FLAGS="$cxx -fno-omit-frame-pointer" -DCMAKE_C_FLAGS= \
    -DCMAKE_EXE_LINKER_FLAGS= "${flags[@]}" >/dev/null
  cmake --build "$dir" -j"$jobs" ${1:+--target "$@"} >/dev/null
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Timing bounds meant for the release build are relaxed under sanitizers.
export REDLINE_SANITIZED=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp

asan() {
  echo "sanitize: ASan+UBSan build"
  build asan
  (cd build-asan && ctest --output-on-failure -L unit -E "$NOT_CXX" -j"$jobs" &&
    ctest --output-on-failure -R "$ASAN_IT" -j1)
}

tsan() {
  echo "sanitize: TSan build"
  build tsan
  (cd build-tsan && ctest --output-on-failure -L unit -E "$NOT_CXX" -j"$jobs" &&
    ctest --output-on-failure -R "$TSAN_IT" -j1)
}

if [[ ${1:-} == --build ]]; then
  [[ ${2:-} == asan || ${2:-} == tsan ]] ||
    { echo "usage: $0 --build asan|tsan [target...]" >&2; exit 2; }
  shift
  build "$@"
  exit 0
fi
for s in "${@:-asan tsan}"; do
  for one in $s; do
    case $one in
      asan | tsan) "$one" ;;
      *) echo "usage: $0 [asan] [tsan]: unknown '$one'" >&2; exit 2 ;;
    esac
  done
done
