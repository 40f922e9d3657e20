#!/usr/bin/env bash
# The run directory keeps every run's work (issue 20, items 1-4):
#   run_dir_test.sh DTRAIN DATA CONFIG CASE
# CASE:
#   lock_concurrent   10 pairs of runs started together on one new run directory:
#                     one exits 0 with the weights of a lone run, the other exits 2
#                     in < 2 s with one line naming the holder; + a 2-rank refusal
#   lock_kill9        kill -9 while the lock is held, then --resume auto takes the
#                     stale lock over and ends bitwise equal to an uninterrupted run
#   existing_refused  no --resume where checkpoints are: exit 2, one line (newest
#                     checkpoint, step, date, --resume auto, --fresh), no file
#                     changed; --fresh moves them to previous-*/ and trains
#   nothing_readable  --resume auto with every checkpoint damaged: exit 2, no file
#                     changed; with --fresh they go to previous-*/ and it trains
#   corrupt_kept      a checkpoint failing its checksum is moved to corrupt/ by
#                     retention, not deleted; resume still bitwise
#   history_rewritten a resume from a checkpoint older than history.csv's last row
#                     leaves exactly the uninterrupted run's rows
DTRAIN=$1 DATA=$2 CONFIG=$3
source "$(dirname "$0")/lib.sh"
case=$4

# state DIR: every file under DIR with its checksum (to prove nothing changed)
state() { (cd "$1" && find . -type f ! -name '*.log' -print0 | sort -z | xargs -0 -r md5sum); }
# one_error LOG: the log's error lines, which must be exactly one
one_error() {
  local n; n=$(grep -c 'dtrain: error' "$1" || true)
  [ "$n" -eq 1 ] || fail "expected one error line, got $n: $(cat "$1")"
  grep 'dtrain: error' "$1"
}
# flip_weight FILE: damage one byte of the first Dense kernel's data (header intact)
flip_weight() {
  local ds offset
  ds=$(h5ls -r "$1"/model/weights | awk '/kernel/ {print $1; exit}')
  offset=$(h5dump -p -H -d "/model/weights$ds" "$1" | awk '/OFFSET/ {print $2; exit}')
  [ -n "$offset" ] || fail "no offset of $ds in $1"
  printf '\xff\xff\xff\xff' | dd of="$1" bs=1 seek=$((offset + 16)) conv=notrunc status=none
}

case $case in
lock_concurrent)
  train "$WORK/lone" --set fit.epochs=1 || fail "lone run: $(cat "$WORK/lone.log")"
  lone=$(newest "$WORK/lone")
  for i in $(seq 1 10); do
    d="$WORK/pair$i"
    for who in a b; do
      ( s=$(date +%s%N)
        set +e; "$DTRAIN" train "$CONFIG" --set data.file="$DATA" --run-dir "$d" --threads 1 --set fit.epochs=1 \
          >"$d.$who.log" 2>&1; rc=$?
        echo "$rc $(( ($(date +%s%N) - s) / 1000000 ))" >"$d.$who.rc" ) &
    done
    wait
    read -r rc_a ms_a <"$d.a.rc"; read -r rc_b ms_b <"$d.b.rc"
    if [ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 2 ]; then loser=b ms=$ms_b
    elif [ "$rc_b" -eq 0 ] && [ "$rc_a" -eq 2 ]; then loser=a ms=$ms_a
    else fail "pair $i: exit codes $rc_a and $rc_b: $(cat "$d.a.log" "$d.b.log")"; fi
    [ "$ms" -lt 2000 ] || fail "pair $i: the refusal took $ms ms"
    line=$(one_error "$d.$loser.log")
    echo "$line" | grep -q "^dtrain: error: run directory $d is in use by host $(hostname) pid [0-9]* since 20" \
      || fail "pair $i: not the holder: $line"
    [ "$(wc -l <"$d.$loser.log")" -eq 1 ] || fail "pair $i: more than one line: $(cat "$d.$loser.log")"
    same_weights "$lone" "$(newest "$d")"
    [ ! -e "$d/dtrain.lock" ] || fail "pair $i: lock left behind"
  done
  # 2 ranks against a held lock: every rank exits 2, one line.
  mkdir -p "$WORK/held"
  printf 'host=%s\npid=%s\njob_id=\nstarted=2026-01-01T00:00:00Z\n' "$(hostname)" $$ >"$WORK/held/dtrain.lock"
  run_ranks 2 held train "$CONFIG" --set data.file="$DATA" --run-dir "$WORK/held" --threads 1
  every_rank_exited 2 held 2
  [ "$(wc -l <"$WORK/held.err")" -eq 1 ] || fail "2 ranks: not one line: $(cat "$WORK/held.err")"
  one_error "$WORK/held.err" | grep -q "is in use by host $(hostname) pid $$ since 2026-01-01" \
    || fail "2 ranks: $(cat "$WORK/held.err")"
  ;;
lock_kill9)
  train "$WORK/straight" || fail "straight run: $(cat "$WORK/straight.log")"
  "$DTRAIN" train "$CONFIG" --set data.file="$DATA" --run-dir "$WORK/r" --threads 1 >"$WORK/r.first.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do [ -e "$WORK/r/ckpt-000100.h5" ] && break; sleep 0.05; done
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true
  grep -q "^pid=$pid$" "$WORK/r/dtrain.lock" || fail "no lock of the killed run: $(cat "$WORK/r/dtrain.lock")"
  train "$WORK/r" --resume auto || fail "resume: $(cat "$WORK/r.log")"
  grep -q "warning: took over the stale lock of run directory $WORK/r held by host $(hostname) pid $pid" "$WORK/r.log" \
    || fail "no stale-lock warning: $(head -3 "$WORK/r.log")"
  grep -q "Resuming from" "$WORK/r.log" || fail "did not resume"
  same_weights "$(newest "$WORK/straight")" "$(newest "$WORK/r")"
  [ ! -e "$WORK/r/dtrain.lock" ] || fail "lock left behind"
  ;;
