#!/usr/bin/env bash
# From nothing to a trained, checkpointed Fashion-MNIST model:
#   jobs/quickstart.sh [dtrain train arguments, e.g. --set fit.epochs=3]
# Installs the Debian packages dtrain needs (as root; otherwise prints the one
# sudo line), builds dtrain, prepares data/fashion-mnist.h5 and trains
# jobs/configs/fashion_mlp.yaml on the cores of this machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs/lib/install_deps.sh
jobs/lib/build.sh --target dtrain_cli   # the command only: the tests build with tests/run.sh
DTRAIN="$root/build/dtrain" data/prepare_fashion_mnist.sh
exec jobs/local.sh -n 1 jobs/configs/fashion_mlp.yaml "$@"
