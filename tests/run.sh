#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs ctest.
#   tests/run.sh [ctest arguments, e.g. -L unit]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/jobs/lib/install_deps.sh" slurmctld slurmd slurm-client munge iproute2 gnuplot-nox
"$root/jobs/lib/build.sh"
cd "${DTRAIN_BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 900 "$@"
