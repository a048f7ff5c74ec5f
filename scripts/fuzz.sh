#!/usr/bin/env bash
# Runs each libFuzzer target (clang, ASan, UBSan; built in build-asan/ by
# scripts/sanitize.sh, which tests the same build) for FUZZ_SECONDS
# (default 30) from the seed corpus in tests/fuzz/, as many at once as
# there are cores. A crash, leak or UBSan finding fails the run and leaves
# the input in build-asan/findings/. Usage: scripts/fuzz.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-30}
BUILD=build-asan
scripts/sanitize.sh --build asan fuzzers
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in "$BUILD"/tests/fuzz/*_fuzz; do targets+=("$(basename "$f")"); done
fi
mkdir -p "$BUILD/findings"

fuzz_one() {  # target: prints one line, fails on a finding
  local t=$1 work="$BUILD/corpus/$1" log="$BUILD/$1.log"
  mkdir -p "$work"
  if "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$BUILD/findings/$t-" "$work" "tests/fuzz/corpus/$t" \
      >"$log" 2>&1; then
    local runs rate cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t ok: $runs runs in ${SECONDS_EACH}s ($rate/s), $cov"
  else
    echo "fuzz: $t FAILED (input in $BUILD/findings/):"
    grep -E "ERROR|runtime error|SUMMARY|Test unit written" "$log" | head -5
    return 1
  fi
}

# One fuzzer per core; they all run the same time, so waiting for the
# oldest keeps the cores busy.
fail=0
running=()
for t in "${targets[@]}"; do
  fuzz_one "$t" &
  running+=($!)
  if ((${#running[@]} >= $(nproc))); then
    wait "${running[0]}" || fail=1
    running=("${running[@]:1}")
  fi
done
for p in "${running[@]}"; do wait "$p" || fail=1; done
exit $fail
