#!/usr/bin/env bash
# Config errors: one line naming the file, line and key; exit code 2; nothing
# written to the run directory.
#   config_errors_test.sh DTRAIN DATA CONFIG
DTRAIN=$1 DATA=$2 CONFIG=$3
source "$(dirname "$0")/lib.sh"

# expect_error NAME PATTERN: runs $WORK/NAME.yaml and checks the result
expect_error() {
  local name=$1 pattern=$2 rc
  set +e
  "$DTRAIN" train "$WORK/$name.yaml" --run-dir "$WORK/run-$name" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2"
  [ "$(wc -l <"$WORK/$name.err")" -eq 1 ] || fail "$name: expected one line, got: $(cat "$WORK/$name.err")"
  grep -qE -- "$pattern" "$WORK/$name.err" || fail "$name: '$(cat "$WORK/$name.err")' does not match '$pattern'"
  [ ! -e "$WORK/run-$name" ] || fail "$name: the run directory was created"
  echo "ok $name: $(cat "$WORK/$name.err")"
}

base() { sed "s|file: data/fashion-mnist.h5|file: $DATA|" "$CONFIG"; }

base | sed 's/^  batch_size: 256/  batch_size: 256\n  batchsize: 3/' >"$WORK/unknown_key.yaml"
expect_error unknown_key "unknown_key.yaml:[0-9]+: data.batchsize: unknown key"

base | sed 's/^  epochs: 3/  epochs: three/' >"$WORK/wrong_type.yaml"
expect_error wrong_type "wrong_type.yaml:[0-9]+: fit.epochs: must be an integer"

base | sed 's/- Dense: {units: 32, activation: relu}/- Dence: {units: 32}/' >"$WORK/unknown_layer.yaml"
expect_error unknown_layer "unknown_layer.yaml:[0-9]+: model.layers\[1\]: unknown layer type 'Dence'"

base | sed 's/{name: adam, /{name: adamm, /' >"$WORK/unknown_optimizer.yaml"
expect_error unknown_optimizer "unknown_optimizer.yaml:[0-9]+: compile.optimizer: .*adamm"

base | sed 's/activation: relu}/activation: relux}/' >"$WORK/unknown_activation.yaml"
expect_error unknown_activation "unknown_activation.yaml:[0-9]+: model.layers\[1\].*relux"

base | sed 's/^distributed:/distributed:\n  transport: infiniband/' >"$WORK/bad_transport.yaml"
expect_error bad_transport "bad_transport.yaml:[0-9]+: distributed.transport: must be auto, mpi or shared_memory, got 'infiniband'"

sed "s|file: data/fashion-mnist.h5|file: $WORK/missing.h5|" "$CONFIG" >"$WORK/missing_data.yaml"
expect_error missing_data "missing.h5"

# Issue 20: values refused before training, named by file:line and key, or by the --set.
base | sed 's/^  every_steps: 50/  every_steps: 0/' >"$WORK/every_steps_0.yaml"
expect_error every_steps_0 "every_steps_0.yaml:[0-9]+: checkpoint.every_steps: must be at least 1 \(leave it out"
base | sed 's/^distributed:/distributed:\n  stall_timeout: 0/' >"$WORK/stall_timeout_0.yaml"
expect_error stall_timeout_0 "stall_timeout_0.yaml:[0-9]+: distributed.stall_timeout: must be positive"
base | sed 's/^  verbose: 2/  verbose: 2\n  epochs: 5/' >"$WORK/duplicate_key.yaml"
lines=($(grep -n '^  epochs:' "$WORK/duplicate_key.yaml" | cut -d: -f1))
expect_error duplicate_key "duplicate_key.yaml:${lines[1]}: fit.epochs: given twice in one mapping \(also on line ${lines[0]}\)"
base | sed 's/^seed: 3/seed: 3\nthreads: -1/' >"$WORK/threads_negative.yaml"
expect_error threads_negative "threads_negative.yaml:4: threads: must be 0 \(the cores given to the rank\) or more"
echo PASS