existing_refused)
  train "$WORK/straight" || fail "straight run: $(cat "$WORK/straight.log")"
  train "$WORK/r" --set fit.epochs=1 || fail "first run"
  before=$(state "$WORK/r")
  old=$(basename "$(newest "$WORK/r")")
  for n in 1 2; do
    run_ranks $n refused$n train "$CONFIG" --set data.file="$DATA" --run-dir "$WORK/r" --threads 1
    every_rank_exited 2 refused$n $n
    [ "$(wc -l <"$WORK/refused$n.err")" -eq 1 ] || fail "not one line: $(cat "$WORK/refused$n.err")"
    line=$(one_error "$WORK/refused$n.err")
    echo "$line" | grep -q "already holds a run: $old (step 215, written 20[0-9-]*T[0-9:]*Z)" || fail "$line"
    echo "$line" | grep -q -- "--resume auto" || fail "no --resume auto: $line"
    echo "$line" | grep -q -- "--fresh" || fail "no --fresh: $line"
    [ "$(state "$WORK/r")" = "$before" ] || fail "$n rank(s): files changed"
  done
  train "$WORK/r" --fresh || fail "--fresh: $(cat "$WORK/r.log")"
  prev=$(ls -d "$WORK"/r/previous-*)
  [ "$(state "$prev")" = "$before" ] || fail "the earlier run was not moved aside whole: $(ls -R "$WORK/r")"
  grep -q "Moved the earlier run's files to $prev/" "$WORK/r.log" || fail "not said: $(head -3 "$WORK/r.log")"
  same_weights "$(newest "$WORK/straight")" "$(newest "$WORK/r")"
  [ "$(wc -l <"$WORK/r/history.csv")" -eq 4 ] || fail "history.csv: $(cat "$WORK/r/history.csv")"
  ;;
nothing_readable)
  train "$WORK/straight" || fail "straight run: $(cat "$WORK/straight.log")"
  set +e; train "$WORK/r" --stop-after-steps 100; set -e
  for f in "$WORK"/r/ckpt-*.h5; do truncate -s 2000 "$f"; done
  before=$(state "$WORK/r")
  set +e; train "$WORK/r" --resume auto; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "expected exit 2, got $rc: $(cat "$WORK/r.log")"
  one_error "$WORK/r.log" | grep -q "no checkpoint in $WORK/r loads and verifies (ckpt-000100.h5: .*ckpt-000050.h5: .*--fresh" \
    || fail "$(cat "$WORK/r.log")"
  [ "$(state "$WORK/r")" = "$before" ] || fail "files changed"
  train "$WORK/r" --resume auto --fresh || fail "--fresh: $(cat "$WORK/r.log")"
  prev=$(ls -d "$WORK"/r/previous-*)
  [ "$(state "$prev")" = "$before" ] || fail "the damaged run was not moved aside whole"
  same_weights "$(newest "$WORK/straight")" "$(newest "$WORK/r")"
  ;;
corrupt_kept)
  train "$WORK/straight" || fail "straight run: $(cat "$WORK/straight.log")"
  set +e; train "$WORK/r" --stop-after-steps 300; set -e
  oldest=$(ls "$WORK"/r/ckpt-*.h5 | sort | head -1)
  flip_weight "$oldest"
  sum=$(md5sum <"$oldest")
  train "$WORK/r" --resume auto || fail "resume: $(cat "$WORK/r.log")"
  kept="$WORK/r/corrupt/$(basename "$oldest")"
  [ -f "$kept" ] && [ "$(md5sum <"$kept")" = "$sum" ] || fail "not kept in corrupt/: $(ls -R "$WORK/r")"
  grep -q "warning: checkpoint $oldest failed to verify (.*checksum.*): moved to $kept" "$WORK/r.log" \
    || fail "not said: $(grep warning "$WORK/r.log")"
  same_weights "$(newest "$WORK/straight")" "$(newest "$WORK/r")"
  ;;
history_rewritten)
  train "$WORK/straight" || fail "straight run: $(cat "$WORK/straight.log")"
  cp -r "$WORK/straight" "$WORK/r"
  final=$(newest "$WORK/r")
  truncate -s 3000 "$final"  # the end-of-run checkpoint is damaged: resume from the one before
  [ "$(wc -l <"$WORK/r/history.csv")" -eq 4 ] || fail "setup"
  train "$WORK/r" --resume auto || fail "resume: $(cat "$WORK/r.log")"
  grep -q "Resuming from .*ckpt-000600.h5" "$WORK/r.log" || fail "$(grep -i resum "$WORK/r.log")"
  [ -f "$WORK/r/corrupt/$(basename "$final")" ] || fail "the damaged checkpoint was not kept"
  # Identical to the uninterrupted run's but the time column.
  diff <(sed 's/,[^,]*$//' "$WORK/straight/history.csv") <(sed 's/,[^,]*$//' "$WORK/r/history.csv") \
    || fail "history.csv differs: $(cat "$WORK/r/history.csv")"
  [ "$(head -1 "$WORK/r/history.csv")" = "$(head -1 "$WORK/straight/history.csv")" ] || fail "header"
  ls "$WORK"/r/history.csv.* 2>/dev/null && fail "temporary left"
  same_weights "$(newest "$WORK/straight")" "$(newest "$WORK/r")"
  ;;
*) fail "unknown case $case" ;;
esac
echo "PASS $case"
