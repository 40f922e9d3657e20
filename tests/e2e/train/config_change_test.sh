#!/usr/bin/env bash
# Issue 20 items 5-6: a resume under a changed config is refused (exit 2 on every
# rank, one line listing each changed key with both values, no file changed)
# unless --allow-change names the key; fit.epochs may always grow; an allowed
# learning rate is applied and printed; the optimizer's type never changes.
#   config_change_test.sh DTRAIN DATA CONFIG CASE
# CASE: refused | refused_2_ranks | allowed | learning_rate | schedule | structural
DTRAIN=$1 DATA=$2 CONFIG=$3
source "$(dirname "$0")/lib.sh"
case=$4

state() { (cd "$1" && find . -type f -exec md5sum {} + | sort -k2); }

# expect_refused PATTERN RANKS [args...]: a resume of $WORK/r that must refuse on
# every rank with exit 2 and one line, changing no file
expect_refused() {
  local pattern=$1 ranks=$2 before
  shift 2
  before=$(state "$WORK/r")
  run_ranks "$ranks" refused train "$CONFIG" --set data.file="$DATA" --run-dir "$WORK/r" --threads 1 --resume auto "$@"
  every_rank_exited 2 refused "$ranks"
  [ "$(wc -l <"$WORK/refused.err")" -eq 1 ] || fail "expected one line, got: $(cat "$WORK/refused.err")"
  grep -qE "$pattern" "$WORK/refused.err" || fail "'$(cat "$WORK/refused.err")' does not match '$pattern'"
  [ "$(state "$WORK/r")" = "$before" ] || fail "the run directory changed"
  echo "ok ($ranks rank(s)): $(cat "$WORK/refused.err")"
}

train "$WORK/r" --set fit.epochs=1 || fail "first run: $(cat "$WORK/r.log")"

case $case in
refused)
  # The issue's examples: batch size (the data position would be reinterpreted),
  # activation, seed; every key with both values, a --set value named as such.
  sed 's/activation: relu/activation: tanh/; s/^seed: 3/seed: 4/' "$CONFIG" >"$WORK/changed.yaml"
  CONFIG=$WORK/changed.yaml expect_refused \
    "dtrain: error: the config differs from the one ckpt-000215.h5 was trained with: data.batch_size: 256 \(checkpoint\) → 128 \(--set data.batch_size=128\); model.layers\[1\].activation: relu \(checkpoint\) → tanh \(config\); seed: 3 \(checkpoint\) → 4 \(config\); resume with --allow-change KEY" \
    1 --set data.batch_size=128
  # An added Dropout: the layers after it change type.
  sed 's/    - Dense: {units: 10}/    - Dropout: {rate: 0.2}\n    - Dense: {units: 10}/' "$CONFIG" >"$WORK/dropout.yaml"
  CONFIG=$WORK/dropout.yaml expect_refused "cannot resume from ckpt-000215.h5 with another optimizer or layer type: .*model.layers\[3\].type: Dense \(checkpoint\) → Dropout" 1
  # Allowing one key is not allowing the others.
  CONFIG=$WORK/changed.yaml expect_refused "the config differs .*: model.layers\[1\].activation: relu .*seed: 3 \(checkpoint\) → 4" \
    1 --set data.batch_size=128 --allow-change data.batch_size
  ;;
refused_2_ranks)
  expect_refused "the config differs .*: data.batch_size: 256 \(checkpoint\) → 512 \(--set data.batch_size=512\)" \
    2 --set data.batch_size=512
  ;;