# Command-line errors: exit 2 and one line, from rank 0 only (not CLI11's own
# codes 100-127), on 1 and 2 ranks; help and version exit 0.
expect_cli_error() {
  local name=$1 pattern=$2 ranks=$3 rc
  shift 3
  local launch=()
  [ "$ranks" = 1 ] || launch=(mpiexec -n "$ranks" --oversubscribe)
  set +e
  "${launch[@]}" "$DTRAIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2: $(cat "$WORK/$name.err")"
  [ "$(grep -c 'dtrain: error' "$WORK/$name.err")" -eq 1 ] || fail "$name: not one error line: $(cat "$WORK/$name.err")"
  [ "$ranks" != 1 ] || [ "$(wc -l <"$WORK/$name.err")" -eq 1 ] || fail "$name: more than the line: $(cat "$WORK/$name.err")"
  grep -qE -- "$pattern" "$WORK/$name.err" || fail "$name: '$(cat "$WORK/$name.err")' does not match '$pattern'"
  [ ! -e "$WORK/run-$name" ] || fail "$name: the run directory was created"
  echo "ok $name: $(head -1 "$WORK/$name.err")"
}
expect_cli_error typo "unknown command 'trian' \(did you mean 'train'\?\)" 1 trian "$WORK/unknown_key.yaml"
expect_cli_error no_command "A subcommand is required" 1
expect_cli_error missing_config "config is required" 1 train
expect_cli_error bad_number "Could not convert: --threads = abc" 1 train "$CONFIG" --threads abc
expect_cli_error missing_checkpoint "File does not exist: $WORK/none.h5" 1 evaluate "$WORK/none.h5" --data "$DATA"
# Ranges of command-line values (issue 20): refused before MPI starts.
run_args() { echo train "$WORK/unknown_key.yaml" --run-dir "$WORK/run-$1"; }
for ranks in 1 2; do
  expect_cli_error "threads_0_$ranks" "^dtrain: error: --threads: must be at least 1, got 0" "$ranks" \
    $(run_args "threads_0_$ranks") --threads 0
  expect_cli_error "stall_0_$ranks" "^dtrain: error: --stall-timeout: must be a positive number, got 0" "$ranks" \
    $(run_args "stall_0_$ranks") --stall-timeout 0
  expect_cli_error "stall_nan_$ranks" "--stall-timeout: must be a positive number, got nan" "$ranks" \
    $(run_args "stall_nan_$ranks") --stall-timeout nan
done
expect_cli_error stop_after_0 "--stop-after-steps: must be at least 1, got 0" 1 $(run_args stop_after_0) --stop-after-steps 0
expect_cli_error fail_rank_negative "--fail-rank: must be at least 0, got -1" 1 $(run_args fail_rank_negative) --fail-rank -1
expect_cli_error num_classes_0 "^dtrain: error: --num-classes: must be at least 1, got 0" 1 \
  data import-idx --images "$WORK/i.gz" --labels "$WORK/l.gz" -o "$WORK/run-num_classes_0" --num-classes 0
# A --set value is named as given, on 1 and 2 ranks.
base >"$WORK/good.yaml"
for ranks in 1 2; do
  expect_cli_error "set_empty_$ranks" "^dtrain: error: --set fit.epochs=: no value after '='" "$ranks" \
    train "$WORK/good.yaml" --run-dir "$WORK/run-set_empty_$ranks" --set fit.epochs=
  expect_cli_error "set_every_steps_$ranks" \
    "^dtrain: error: --set checkpoint.every_steps=0: checkpoint.every_steps: must be at least 1" "$ranks" \
    train "$WORK/good.yaml" --run-dir "$WORK/run-set_every_steps_$ranks" --set checkpoint.every_steps=0
done
expect_cli_error set_stall "^dtrain: error: --set distributed.stall_timeout=-3: distributed.stall_timeout: must be positive" 1 \
  train "$WORK/good.yaml" --run-dir "$WORK/run-set_stall" --set distributed.stall_timeout=-3
expect_cli_error typo_2_ranks "did you mean 'train'" 2 trian "$WORK/unknown_key.yaml"
"$DTRAIN" --help >/dev/null || fail "--help exited $?"
"$DTRAIN" train --help >/dev/null || fail "train --help exited $?"
"$DTRAIN" --version >/dev/null || fail "--version exited $?"
