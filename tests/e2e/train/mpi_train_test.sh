#!/usr/bin/env bash
# dtrain train under mpiexec: preemption, killed ranks, other rank counts,
# failing and stalled ranks.
#   mpi_train_test.sh DTRAIN DATA CONFIG CASE
# CASE: signal_one_rank | kill_rank | resume_other_ranks | rank_throws | rank_stopped
DTRAIN=$1 DATA=$2 CONFIG=$3
source "$(dirname "$0")/lib.sh"
case=$4

# wait_for_step RUN_DIR STEP: until a checkpoint of step STEP or later exists
# (retention may already have removed STEP's own file) while the run started in
# the background (which writes RUN_DIR.rc when it ends) still runs; 120 s at most.
wait_for_step() {
  local deadline=$((SECONDS + 120)) f
  while :; do
    for f in "$1"/ckpt-*.h5; do
      [ -e "$f" ] || continue
      f=${f##*/ckpt-}; [ $((10#${f%.h5})) -lt "$2" ] || return 0
    done
    [ ! -e "$1.rc" ] || fail "the run ended before step $2: $(tail -5 "$1.log")"
    [ $SECONDS -lt $deadline ] || fail "no checkpoint of step $2 or later within 120 s"
    sleep 0.05
  done
}
# victim RUN_DIR: the pid of the run's last rank (fails if none runs)
victim() {
  local pid; pid=$(ranks_of "$1" | tail -1)
  [ -n "$pid" ] || fail "no rank of $1 is running: $(tail -5 "$1.log")"
  echo "$pid"
}
# the dtrain processes (ranks) of a run directory, not mpiexec
ranks_of() { pgrep -f "^$DTRAIN train .*--run-dir $1 " || true; }

case $case in
signal_one_rank)
  # SIGUSR1 to one rank in epoch 2 of a 2-rank run: checkpoint, exit 3, resume,
  # bitwise the uninterrupted run. 6 epochs (~1300 steps) leave time to signal.
  mpitrain 2 "$WORK/straight" --set fit.epochs=6 || fail "straight: $(cat "$WORK/straight.log")"
  (set +e; mpitrain 2 "$WORK/r" --set fit.epochs=6; echo $? >"$WORK/r.rc") &
  wait_for_step "$WORK/r" 250
  kill -USR1 "$(victim "$WORK/r")"
  wait
  [ "$(cat "$WORK/r.rc")" = 3 ] || fail "expected exit 3, got $(cat "$WORK/r.rc"): $(tail -5 "$WORK/r.log")"
  grep -q "Stopped by .*signal" "$WORK/r.log" || fail "no stop message: $(tail -3 "$WORK/r.log")"
  mpitrain 2 "$WORK/r" --set fit.epochs=6 --resume auto || fail "resume: $(tail -5 "$WORK/r.log")"
  same_weights "$(newest "$WORK/straight")" "$(newest "$WORK/r")"
  ;;
kill_rank)
  # kill -9 of one rank: the job ends (no hang); --resume auto finishes it.
  # 6 epochs (~1300 steps) so that the kill comes while it runs.
  (set +e; mpitrain 2 "$WORK/r" --set fit.epochs=6; echo $? >"$WORK/r.rc") &
  wait_for_step "$WORK/r" 100
  kill -9 "$(victim "$WORK/r")"
  start=$SECONDS
  wait
  [ $((SECONDS - start)) -le 15 ] || fail "the job took $((SECONDS - start)) s to end"
  [ "$(cat "$WORK/r.rc")" != 0 ] || fail "a job with a killed rank exited 0"
  mpitrain 2 "$WORK/r" --set fit.epochs=6 --resume auto || fail "resume: $(tail -5 "$WORK/r.log")"
  grep -q "Resuming from" "$WORK/r.log" || fail "did not resume"
  grep -q "^Test" "$WORK/r.log" || fail "did not finish"
  ;;
