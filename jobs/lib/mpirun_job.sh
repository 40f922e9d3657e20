# What jobs/local.sh and jobs/multinode.sh share (sourced; the caller defines
# `self`, its name in messages, and `die`):
#   find_dtrain                 # sets dtrain: $DTRAIN, build/dtrain or PATH; checks mpirun
#   run_mpirun "${cmd[@]}"      # runs mpirun in the foreground, exits with its status
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
  "$@" </dev/null &
  mpirun_pid=$!
  set +m
  # A trapped signal makes `wait` return early: wait again while mpirun lives, then
  # once more to collect its real exit status.
  while :; do
    wait "$mpirun_pid"
    kill -0 "$mpirun_pid" 2>/dev/null || break
  done
  wait "$mpirun_pid"
  exit $?
}
