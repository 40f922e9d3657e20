#!/usr/bin/env bash
# The exit-code contract (docs/exit-codes.md, issue 20): 2 for anything the user
# gave that is wrong, 1 for a run-time failure, on every rank, with one line from
# one rank and no Open MPI abort banner from the launcher scripts.
#   exit_codes_test.sh DTRAIN DATA CONFIG CASE
# CASE: input_errors | runtime_one_rank | runtime_local | killed_local
DTRAIN=$1 DATA=$2 CONFIG=$3
source "$(dirname "$0")/lib.sh"
case=$4
LOCAL=$(cd "$(dirname "$0")/../../.." && pwd)/jobs/local.sh

# expect NAME CODE N PATTERN: every rank of run NAME exited CODE, one line matches
expect() {
  local name=$1 code=$2 n=$3 pattern=$4
  every_rank_exited "$code" "$name" "$n"
  [ "$(wc -l <"$WORK/$name.err")" -eq 1 ] || fail "$name: expected one line, got: $(cat "$WORK/$name.err")"
  grep -qE "^dtrain: error: $pattern" "$WORK/$name.err" || fail "$name: '$(cat "$WORK/$name.err")' does not match '$pattern'"
  echo "ok $name ($n rank(s), exit $code): $(cat "$WORK/$name.err")"
}

case $case in
input_errors)
  mkdir "$WORK/config_dir.yaml"
  sed 's/    - Flatten: {}/    - Conv2D: {filters: 4, kernel_size: 3}/' "$CONFIG" >"$WORK/no_flatten.yaml"
  echo "not a checkpoint" >"$WORK/text.h5"
  for n in 1 2; do
    run_ranks $n dir$n train "$WORK/config_dir.yaml"
    expect dir$n 2 $n "$WORK/config_dir.yaml: is a directory, not a config file"
    run_ranks $n shape$n train "$WORK/no_flatten.yaml" --set data.file="$DATA" --run-dir "$WORK/shape$n"
    expect shape$n 2 $n "$WORK/no_flatten.yaml: the output layer 'dense_1' \(Dense, output \[26, 26, 10\]\) does not fit $DATA /train/y, which holds class ids \(\[55000\], 10 classes\): sparse_categorical_crossentropy needs an output \[10\], one unit per class"
    [ ! -e "$WORK/shape$n" ] || fail "shape$n: the run directory was created"
    run_ranks $n resume_text$n train "$CONFIG" --set data.file="$DATA" --run-dir "$WORK/rt$n" --resume "$WORK/text.h5"
    expect resume_text$n 2 $n "$WORK/text.h5: not an HDF5 file"
    run_ranks $n eval_split$n evaluate "$WORK/text.h5" --data "$DATA"
    expect eval_split$n 2 $n "$WORK/text.h5: not an HDF5 file"
  done
  # A checkpoint that does not fit the model (the change allowed, so that the
  # weights are what refuses): 2, naming the weight and both shapes.
  train "$WORK/small" --set fit.epochs=1 ||
    fail "first run: $(cat "$WORK/small.log")"
  sed 's/units: 32/units: 16/' "$CONFIG" >"$WORK/narrow.yaml"
  for n in 1 2; do
    run_ranks $n misfit$n train "$WORK/narrow.yaml" --set data.file="$DATA" --run-dir "$WORK/misfit$n" \
      --resume "$(newest "$WORK/small")" --allow-change model --set fit.epochs=1
    expect misfit$n 2 $n ".*dense/kernel.*\[784, 32\].*\[784, 16\]|.*dense/kernel.*\[784, 16\].*\[784, 32\]"
  done
  run_ranks 2 eval_ok evaluate "$(newest "$WORK/small")" --data "$DATA" --split nosuch
  expect eval_ok 2 2 "$DATA: dataset /nosuch/x is missing \(no split 'nosuch'\)"
  ;;
runtime_one_rank)
  # A run-time error on one process: one line, exit 1, no MPI banner.
  run_ranks 1 fail train "$CONFIG" --set data.file="$DATA" --run-dir "$WORK/f" --threads 1 --fail-at-step 5
  expect fail 1 1 "injected failure at step 5 \(--fail-at-step\)"
  ;;
runtime_local)
  # Under jobs/local.sh a failing rank ends the job with 1 and its one line;
  # Open MPI's MPI_ABORT and non-zero-status banners are filtered out.
  set +e
  DTRAIN=$DTRAIN "$LOCAL" -n 2 -t 1 "$CONFIG" --set data.file="$DATA" --run-dir "$WORK/l" --fail-at-step 30 \
    --fail-rank 1 >"$WORK/l.out" 2>"$WORK/l.err"
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "local.sh exited $rc, expected 1: $(cat "$WORK/l.err")"
  [ "$(grep -c 'dtrain: error' "$WORK/l.err")" -eq 1 ] || fail "not one error line: $(cat "$WORK/l.err")"
  grep -q "dtrain: error (rank 1): injected failure at step 30" "$WORK/l.err" || fail "no error line: $(cat "$WORK/l.err")"
  ! grep -qE "MPI_ABORT|non-zero|^-----" "$WORK/l.err" || fail "an Open MPI banner came through: $(cat "$WORK/l.err")"
  echo "ok runtime_local: $(grep -v '^local.sh: mpirun' "$WORK/l.err")"
  ;;
killed_local)
  # A rank killed with kill -9: local.sh exits 1 (documented), not mpirun's 137.
  (set +e; DTRAIN=$DTRAIN "$LOCAL" -n 2 -t 1 "$CONFIG" --set data.file="$DATA" --run-dir "$WORK/k" \
    --set fit.epochs=6 >"$WORK/k.out" 2>"$WORK/k.err"; echo $? >"$WORK/k.rc") &
  for _ in $(seq 600); do ls "$WORK"/k/ckpt-*.h5 >/dev/null 2>&1 && break; sleep 0.1; done
  victim=$(pgrep -f -- "--run-dir $WORK/k" | while read -r p; do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = dtrain ] && echo "$p"; done | tail -1)
  [ -n "$victim" ] || fail "no rank found: $(cat "$WORK/k.err")"
  kill -9 "$victim"
  wait
  [ "$(cat "$WORK/k.rc")" = 1 ] || fail "local.sh exited $(cat "$WORK/k.rc"), expected 1: $(cat "$WORK/k.err")"
  grep -q "local.sh: error: a rank was killed by signal 9 (mpirun exited 137)" "$WORK/k.err" ||
    fail "no line about the killed rank: $(cat "$WORK/k.err")"
  echo "ok killed_local: $(grep 'local.sh: error' "$WORK/k.err")"
  ;;
esac
echo PASS
