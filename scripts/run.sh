#!/usr/bin/env bash
# Installs dependencies, builds, and starts `redline run` on this host.
# Extra arguments go to `redline run` (e.g. --listen=[::]:10433).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
build/agent/redline check
exec build/agent/redline run "$@"