allowed)
  # fit.epochs grows without a flag; an allowed key is accepted and printed.
  train "$WORK/r" --resume auto --set fit.epochs=2 --set data.batch_size=128 --allow-change data.batch_size ||
    fail "resume: $(cat "$WORK/r.log")"
  grep -q "Config changed since the checkpoint (allowed): data.batch_size: 256 (checkpoint) → 128 (config)" "$WORK/r.log" ||
    fail "no line for the batch size: $(head -5 "$WORK/r.log")"
  grep -q "Config changed since the checkpoint (allowed): fit.epochs: 1 (checkpoint) → 2 (config)" "$WORK/r.log" ||
    fail "no line for fit.epochs"
  grep -q "Resuming from .*ckpt-000215.h5" "$WORK/r.log" || fail "did not resume"
  # The new checkpoints record the new config: resuming again with it needs no flag.
  train "$WORK/r" --resume auto --set fit.epochs=3 --set data.batch_size=128 || fail "second resume: $(cat "$WORK/r.log")"
  ! grep -q "data.batch_size" "$WORK/r.log" || fail "the batch size was reported again"
  ;;
learning_rate)
  # Refused without the flag ...
  expect_refused "compile.optimizer.learning_rate: 0.001 \(checkpoint\) → 0.0005 \(--set compile.optimizer.learning_rate=0.0005\)" \
    1 --set compile.optimizer.learning_rate=0.0005
  # ... applied and printed with it: the saved rate is the new one, and the run
  # is bitwise the same as one that had that rate from this step on.
  train "$WORK/r" --resume auto --set fit.epochs=2 --set compile.optimizer.learning_rate=0.0005 \
    --allow-change compile.optimizer.learning_rate || fail "resume: $(cat "$WORK/r.log")"
  grep -q "learning_rate: 0.001 (checkpoint) → 0.0005 (config)" "$WORK/r.log" || fail "no learning-rate line: $(head -3 "$WORK/r.log")"
  rate=$(h5dump -a /optimizer/learning_rate "$(newest "$WORK/r")" | grep -oE '\(0\): [0-9.e-]+' | cut -d' ' -f2)
  [ "$rate" = "0.0005" ] || fail "the checkpoint's learning rate is $rate, expected 0.0005"
  echo "ok: learning rate $rate in $(newest "$WORK/r")"
  ;;
schedule)
  # A schedule in place of the constant rate: refused without the flag, naming
  # its keys; accepted with --allow-change compile.optimizer.learning_rate (a
  # prefix of every schedule key). The schedule runs on the optimizer's
  # iterations, which the checkpoint keeps: after epoch 2 (430 steps) the saved
  # rate is 0.002 * 0.5^(430/100).
  sched='compile.optimizer.learning_rate={schedule: ExponentialDecay, initial_learning_rate: 0.002, decay_steps: 100, decay_rate: 0.5}'
  expect_refused "compile.optimizer.learning_rate: 0.001 \(checkpoint\) → \(not set\) .*compile.optimizer.learning_rate.schedule: \(not set\) \(checkpoint\) → ExponentialDecay" \
    1 --set "$sched"
  train "$WORK/r" --resume auto --set fit.epochs=2 --set "$sched" --allow-change compile.optimizer.learning_rate ||
    fail "resume: $(cat "$WORK/r.log")"
  grep -q "compile.optimizer.learning_rate.schedule: (not set) (checkpoint) → ExponentialDecay (config)" "$WORK/r.log" ||
    fail "no line for the schedule: $(head -8 "$WORK/r.log")"
  rate=$(h5dump -m %.17g -a /optimizer/learning_rate "$(newest "$WORK/r")" | grep -oE '\(0\): [0-9.e-]+' | cut -d' ' -f2)
  python3 -c "import sys; r = float(sys.argv[1]); e = 0.002 * 0.5 ** 4.3; sys.exit(abs(r - e) > 1e-12 * e)" "$rate" ||
    fail "the checkpoint's learning rate is $rate, expected 0.002 * 0.5^4.3 (the schedule at iterations 430)"
  echo "ok: learning rate $rate in $(newest "$WORK/r")"
  ;;
structural)
  expect_refused "cannot resume from ckpt-000215.h5 with another optimizer or layer type: compile.optimizer.name: adam \(checkpoint\) → sgd" \
    1 --set compile.optimizer.name=sgd --allow-change compile.optimizer
  ;;
esac
echo PASS
