# What jobs/local.sh and jobs/multinode.sh share (sourced; the caller defines
# `self`, its name in messages, and `die`):
#   find_dtrain                 # sets dtrain: $DTRAIN, build/dtrain or PATH; checks mpirun
#   run_mpirun "${cmd[@]}"      # runs mpirun in the foreground, exits with the documented code
# In run_mpirun, SIGTERM, SIGUSR1 and a first Ctrl-C reach mpirun as SIGUSR1:
# dtrain checkpoints at the next step boundary and exits 3. A second Ctrl-C
# aborts (SIGTERM).

find_dtrain() {
  dtrain=${DTRAIN:-}
  if [ -z "$dtrain" ]; then
    local repo
    repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    if [ -x "$repo/build/dtrain" ]; then
      dtrain=$repo/build/dtrain
    else
      dtrain=$(command -v dtrain) || die "no dtrain binary: set DTRAIN, build it in $repo/build, or put it on PATH"
    fi
  fi
  [ -x "$dtrain" ] || die "DTRAIN=$dtrain is not executable"
  command -v mpirun >/dev/null 2>&1 || die "mpirun not found (Debian: apt-get install openmpi-bin)"
  if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
}

mpirun_pid=""
stop_signal=""
interrupts=0
# shellcheck disable=SC2317  # called from the traps
forward_stop() {
  stop_signal=$1
  echo "$self: got SIG$1, asking dtrain to checkpoint and stop" >&2
  [ -z "$mpirun_pid" ] || kill -USR1 "$mpirun_pid" 2>/dev/null || true
}
# shellcheck disable=SC2317  # called from the traps
on_interrupt() {
  interrupts=$((interrupts + 1))
  if [ "$interrupts" -eq 1 ]; then
    forward_stop INT
    echo "$self: press Ctrl-C again to abort without waiting for the checkpoint" >&2
  else
    echo "$self: aborting" >&2
    [ -z "$mpirun_pid" ] || kill -TERM "$mpirun_pid" 2>/dev/null || true
  fi
}

# Open MPI's banners about an end dtrain chose itself (MPI_ABORT was invoked ...,
# a process returned a non-zero exit code ...) repeat what dtrain's one line said;
# every other message of mpirun (no slots, a program not found, a rank killed by a
# signal) passes. Each banner is a block between lines of dashes.
filter_mpi_banners() {
  trap '' INT TERM USR1  # the filter lives as long as mpirun: a Ctrl-C is for mpirun
  awk '
    function flush_block() {
      if (block !~ /MPI_ABORT was invoked|exited with non-zero status|returned[ \n]+a non-zero exit code/) printf "%s", block
      block = ""; inside = 0; fflush()
    }
    /^-+$/ && length($0) >= 40 { if (inside) { block = block $0 "\n"; flush_block(); next } inside = 1; block = $0 "\n"; next }
    inside { block = block $0 "\n"; next }
    { print; fflush() }
    END { if (inside) printf "%s", block }'
}

# The documented exit codes (docs/exit-codes.md) pass through. Any other status of
# mpirun is a run-time failure, 1: a rank killed by a signal (128+N) or a lost node
# (mpirun's own codes).
exit_documented() {
  local status=$1
  case $status in 0|1|2|3) exit "$status" ;; esac
  if [ "$status" -gt 128 ] && [ "$status" -lt 192 ]; then
    echo "$self: error: a rank was killed by signal $((status - 128)) (mpirun exited $status); the checkpoints written before stay valid: continue with --resume auto" >&2
  else
    echo "$self: error: mpirun exited $status (a rank or a node was lost); the checkpoints written before stay valid: continue with --resume auto" >&2
  fi
  exit 1
}

run_mpirun() {
  trap 'forward_stop TERM' TERM
  trap 'forward_stop USR1' USR1
  trap on_interrupt INT
  # Job control puts mpirun in its own process group, so a Ctrl-C at the terminal
  # reaches only this script (mpirun would answer SIGINT by killing the ranks
  # before their checkpoint). Its stdin is /dev/null: a background process group
  # reading the terminal would be stopped (dtrain reads no stdin).
  [ -z "$stop_signal" ] || { echo "$self: SIG$stop_signal before the start: not started" >&2; exit 1; }
  set -m
  "$@" </dev/null 2> >(filter_mpi_banners >&2) &
  mpirun_pid=$!
  set +m
  # A trapped signal makes `wait` return early: wait again while mpirun lives, then
  # once more to collect its real exit status.
  while :; do
    wait "$mpirun_pid"
    kill -0 "$mpirun_pid" 2>/dev/null || break
  done
  wait "$mpirun_pid"
  local status=$?
  wait  # the banner filter: its last lines out before the script ends
  exit_documented "$status"
}
