#!/usr/bin/env bash
# Runs `dtrain train` with several MPI ranks on this machine (a workstation or one
# node), each rank bound to its own cores.
#
#   jobs/local.sh -n RANKS [-t THREADS] [--dry-run] CONFIG.yaml [dtrain train args...]
#   jobs/local.sh -n 2 jobs/configs/fashion_mlp.yaml --run-dir runs/mlp --resume auto
#   jobs/local.sh -n 4 -t 1 cfg.yaml --set fit.epochs=3   # 4 ranks x 1 thread
#
# -n RANKS    MPI ranks (required)
# -t THREADS  threads per rank, passed as --threads (default: cores / RANKS, at least 1)
# --dry-run   print the mpirun command and exit
#
# Ranks are mapped with --map-by slot:PE=THREADS --bind-to core when RANKS x THREADS
# fits the cores; otherwise they run --oversubscribe, unbound, yielding when idle.
# The binary is $DTRAIN, else build/dtrain next to this script's jobs/ folder, else
# `dtrain` on PATH. As root, Open MPI's run-as-root guard is lifted. Extra mpirun
# options can be given in $DTRAIN_MPIRUN_ARGS (split on spaces). When stdout is not
# a terminal, `--set fit.verbose=2` (a line per epoch) is added unless you set it.
#
# Signals: SIGTERM, SIGUSR1 and the first Ctrl-C (SIGINT) are passed to every rank
# as SIGUSR1 (mpirun kills the ranks on SIGTERM; it forwards SIGUSR1): dtrain
# writes a checkpoint and exits 3; continue with `--resume auto`. A second Ctrl-C
# aborts at once. The exit code is dtrain's (0 ok, 1 run-time error, 2 usage or
# config error, 3 stopped after a checkpoint); 2 also for a bad use of this script;
# 1 when a rank was killed by a signal (mpirun's 137, ...). Open MPI's banners
# about an end dtrain chose itself are filtered out: dtrain's one line says it.
set -uo pipefail

self=$(basename "$0")
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "$self: error: $*" >&2; echo "Run '$0 --help' for usage." >&2; exit 2; }
# shellcheck source=lib/mpirun_job.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/mpirun_job.sh"

is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

ranks=""
threads=""
dry_run=0
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    -n|--ranks) [ $# -ge 2 ] || die "$1 needs a value"; ranks=$2; shift 2 ;;
    -t|--threads) [ $# -ge 2 ] || die "$1 needs a value"; threads=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (dtrain options go after CONFIG)" ;;
    *) break ;;
  esac
done
[ -n "$ranks" ] || die "-n RANKS is required"
is_count "$ranks" || die "-n expects a positive integer, got '$ranks'"
[ -z "$threads" ] || is_count "$threads" || die "-t expects a positive integer, got '$threads'"
[ $# -ge 1 ] || die "missing CONFIG"
config=$1
shift
[ -r "$config" ] || die "cannot read the config '$config'"
for arg in "$@"; do
  case $arg in --threads|--threads=*) die "give the threads per rank with -t, not --threads" ;; esac
done

# Cores: physical cores (what --bind-to core counts), capped by the CPUs this
# process may use (taskset, cgroup cpusets).
cores=$(nproc)
if command -v lscpu >/dev/null 2>&1; then
  physical=$(lscpu -p=Core,Socket 2>/dev/null | grep -v '^#' | sort -u | wc -l)
  if [ "${physical:-0}" -ge 1 ] && [ "$physical" -lt "$cores" ]; then cores=$physical; fi
fi
if [ -z "$threads" ]; then
  threads=$((cores / ranks))
  [ "$threads" -ge 1 ] || threads=1
fi

find_dtrain

cmd=(mpirun -n "$ranks")
if [ $((ranks * threads)) -le "$cores" ]; then
  cmd+=(--map-by "slot:PE=$threads" --bind-to core)
else
  echo "$self: $ranks ranks x $threads threads > $cores cores: oversubscribing, ranks unbound" >&2
  cmd+=(--oversubscribe --bind-to none --mca mpi_yield_when_idle 1)
fi
# shellcheck disable=SC2206  # word splitting of the extra options is intended
[ -z "${DTRAIN_MPIRUN_ARGS:-}" ] || cmd+=(${DTRAIN_MPIRUN_ARGS})
cmd+=("$dtrain" train "$config" --threads "$threads")
# Ranks see a pseudo-terminal from mpirun even when our output goes to a file:
# ask for one line per epoch instead of progress bars unless told otherwise.
if [ ! -t 1 ] && [[ " $* " != *" fit.verbose="* ]]; then
  cmd+=(--set fit.verbose=2)
fi
cmd+=("$@")

echo "$self: ${cmd[*]}" >&2
[ "$dry_run" -eq 0 ] || exit 0

run_mpirun "${cmd[@]}"
