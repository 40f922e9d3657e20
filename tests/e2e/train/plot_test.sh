#!/usr/bin/env bash
# jobs/plot_history.sh draws a real history.csv as a PNG.
#   plot_test.sh DTRAIN DATA CONFIG PLOT_SCRIPT
DTRAIN=$1 DATA=$2 CONFIG=$3 PLOT=$4
source "$(dirname "$0")/lib.sh"
train "$WORK/run" --set fit.epochs=2 || fail "training: $(cat "$WORK/run.log")"
[ "$(wc -l <"$WORK/run/history.csv")" -eq 3 ] || fail "history.csv: $(cat "$WORK/run/history.csv")"
head -1 "$WORK/run/history.csv" | grep -q "^epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,time$" ||
  fail "history.csv header: $(head -1 "$WORK/run/history.csv")"
bash "$PLOT" "$WORK/run" || fail "plot_history.sh failed"
png="$WORK/run/history.png"
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "not a PNG"
[ "$(stat -c %s "$png")" -gt 5000 ] || fail "PNG too small: $(stat -c %s "$png") bytes"
echo PASS
