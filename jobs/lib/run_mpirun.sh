# Runs an mpirun command line in the foreground for jobs/local.sh and
# jobs/multinode.sh (sourced; `self` names the calling script in messages):
#   source jobs/lib/run_mpirun.sh; run_mpirun "${cmd[@]}"   # exits with mpirun's status
# SIGTERM, SIGUSR1 and a first Ctrl-C reach mpirun as SIGUSR1: dtrain checkpoints
# at the next step boundary and exits 3. A second Ctrl-C aborts (SIGTERM).

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
