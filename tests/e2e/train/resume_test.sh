#!/usr/bin/env bash
# Checkpoints and exact resume, one rank:
#   resume_test.sh DTRAIN DATA CONFIG CASE
# CASE: epoch_stop | mid_epoch_stop | mid_schedule_stop | truncated_newest | explicit_corrupt | other_dataset
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
mid_schedule_stop)
  # As mid_epoch_stop, with AdamW on a warm-up + cosine schedule (645 steps: the
  # warm-up ends at 100, the cosine at 600) and the biases excluded from weight
  # decay: the resumed schedule continues from the checkpoint's iterations.
  opt='compile.optimizer={name: adamw, exclude_from_weight_decay: [bias], learning_rate: {schedule: CosineDecay,
    initial_learning_rate: 0.0, decay_steps: 500, alpha: 0.1, warmup_target: 0.003, warmup_steps: 100}}'
  train "$WORK/s" --set "$opt" || fail "straight run with the schedule: $(cat "$WORK/s.log")"
  set +e; train "$WORK/r" --set "$opt" --stop-after-steps 300; rc=$?; set -e
  [ "$rc" -eq 3 ] || fail "expected exit 3, got $rc: $(cat "$WORK/r.log")"
  # A changed schedule is a config change: refused, naming the argument.
  set +e; train "$WORK/r" --set "${opt/decay_steps: 500/decay_steps: 400}" --resume auto; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "a changed schedule was accepted (exit $rc): $(cat "$WORK/r.log")"
  grep -q "compile.optimizer.learning_rate.decay_steps: 500 (checkpoint) → 400" "$WORK/r.log" ||
    fail "the refusal does not name the schedule's argument: $(cat "$WORK/r.log")"
  train "$WORK/r" --set "$opt" --resume auto || fail "resume: $(cat "$WORK/r.log")"
  grep -q "step 85" "$WORK/r.log" || fail "did not resume inside epoch 2: $(grep Resum "$WORK/r.log")"
  same_weights "$(newest "$WORK/s")" "$(newest "$WORK/r")"
  ;;
truncated_newest)
  set +e; train "$WORK/r" --stop-after-steps 300; set -e
  newest_file=$(newest "$WORK/r")
  size=$(stat -c %s "$newest_file")
  truncate -s $((size / 2)) "$newest_file"
  train "$WORK/r" --resume auto || fail "resume: $(cat "$WORK/r.log")"
  grep -q "warning: .*ckpt-000300.h5" "$WORK/r.log" || fail "no warning about the damaged file: $(head -5 "$WORK/r.log")"
  ! grep -q "warning: warning:" "$WORK/r.log" || fail "a doubled 'warning:': $(grep warning "$WORK/r.log")"
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
other_dataset)
  # Resumed on another file (the same data and 4 KiB more bytes at its end: another
  # fingerprint, which covers the size): one warning naming both files.
  set +e; train "$WORK/r" --stop-after-steps 100; set -e
  cp "$DATA" "$WORK/other.h5"
  truncate -s +4096 "$WORK/other.h5"
  train "$WORK/r" --resume auto --set data.file="$WORK/other.h5" --allow-change data.file || fail "resume: $(cat "$WORK/r.log")"
  grep -q "^dtrain: warning: $WORK/r/ckpt-000100.h5 was trained on $DATA (dataset fingerprint xxh64:[0-9a-f]* size:[0-9]*), not on $WORK/other.h5 (xxh64:" \
    "$WORK/r.log" || fail "no warning naming both files: $(grep -i warning "$WORK/r.log")"
  [ "$(grep -c warning "$WORK/r.log")" -eq 1 ] || fail "not one warning: $(grep warning "$WORK/r.log")"
  grep warning "$WORK/r.log"
  ;;
*) fail "unknown case $case" ;;
esac
echo "PASS $case"
