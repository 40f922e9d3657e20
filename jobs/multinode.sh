#!/usr/bin/env bash
# Runs `dtrain train` on several nodes with mpirun and a hostfile, over TCP, with
# the settings that end the job quickly on every node when a node or its link
# fails (docs/multinode.md explains each one and its price).
#
#   jobs/multinode.sh --hostfile FILE [-n RANKS] [-t THREADS] [--net NET] [--no-bind]
#                     [--dry-run] CONFIG.yaml [dtrain train args...]
#   jobs/multinode.sh --hostfile jobs/hostfile.example --net 10.1.0.0/16 \
#                     jobs/configs/fashion_mlp.yaml --resume auto
#
# --hostfile FILE  Open MPI hostfile (see jobs/hostfile.example); the nodes must
#                  reach each other and this node, and see dtrain, the config and
#                  the data at the same paths (a shared file system)
# -n RANKS         MPI ranks (default: one per slot of the hostfile)
# -t THREADS       threads per rank: each rank is bound to THREADS cores. Without
#                  it ranks are not bound and dtrain uses every core it sees
#                  (right for one rank per node)
# --net NET        the network MPI uses, as a CIDR (10.1.0.0/16) or interface
#                  names (ib0,eth1): btl_tcp_if_include and oob_tcp_if_include.
#                  Default $DTRAIN_NET; unset, Open MPI tries every interface
# --no-bind        never bind ranks to cores (nodes that share cores, e.g. tests)
# --dry-run        print the mpirun command and exit
#
# What it passes: --mca pml ob1 --mca btl tcp,vader,self (TCP between nodes,
# shared memory inside one; DTRAIN_BTL replaces the list), the OOB keepalive (oob_tcp_keepalive_time 5,
# _intvl 2, _probes 3: a silent node is noticed in about 11 s; override with
# DTRAIN_KEEPALIVE="TIME INTVL PROBES" or "off"), and dtrain --stall-timeout 60
# unless your arguments name one (DTRAIN_STALL_TIMEOUT changes the 60). Set
# net.ipv4.tcp_retries2=5 on the nodes too (docs/multinode.md). Extra mpirun
# options: $DTRAIN_MPIRUN_ARGS (split on spaces). PATH and LD_LIBRARY_PATH are
# exported to the ranks (-x): ssh does not carry this shell's environment. When
# stdout is not a terminal, --set fit.verbose=2 (one line per epoch) is added
# unless your arguments set fit.verbose.
#
# The binary is $DTRAIN, else build/dtrain next to this script's jobs/ folder,
# else `dtrain` on PATH. Signals as in jobs/local.sh: SIGTERM, SIGUSR1 and the
# first Ctrl-C reach every rank as SIGUSR1 (checkpoint, exit 3; continue with
# --resume auto, on as many nodes as are left). Exit code: dtrain's (0-3); 1 when
# a rank was killed or a node lost (mpirun's own codes 137, 205, ...); 2 for a bad
# use of this script. Open MPI's abort banners are filtered out as in local.sh.
set -uo pipefail

self=$(basename "$0")
usage() { sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "$self: error: $*" >&2; echo "Run '$0 --help' for usage." >&2; exit 2; }
# shellcheck source=lib/mpirun_job.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/mpirun_job.sh"
is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

hostfile=""
ranks=""
threads=""
net=${DTRAIN_NET:-}
bind=1
dry_run=0
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --hostfile) [ $# -ge 2 ] || die "$1 needs a value"; hostfile=$2; shift 2 ;;
    -n|--ranks) [ $# -ge 2 ] || die "$1 needs a value"; ranks=$2; shift 2 ;;
    -t|--threads) [ $# -ge 2 ] || die "$1 needs a value"; threads=$2; shift 2 ;;
    --net) [ $# -ge 2 ] || die "$1 needs a value"; net=$2; shift 2 ;;
    --no-bind) bind=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    --) shift; break ;;
    -*) die "unknown option '$1' (dtrain options go after CONFIG)" ;;
    *) break ;;
  esac
done
[ -n "$hostfile" ] || die "--hostfile FILE is required"
[ -r "$hostfile" ] || die "cannot read the hostfile '$hostfile'"
[ -z "$ranks" ] || is_count "$ranks" || die "-n expects a positive integer, got '$ranks'"
[ -z "$threads" ] || is_count "$threads" || die "-t expects a positive integer, got '$threads'"
[[ -z $net || $net =~ ^[A-Za-z0-9.,:/_-]+$ ]] || die "--net expects a CIDR or interface names, got '$net'"
[ $# -ge 1 ] || die "missing CONFIG"
config=$1
shift
[ -r "$config" ] || die "cannot read the config '$config'"
keepalive=${DTRAIN_KEEPALIVE:-5 2 3}
stall=${DTRAIN_STALL_TIMEOUT:-60}

find_dtrain

# shellcheck disable=SC2054  # the commas are in option values
cmd=(mpirun --hostfile "$hostfile" --mca pml ob1 --mca btl "${DTRAIN_BTL:-tcp,vader,self}")
[ -z "$ranks" ] || cmd+=(-n "$ranks")
if [ -n "$net" ]; then
  cmd+=(--mca btl_tcp_if_include "$net" --mca oob_tcp_if_include "$net")
else
  echo "$self: warning: no --net: Open MPI tries every interface (a wrong one can hang the start)" >&2
fi
if [ "$keepalive" != off ]; then
  read -r -a ka <<<"$keepalive"
  [ "${#ka[@]}" -eq 3 ] || die "DTRAIN_KEEPALIVE must be 'TIME INTVL PROBES' or off, not '$keepalive'"
  cmd+=(--mca oob_tcp_keepalive_time "${ka[0]}" --mca oob_tcp_keepalive_intvl "${ka[1]}"
        --mca oob_tcp_keepalive_probes "${ka[2]}")
fi
if [ "$bind" -eq 1 ] && [ -n "$threads" ]; then
  cmd+=(--map-by "slot:PE=$threads" --bind-to core)
else
  cmd+=(--bind-to none)
fi
cmd+=(-x PATH)
[ -z "${LD_LIBRARY_PATH:-}" ] || cmd+=(-x LD_LIBRARY_PATH)
# shellcheck disable=SC2206  # word splitting of the extra options is intended
[ -z "${DTRAIN_MPIRUN_ARGS:-}" ] || cmd+=(${DTRAIN_MPIRUN_ARGS})
cmd+=("$dtrain" train "$config")
[ -z "$threads" ] || cmd+=(--threads "$threads")
[[ " $* " == *" --stall-timeout"* ]] || cmd+=(--stall-timeout "$stall")
# Ranks under mpirun see a pseudo-terminal and would draw progress bars: one line
# per epoch when this script's output is not a terminal (as jobs/local.sh).
[ -t 1 ] || [[ " $* " == *" fit.verbose="* ]] || cmd+=(--set fit.verbose=2)
cmd+=("$@")

echo "$self: ${cmd[*]}" >&2
[ "$dry_run" -eq 0 ] || exit 0

run_mpirun "${cmd[@]}"
