#!/usr/bin/env bash
# Makes data/fashion-mnist.h5 from the Debian package dataset-fashion-mnist:
# the standard 60k/10k train/test split, then a seeded, stratified validation split
# of 5000 training images (/train 55000, /val 5000, /test 10000; x uint8
# [N, 28, 28, 1] with scale 1/255, y int64 class ids 0..9).
#
#   data/prepare_fashion_mnist.sh [OUT.h5] [--force]
#
# Environment: DTRAIN (the dtrain binary; default build/dtrain), SEED (default 42).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out="$here/fashion-mnist.h5"
force=""
for arg in "$@"; do
  case "$arg" in
    --force) force="--force" ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) out="$arg" ;;
  esac
done
dtrain=${DTRAIN:-$root/build/dtrain}
seed=${SEED:-42}
src=/usr/share/datasets/fashion-mnist
files=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

if [ -e "$out" ] && [ -z "$force" ]; then
  echo "$out already exists (pass --force to make it again)"
  exit 0
fi

missing=0
for f in "${files[@]}"; do [ -f "$src/$f" ] || missing=1; done
if [ "$missing" = 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing dataset-fashion-mnist with apt-get"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist
  else
    echo "Fashion-MNIST is not installed under $src. Install it with:" >&2
    echo "  sudo apt-get install dataset-fashion-mnist" >&2
    exit 1
  fi
fi

if [ ! -x "$dtrain" ]; then
  echo "dtrain binary not found at $dtrain: build it (cmake --build build) or set DTRAIN=/path/to/dtrain" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fashion-mnist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$dtrain" data import-idx \
  --images "$src/train-images-idx3-ubyte.gz" --labels "$src/train-labels-idx1-ubyte.gz" \
  --test-images "$src/t10k-images-idx3-ubyte.gz" --test-labels "$src/t10k-labels-idx1-ubyte.gz" \
  -o "$tmp/full.h5"
# 5000 of the 60000 training rows -> /val: round(5000/60000 * 60000) = 5000, 500 per class.
"$dtrain" data split "$tmp/full.h5" -o "$out" --test-fraction 0 \
  --val-fraction 0.083333333333333333 --seed "$seed" --stratify $force
echo "done: $out (inspect it with: $dtrain inspect $out)"
