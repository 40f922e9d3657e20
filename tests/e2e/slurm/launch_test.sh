#!/usr/bin/env bash
# End-to-end tests of the launch scripts: jobs/slurm/train.sbatch on a real
# single-node Slurm (started here by slurm_cluster.sh, stopped from a trap) and
# jobs/local.sh under mpirun. Registered in tests/e2e/CMakeLists.txt, one ctest
# per case:
#
#   launch_test.sh DTRAIN CONFIG CASE
#
# DTRAIN is the `dtrain` binary, CONFIG a small run config (tests/e2e/configs/
# tiny.yaml); the data is Fashion-MNIST from the Debian package, made in the test's
# temporary directory by data/prepare_fashion_mnist.sh (~1 s) and passed with
# --set data.file=. Every case checks exit codes and the step arithmetic of the
# run: "N steps per epoch" (header) x EPOCHS must equal the steps trained, summed
# over an interrupted run ("Stopped by signal ... at step S") and its resumption
# ("Trained N steps").
#
# Cases:
#   sbatch_completes      2 tasks (srun --mpi=pmix) train to the end, exit 0
#   sbatch_requeue        USR1 to the batch shell: checkpoint, exit 3, scontrol
#                         requeue, the rerun resumes and finishes
#   sbatch_requeue_mpirun the same with DTRAIN_LAUNCHER=mpirun
#   sbatch_scancel        plain scancel: checkpoint written, job CANCELLED, no requeue
#   sbatch_max_requeues   USR1 with DTRAIN_MAX_REQUEUES=0: exit 3, FAILED, no requeue
#   sbatch_usage          bad use of train.sbatch: exit 2 with a message, no run
#   local_completes       local.sh -n 2 trains to the end
#   local_signal_resume   SIGTERM to local.sh: exit 3; --resume auto finishes the run
#   local_usage           local.sh --help, missing -n, bad -t, --dry-run mapping
set -uo pipefail
DTRAIN=$(readlink -f "$1")
CONFIG=$(readlink -f "$2")
CASE=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
SBATCH_SCRIPT=$ROOT/jobs/slurm/train.sbatch
LOCAL=$ROOT/jobs/local.sh
# Epochs of every run. Stop requests are sent once the first periodic checkpoint
# (tiny.yaml: every 50 steps) is in the run directory: the rest of the run must
# outlast the ~1 s a request takes to arrive (tiny.yaml on Fashion-MNIST: 215
# steps an epoch, 0.3-1 s per epoch on 2 cores today; 3 epochs sometimes ended
# before the request came).
EPOCHS=${DTRAIN_TEST_EPOCHS:-10}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dtrain-e2e-launch.XXXXXX")
CLUSTER=$WORK/slurm
cluster_started=0
cleanup() {
  [ "$cluster_started" -eq 0 ] || "$HERE/slurm_cluster.sh" stop "$CLUSTER"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK" || exit 1

T0=$SECONDS
note() { echo "[$((SECONDS - T0))s] $*"; }

fail() {
  echo "FAIL [$CASE]: $*" >&2
  for f in "$WORK"/*.out "$WORK"/*.txt; do
    [ -f "$f" ] && { echo "---- $f" >&2; cat "$f" >&2; }
  done
  if [ "$cluster_started" -eq 1 ] && [ -n "${JOB:-}" ]; then
    echo "---- scontrol show job $JOB" >&2
    timeout 10 scontrol show job "$JOB" >&2 2>&1
    for f in "$CLUSTER"/log/slurmctld.log "$CLUSTER"/log/slurmd.log; do
      echo "---- $f (last 30 lines)" >&2
      tail -n 30 "$f" >&2
    done
  fi
  exit 1
}

# has FILE TEXT...: FILE contains every TEXT (fixed strings).
has() {
  local f=$1 t
  shift
  for t in "$@"; do grep -qF -- "$t" "$f" || fail "$(basename "$f") lacks '$t'"; done
}
lacks() {
  local f=$1 t
  shift
  for t in "$@"; do ! grep -qF -- "$t" "$f" || fail "$(basename "$f") unexpectedly has '$t'"; done
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.3 s.
wait_for() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${limit}s waiting for: $what"
    sleep 0.3
  done
}

# Numbers from a run's output (the last occurrence: a requeued job appends).
steps_per_epoch() { grep -o '[0-9]* steps per epoch' "$1" | tail -n 1 | grep -o '^[0-9]*'; }
stopped_at() { grep -o 'Stopped by signal [0-9]* at step [0-9]*' "$1" | tail -n 1 | grep -o '[0-9]*$'; }
trained() { grep -o 'Trained [0-9]* steps' "$1" | tail -n 1 | grep -o '[0-9][0-9]*'; }

# check_steps FILE EXPECTED_STOP_COUNT: the run trained EPOCHS x steps per epoch
# in total, split at the "Stopped by signal" line if there is one.
check_steps() {
  local f=$1 per total stop=0 done_
  per=$(steps_per_epoch "$f")
  [ -n "$per" ] || fail "no 'N steps per epoch' line in $(basename "$f")"
  total=$((per * EPOCHS))
  [ "$(grep -c 'Stopped by signal' "$f")" -eq "$2" ] \
    || fail "expected $2 'Stopped by signal' line(s) in $(basename "$f")"
  [ "$2" -eq 0 ] || stop=$(stopped_at "$f")
  done_=$(trained "$f")
  [ -n "$done_" ] || fail "no 'Trained N steps' line in $(basename "$f")"
  [ $((stop + done_)) -eq "$total" ] \
    || fail "steps: stopped at $stop + trained $done_ != $EPOCHS epochs x $per = $total"
  note "steps: $stop before the stop + $done_ after = $total = $EPOCHS x $per"
}

# ---- Slurm helpers ------------------------------------------------------------
start_cluster() {
  cluster_started=1
  "$HERE/slurm_cluster.sh" start "$CLUSTER" $$ || fail "the Slurm cluster did not start"
  eval "$("$HERE/slurm_cluster.sh" env "$CLUSTER")"
  note "cluster up"
}

# submit [sbatch options...] -- [script args...]: sets JOB, OUT (the job's output,
# the script's --output=dtrain-%x-%j.out) and RUN (the default run directory).
submit() {
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  JOB=$(sbatch --parsable "${opts[@]}" "$SBATCH_SCRIPT" "$@") || fail "sbatch failed"
  JOB=${JOB%%;*}
  OUT=$WORK/dtrain-dtrain-$JOB.out
  RUN=$WORK/runs/dtrain-$JOB
  note "submitted job $JOB"
}

job_field() { timeout 10 scontrol show job -o "$JOB" 2>/dev/null | grep -o "\b$1=[^ ]*" | head -n 1 | cut -d= -f2; }
job_state_is() { [ "$(job_field JobState)" = "$1" ]; }
job_ended() {
  case $(job_field JobState) in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) return 0 ;; esac
  return 1
}
output_has() { [ -f "$OUT" ] && grep -qF -- "$1" "$OUT"; }
# has_checkpoint DIR: dtrain wrote a checkpoint (ckpt-<step>.h5) into DIR.
has_checkpoint() { compgen -G "$1/ckpt-*.h5" >/dev/null; }

expect_job() {  # expect_job STATE EXITCODE RESTARTS
  local s e r
  s=$(job_field JobState) e=$(job_field ExitCode) r=$(job_field Restarts)
  [ "$s" = "$1" ] && [ "$e" = "$2" ] && [ "$r" = "$3" ] \
    || fail "job $JOB: JobState=$s ExitCode=$e Restarts=$r, expected $1 $2 $3"
  note "job $JOB: JobState=$s ExitCode=$e Restarts=$r"
}

TRAIN_ARGS=(--set "fit.epochs=$EPOCHS")

# prepare_data: Fashion-MNIST into $WORK/data.h5, added to TRAIN_ARGS.
prepare_data() {
  DTRAIN=$DTRAIN "$ROOT/data/prepare_fashion_mnist.sh" "$WORK/data.h5" > "$WORK/data.log" 2>&1 \
    || fail "data/prepare_fashion_mnist.sh failed: $(cat "$WORK/data.log")"
  TRAIN_ARGS+=(--set "data.file=$WORK/data.h5")
  note "data ready"
}

# ---- cases ----------------------------------------------------------------------
case_sbatch_completes() {
  start_cluster
  submit -- "$CONFIG" "${TRAIN_ARGS[@]}"
  wait_for 120 "job $JOB to end" job_ended
  expect_job COMPLETED 0:0 0
  has "$OUT" "job $JOB (restart 0)" "2 ranks x 1 threads, launcher srun" "2 ranks x 1 thread(s) per rank" \
    "dtrain exited with 0" "run dir $RUN," "Checkpoint: $RUN/"
  lacks "$OUT" "Stopped by signal" "requeue"
  check_steps "$OUT" 0
  ls "$RUN"/* >/dev/null 2>&1 || fail "nothing was written to the run directory $RUN"
}

# sbatch_requeue [LAUNCHER]
case_sbatch_requeue() {
  local launcher=${1:-srun}
  start_cluster
  DTRAIN_LAUNCHER=$launcher submit -- "$CONFIG" "${TRAIN_ARGS[@]}"
  wait_for 90 "a first checkpoint in $RUN" has_checkpoint "$RUN"
  timeout 10 scancel -b --signal=USR1 "$JOB" || fail "scancel -b --signal=USR1 failed"
  note "sent USR1 to the batch shell"
  wait_for 60 "job $JOB to be requeued" output_has "requeued job $JOB"
  wait_for 120 "job $JOB to end after its restart" job_ended
  expect_job COMPLETED 0:0 1
  has "$OUT" "launcher $launcher" "got SIGUSR1" "Stopped by signal 10 at step" "dtrain exited with 3" \
    "requeued job $JOB (restart 1 will resume)" "job $JOB (restart 1)" "Resuming from $RUN/" \
    "dtrain exited with 0"
  [ "$(grep -c 'dtrain exited with' "$OUT")" -eq 2 ] || fail "expected exactly two runs"
  check_steps "$OUT" 1
}

case_sbatch_scancel() {
  start_cluster
  DTRAIN_RUN_DIR=$WORK/env-run submit -- "$CONFIG" "${TRAIN_ARGS[@]}"
  RUN=$WORK/env-run
  wait_for 90 "a first checkpoint in $RUN" has_checkpoint "$RUN"
  timeout 10 scancel "$JOB" || fail "scancel failed"
  note "cancelled job $JOB"
  wait_for 60 "job $JOB to end" job_ended
  wait_for 30 "the batch script's last line" output_has "not requeueing"
  expect_job CANCELLED 3:0 0
  has "$OUT" "got SIGTERM" "Stopped by signal" "dtrain exited with 3" "run dir $RUN," "checkpoint kept in $RUN"
  lacks "$OUT" "requeued job"
  local stop
  stop=$(stopped_at "$OUT")
  [ -n "$stop" ] && [ "$stop" -ge 1 ] || fail "no step recorded before the stop"
  ls "$RUN"/* >/dev/null 2>&1 || fail "no checkpoint in the run directory $RUN"
}

case_sbatch_max_requeues() {
  start_cluster
  DTRAIN_MAX_REQUEUES=0 submit -- "$CONFIG" --run-dir "$WORK/arg-run" "${TRAIN_ARGS[@]}"
  RUN=$WORK/arg-run
  wait_for 90 "a first checkpoint in $RUN" has_checkpoint "$RUN"
  timeout 10 scancel -b --signal=USR1 "$JOB" || fail "scancel -b --signal=USR1 failed"
  wait_for 60 "job $JOB to end" job_ended
  expect_job FAILED 3:0 0
  has "$OUT" "got SIGUSR1" "Stopped by signal 10 at step" "dtrain exited with 3" \
    "not requeueing: 0 restarts reached DTRAIN_MAX_REQUEUES=0" "run dir $RUN," \
    "checkpoint $RUN/"
  lacks "$OUT" "requeued job"
}

case_sbatch_usage() {
  start_cluster
  submit --
  wait_for 60 "job $JOB to end" job_ended
  expect_job FAILED 2:0 0
  has "$OUT" "usage: sbatch train.sbatch CONFIG.yaml"
  submit -- "$WORK/no-such-config.yaml"
  wait_for 60 "job $JOB to end" job_ended
  expect_job FAILED 2:0 0
  has "$OUT" "cannot read the config '$WORK/no-such-config.yaml'"
  DTRAIN_LAUNCHER=pbs submit -- "$CONFIG"
  wait_for 60 "job $JOB to end" job_ended
  expect_job FAILED 2:0 0
  has "$OUT" "DTRAIN_LAUNCHER must be srun or mpirun, not 'pbs'"
  lacks "$OUT" "steps per epoch"
}

case_local_completes() {
  "$LOCAL" -n 2 -t 1 "$CONFIG" --run-dir "$WORK/run" "${TRAIN_ARGS[@]}" > local.txt 2>&1
  local rc=$?
  [ $rc -eq 0 ] || fail "local.sh exited with $rc"
  has local.txt "mpirun -n 2" "--threads 1" "2 ranks x 1 thread(s) per rank" "Checkpoint: $WORK/run/"
  check_steps local.txt 0
}

case_local_signal_resume() {
  "$LOCAL" -n 2 -t 1 "$CONFIG" --run-dir "$WORK/run" --resume auto "${TRAIN_ARGS[@]}" > first.txt 2>&1 &
  local pid=$! rc
  wait_for 90 "a first checkpoint in $WORK/run" has_checkpoint "$WORK/run"
  kill -TERM "$pid"
  note "sent SIGTERM to local.sh"
  wait "$pid"
  rc=$?
  [ $rc -eq 3 ] || fail "local.sh exited with $rc after SIGTERM, expected 3"
  has first.txt "got SIGTERM" "Stopped by signal 10 at step"
  "$LOCAL" -n 2 -t 1 "$CONFIG" --run-dir "$WORK/run" --resume auto "${TRAIN_ARGS[@]}" > second.txt 2>&1
  rc=$?
  [ $rc -eq 0 ] || fail "the resumed run exited with $rc"
  has second.txt "Resuming from $WORK/run/"
  cat first.txt second.txt > both.txt
  check_steps both.txt 1
}

case_local_usage() {
  local rc
  "$LOCAL" --help > help.txt 2>&1 || fail "--help exited with $?"
  has help.txt "-n RANKS" "-t THREADS" "--dry-run" "SIGTERM"
  "$LOCAL" "$CONFIG" > err.txt 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "without -n: exit $rc, expected 2"
  has err.txt "-n RANKS is required"
  "$LOCAL" -n 2 -t zero "$CONFIG" > err.txt 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "-t zero: exit $rc, expected 2"
  has err.txt "-t expects a positive integer, got 'zero'"
  "$LOCAL" -n 2 "$WORK/missing.yaml" > err.txt 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "missing config: exit $rc, expected 2"
  has err.txt "cannot read the config '$WORK/missing.yaml'"
  # Mapping: 1 rank x 1 thread always fits and is bound; 4096 ranks never fit.
  "$LOCAL" -n 1 -t 1 --dry-run "$CONFIG" --set a=b > dry.txt 2>&1 || fail "--dry-run exited with $?"
  has dry.txt "mpirun -n 1 --map-by slot:PE=1 --bind-to core $DTRAIN train $CONFIG --threads 1 --set fit.verbose=2 --set a=b"
  "$LOCAL" -n 4096 -t 1 --dry-run "$CONFIG" > dry.txt 2>&1 || fail "--dry-run exited with $?"
  has dry.txt "mpirun -n 4096 --oversubscribe --bind-to none --mca mpi_yield_when_idle 1 $DTRAIN train"
}

export DTRAIN
case $CASE in
  sbatch_usage|local_usage) ;;
  *) prepare_data ;;
esac
case $CASE in
  sbatch_completes) case_sbatch_completes ;;
  sbatch_requeue) case_sbatch_requeue srun ;;
  sbatch_requeue_mpirun) case_sbatch_requeue mpirun ;;
  sbatch_scancel) case_sbatch_scancel ;;
  sbatch_max_requeues) case_sbatch_max_requeues ;;
  sbatch_usage) case_sbatch_usage ;;
  local_completes) case_local_completes ;;
  local_signal_resume) case_local_signal_resume ;;
  local_usage) case_local_usage ;;
  *) echo "unknown case '$CASE'" >&2; exit 2 ;;
esac
note "PASS [$CASE]"