resume_other_ranks)
  # A 2-rank checkpoint resumes on 1 and 3 ranks; evaluated alike on any rank
  # count (the loaded weights are the saved ones); the loss continues.
  mpitrain 2 "$WORK/two" --set fit.epochs=2 || fail "2 ranks: $(cat "$WORK/two.log")"
  mpitrain 2 "$WORK/s" --set fit.epochs=1 || fail "first epoch"
  ckpt=$(newest "$WORK/s")
  e1=$(mpiexec -n 1 "$DTRAIN" evaluate "$ckpt" --data "$DATA" 2>&1 | grep '^Test') || fail "evaluate 1"
  e3=$(mpiexec -n 3 --oversubscribe "$DTRAIN" evaluate "$ckpt" --data "$DATA" 2>&1 | grep '^Test') || fail "evaluate 3"
  [ "$e1" = "$e3" ] || fail "evaluation differs: '$e1' vs '$e3'"
  for n in 1 3; do
    mkdir -p "$WORK/r$n" && cp "$ckpt" "$WORK/r$n/"
    mpitrain $n "$WORK/r$n" --set fit.epochs=2 --resume auto || fail "resume on $n: $(tail -5 "$WORK/r$n.log")"
    grep -q "Resuming from" "$WORK/r$n.log" || fail "did not resume on $n ranks"
    want=$(awk -F, 'NR==3 {print $2}' "$WORK/two/history.csv")
    got=$(grep -E '^[0-9]+/[0-9]+ - ' "$WORK/r$n.log" | tail -1 | sed 's/.* loss: \([0-9.]*\).*/\1/')
    awk -v a="$want" -v b="$got" 'BEGIN { d = (a - b) / a; if (d < 0) d = -d; exit !(d < 0.05) }' ||
      fail "epoch 2 loss on $n ranks $got, with 2 ranks $want"
  done
  ;;
predict_ranks)
  # predict writes one file from one rank: under mpiexec -n 3 every rank exits 2,
  # one line says why, and no file appears; on one rank it writes the file.
  mpitrain 2 "$WORK/s" --set fit.epochs=1 || fail "training: $(cat "$WORK/s.log")"
  ckpt=$(newest "$WORK/s")
  run_ranks 3 p3 predict "$ckpt" --input "$DATA" -o "$WORK/p.h5"
  every_rank_exited 2 p3 3
  [ "$(wc -l <"$WORK/p3.err")" -eq 1 ] && grep -q 'predict runs on one rank, got 3' "$WORK/p3.err" ||
    fail "not one line: $(cat "$WORK/p3.err")"
  [ ! -e "$WORK/p.h5" ] && [ -z "$(ls -A "$WORK" | grep '\.tmp$' || true)" ] || fail "3 ranks left a file"
  "$DTRAIN" predict "$ckpt" --input "$DATA" -o "$WORK/p.h5" >"$WORK/p1.log" 2>&1 || fail "1 rank: $(cat "$WORK/p1.log")"
  h5ls "$WORK/p.h5/predictions" >/dev/null || fail "no /predictions"
  ;;
rank_throws)
  # An error on rank 1 mid-epoch: every rank ends non-zero within 30 s, one message.
  start=$SECONDS
  set +e; mpitrain 2 "$WORK/r" --fail-at-step 120 --fail-rank 1; rc=$?; set -e
  [ "$rc" -ne 0 ] || fail "exit 0 after a failure"
  [ $((SECONDS - start)) -le 30 ] || fail "took $((SECONDS - start)) s"
  [ "$(grep -c 'injected failure' "$WORK/r.log")" = 1 ] || fail "message not exactly once: $(cat "$WORK/r.log")"
  [ -z "$(ranks_of "$WORK/r")" ] || fail "a rank survived"
  ;;
rank_stopped)
  # A rank stopped with SIGSTOP: with --stall-timeout 10 the job ends within 60 s
  # with the stall message naming the step, the operation and the rank.
  (set +e; mpitrain 2 "$WORK/r" --set fit.epochs=6 --stall-timeout 10; echo $? >"$WORK/r.rc") &
  wait_for_step "$WORK/r" 50
  victim=$(victim "$WORK/r")
  kill -STOP "$victim"
  start=$SECONDS
  wait
  kill -9 "$victim" 2>/dev/null || true
  [ $((SECONDS - start)) -le 60 ] || fail "took $((SECONDS - start)) s"
  [ "$(cat "$WORK/r.rc")" != 0 ] || fail "exit 0 after a stall"
  grep -qi "stall" "$WORK/r.log" || fail "no stall message: $(tail -5 "$WORK/r.log")"
  ;;
*) fail "unknown case $case" ;;
esac
echo "PASS $case"
