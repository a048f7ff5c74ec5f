#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan, UBSan) in build-fuzz/ and runs
# each for FUZZ_SECONDS (default 60) from the seed corpus in tests/fuzz/.
# A crash, leak or UBSan finding fails the run and leaves the input in
# build-fuzz/findings/. Usage: scripts/fuzz.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DREDLINE_FUZZ=ON \
  -DREDLINE_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD" fuzzers >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$BUILD"/tests/fuzz/*_fuzz; do targets+=("$(basename "$f")"); done
fi
mkdir -p "$BUILD/findings"
fail=0
for t in "${targets[@]}"; do
  work="$BUILD/corpus/$t"
  mkdir -p "$work"
  log="$BUILD/$t.log"
  if "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD/findings/$t-" "$work" "tests/fuzz/corpus/$t" \
      >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t ok: $runs runs in ${SECONDS_EACH}s ($rate/s), $cov"
  else
    echo "fuzz: $t FAILED (input in $BUILD/findings/):"
    grep -E "ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -5
    fail=1
  fi
done
exit $fail
