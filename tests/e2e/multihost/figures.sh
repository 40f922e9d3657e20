#!/usr/bin/env bash
# Throughput and all-reduce share on 2 and 3 test hosts over TCP vs the same rank
# count on shared memory (not a test: prints one line per run). Needs root.
#
#   tests/e2e/multihost/figures.sh DTRAIN DATA.h5 [EPOCHS] [BUCKET_MIB...]
#   tests/e2e/multihost/figures.sh build/dtrain data/fashion-mnist.h5 1 2 0.125
#
# Each line: transport, ranks, bucket size, samples/s over the whole run, and the
# --profile split of the last epoch (all-reduce wait = time a step waits for its
# gradient all-reduces after backward). The runs use mlp_small.yaml (109,386
# parameters = 427 KiB of gradients per step) with 1 thread per rank.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
[ $# -ge 2 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dtrain=$(readlink -f "$1"); data=$(readlink -f "$2"); epochs=${3:-1}; shift $(($# < 3 ? $# : 3))
buckets=("$@"); [ ${#buckets[@]} -gt 0 ] || buckets=(2)
export DTRAIN_MH_PREFIX=dtmh-figures OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
hosts=$here/hosts.sh
work=$(mktemp -d /tmp/dtrain-multihost.figures.XXXXXX)
trap '"$hosts" down; rm -rf "$work"' EXIT
"$hosts" down
"$hosts" up 3
args() { echo "--set data.file=$data --set fit.epochs=$epochs --set distributed.bucket_mib=$1 --profile"; }
report() {
  printf '%-22s bucket %5s MiB: %6s samples/s; %s\n' "$1" "$2" \
    "$(sed -n 's/^Trained .*(\([0-9]*\) samples\/s)/\1/p' "$work/log")" \
    "$(grep '^profile epoch' "$work/log" | tail -n 1 | sed 's/^profile epoch [0-9]*: //; s/; [0-9]* samples\/s$//')"
}
for np in 2 3; do
  for b in "${buckets[@]}"; do
    rm -rf "$work/run"
    # shellcheck disable=SC2046
    "$hosts" exec h1 mpirun -np "$np" --oversubscribe --bind-to none --mca pml ob1 --mca btl vader,self \
      --mca mpi_yield_when_idle 1 "$dtrain" train "$here/mlp_small.yaml" --run-dir "$work/run" --threads 1 \
      $(args "$b") >"$work/log" 2>&1
    report "$np ranks shared memory" "$b"
    rm -rf "$work/run"
    seq -f 'h%g slots=1' 1 "$np" >"$work/hostfile"
    # shellcheck disable=SC2046
    DTRAIN=$dtrain DTRAIN_BTL=tcp,self "$hosts" head "$repo/jobs/multinode.sh" --hostfile "$work/hostfile" \
      -n "$np" -t 1 --no-bind --net "${DTRAIN_MH_SUBNET:-10.77.0}.0/24" "$here/mlp_small.yaml" \
      --run-dir "$work/run" $(args "$b") >"$work/log" 2>&1
    report "$np hosts TCP" "$b"
  done
done
