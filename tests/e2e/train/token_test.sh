#!/usr/bin/env bash
# Token data through `dtrain train` (issue 15): an int32 [N, t] x with [N, t]
# next-token labels trains for one epoch with Embedding -> Dense(vocab) on 1 and 2
# ranks; a token id >= input_dim in the file stops the run before training with
# exit 2 and one line naming the layer, the file row and the value.
#   token_test.sh DTRAIN MAKE_TOKEN_DATA CONFIG CASE
DTRAIN=$1 MAKE=$2 CONFIG=$3 CASE=$4
DATA=unused
. "$(dirname "$0")/lib.sh"

case "$CASE" in
  train_1 | train_2)
    n=${CASE#train_}
    "$MAKE" "$WORK/tokens.h5" 96 12 40
    "$DTRAIN" inspect "$WORK/tokens.h5" >"$WORK/inspect.txt"
    grep -q "x  int32 \[96, 12\]  token ids" "$WORK/inspect.txt" || fail "inspect: $(cat "$WORK/inspect.txt")"
    grep -q "y  int64 \[96, 12\] class ids (one per token)" "$WORK/inspect.txt" || fail "inspect: $(cat "$WORK/inspect.txt")"
    run_ranks "$n" run train "$CONFIG" --set data.file="$WORK/tokens.h5" --run-dir "$WORK/run" --threads 1
    every_rank_exited 0 run "$n"
    grep -q "loss" "$WORK/run/history.csv" || fail "no history: $(cat "$WORK/run.err")"
    [ "$(wc -l <"$WORK/run/history.csv")" = 2 ] || fail "expected one epoch: $(cat "$WORK/run/history.csv")"
    ls "$WORK"/run/ckpt-*.h5 >/dev/null || fail "no checkpoint"
    ;;
  bad_id_1 | bad_id_2)
    n=${CASE#bad_id_}
    "$MAKE" "$WORK/tokens.h5" 96 12 40 70 40  # row 70 (rank 1's stripe on 2 ranks), id 40 = input_dim
    run_ranks "$n" run train "$CONFIG" --set data.file="$WORK/tokens.h5" --run-dir "$WORK/run" --threads 1
    every_rank_exited 2 run "$n"
    [ "$(grep -c . "$WORK/run.err")" = 1 ] || fail "expected one line: $(cat "$WORK/run.err")"
    grep -q "^dtrain: error: Embedding 'tok': $WORK/tokens.h5 /train/x row 70 (column 1): token id 40 outside \[0, 40)$" \
      "$WORK/run.err" || fail "message: $(cat "$WORK/run.err")"
    [ ! -e "$WORK/run/history.csv" ] || fail "training started"
    ;;
  *) fail "unknown case $CASE" ;;
esac
echo "ok $CASE"
