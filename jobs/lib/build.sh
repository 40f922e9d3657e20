#!/usr/bin/env bash
# Configures and builds dtrain in ${DTRAIN_BUILD_DIR:-build} (Release).
#   jobs/lib/build.sh [--target NAME ...]   (default: everything, tests included)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${DTRAIN_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" "$@"
