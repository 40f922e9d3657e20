#!/usr/bin/env bash
# Makes data/regression-example.h5: a small regression problem written as CSV
# and imported like user data would be. Two features x1, x2 in [-3, 3] and the
# target y = sin(x1) + 0.5 * x2^2 / 9 + noise(0.02); 4000 rows, 20% test, 10% val.
#
#   data/prepare_regression_example.sh [OUT.h5]
# Environment: DTRAIN (default build/dtrain).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/regression-example.h5}
dtrain=${DTRAIN:-$(dirname "$here")/build/dtrain}
case ${1:-} in -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ -e "$out" ] && { echo "$out already exists"; exit 0; }
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/regression.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
awk 'BEGIN {
  srand(7); print "x1,x2,y";
  for (i = 0; i < 4000; i++) {
    x1 = -3 + 6 * rand(); x2 = -3 + 6 * rand();
    noise = 0.02 * sqrt(-2 * log(1 - rand())) * cos(6.283185307 * rand());
    printf "%.6f,%.6f,%.6f\n", x1, x2, sin(x1) + 0.5 * x2 * x2 / 9 + noise;
  } }' >"$tmp/table.csv"
"$dtrain" data import-csv "$tmp/table.csv" --label-column y --regression -o "$tmp/all.h5"
"$dtrain" data split "$tmp/all.h5" -o "$out" --test-fraction 0.2 --val-fraction 0.1 --seed 7
echo "done: $out"
