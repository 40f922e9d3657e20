#!/usr/bin/env bash
# Checkpoints and exact resume, one rank:
#   resume_test.sh DTRAIN DATA CONFIG CASE
# CASE: epoch_stop | mid_epoch_stop | truncated_newest | explicit_corrupt
DTRAIN=$1 DATA=$2 CONFIG=$3
source "$(dirname "$0")/lib.sh"
case=$4

train "$WORK/straight" || fail "straight run: $(cat "$WORK/straight.log")"
final=$(newest "$WORK/straight")

case $case in
epoch_stop)
  # Stop after epoch 1 of 3, resume: bitwise the straight run.
  train "$WORK/r" --set fit.epochs=1 || fail "first part"
  train "$WORK/r" --resume auto || fail "resume: $(cat "$WORK/r.log")"
  grep -q "Resuming from" "$WORK/r.log" || fail "did not resume"
  same_weights "$final" "$(newest "$WORK/r")"
  ;;
mid_epoch_stop)
  # Stop at step 300 (inside epoch 2, not on a step checkpoint), exit 3, resume.
  set +e; train "$WORK/r" --stop-after-steps 300; rc=$?; set -e
  [ "$rc" -eq 3 ] || fail "expected exit 3, got $rc: $(cat "$WORK/r.log")"
  [ -f "$WORK/r/ckpt-000300.h5" ] || fail "no checkpoint at step 300: $(ls "$WORK/r")"
  train "$WORK/r" --resume auto || fail "resume: $(cat "$WORK/r.log")"
  grep -q "step 85" "$WORK/r.log" || fail "did not resume inside epoch 2: $(grep Resum "$WORK/r.log")"
  same_weights "$final" "$(newest "$WORK/r")"
  ;;
truncated_newest)
  set +e; train "$WORK/r" --stop-after-steps 300; set -e
  newest_file=$(newest "$WORK/r")
  size=$(stat -c %s "$newest_file")
  truncate -s $((size / 2)) "$newest_file"
  train "$WORK/r" --resume auto || fail "resume: $(cat "$WORK/r.log")"
  grep -q "warning: .*ckpt-000300.h5" "$WORK/r.log" || fail "no warning about the damaged file: $(head -5 "$WORK/r.log")"
  grep -q "Resuming from .*ckpt-000250.h5" "$WORK/r.log" || fail "did not fall back to step 250"
  same_weights "$final" "$(newest "$WORK/r")"
  ;;
explicit_corrupt)
  set +e; train "$WORK/r" --stop-after-steps 100; set -e
  f=$(newest "$WORK/r")
  truncate -s 1000 "$f"
  set +e; train "$WORK/r" --resume "$f"; rc=$?; set -e
  [ "$rc" -ne 0 ] || fail "a corrupt explicit checkpoint was accepted"
  grep -q "error: .*$(basename "$f")" "$WORK/r.log" || fail "no clear error: $(cat "$WORK/r.log")"
  ;;
*) fail "unknown case $case" ;;
esac
echo "PASS $case"
