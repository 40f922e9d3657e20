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
# Every rank's exit code is checked (run_ranks, lib.sh).
expect_cli_error() {
  local name=$1 pattern=$2 ranks=$3
  shift 3
  run_ranks "$ranks" "$name" "$@"
  every_rank_exited 2 "$name" "$ranks"
  [ "$(grep -c 'dtrain: error' "$WORK/$name.err")" -eq 1 ] || fail "$name: not one error line: $(cat "$WORK/$name.err")"
  [ "$(wc -l <"$WORK/$name.err")" -eq 1 ] || fail "$name: more than the line: $(cat "$WORK/$name.err")"
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
# Checks of the config against the data file, the compiled model and the rank
# count (src/cli/run_checks.cpp), before training: 1 and 2 ranks.
base | sed 's/- Dense: {units: 10}/- Dense: {units: 5}/' >"$WORK/units.yaml"
base | sed 's/loss: sparse_categorical_crossentropy/loss: mse/; /from_logits/d; s/metrics: \[accuracy\]/metrics: []/' >"$WORK/mse_ids.yaml"
base | sed '/validation: val/d; s/^fit:/fit:\n  callbacks: [{EarlyStopping: {patience: 2}}]/' >"$WORK/monitor.yaml"
for ranks in 1 2; do
  expect_cli_error "units_$ranks" \
    "^dtrain: error: .*units.yaml: the output layer 'dense_1' \(Dense, output \[5\]\) does not fit $DATA /train/y, which holds class ids \(\[[0-9]+\], 10 classes\): sparse_categorical_crossentropy needs an output \[10\]" \
    "$ranks" train "$WORK/units.yaml" --run-dir "$WORK/run-units_$ranks"
  expect_cli_error "mse_ids_$ranks" "^dtrain: error: .*mse_ids.yaml: the output layer 'dense_1' \(Dense, output \[10\]\) does not fit $DATA /train/y.*mean_squared_error compares the output with a label of the same shape" \
    "$ranks" train "$WORK/mse_ids.yaml" --run-dir "$WORK/run-mse_ids_$ranks"
  expect_cli_error "monitor_$ranks" "^dtrain: error: .*monitor.yaml:[0-9]+: fit.callbacks\[0\].EarlyStopping.monitor: 'val_loss' \(the default\) is not a figure this run logs \(it logs loss, accuracy, learning_rate\); val_ figures need data.validation" \
    "$ranks" train "$WORK/monitor.yaml" --run-dir "$WORK/run-monitor_$ranks"
done
expect_cli_error checkpoint_monitor "^dtrain: error: --set checkpoint.monitor=val_acc: checkpoint.monitor: 'val_acc' is not a figure this run logs" \
  1 train "$WORK/good.yaml" --run-dir "$WORK/run-checkpoint_monitor" --set checkpoint.monitor=val_acc
expect_cli_error categorical_ids "^dtrain: error: --set compile.loss=categorical_crossentropy: compile.loss: categorical_crossentropy needs one-hot float targets" \
  1 train "$WORK/good.yaml" --run-dir "$WORK/run-categorical_ids" --set compile.loss=categorical_crossentropy
expect_cli_error fail_rank_1 "^dtrain: error: --fail-rank 1: must be less than the number of ranks \(1\)" 1 \
  train "$WORK/good.yaml" --run-dir "$WORK/run-fail_rank_1" --fail-rank 1 --fail-at-step 2
expect_cli_error fail_rank_2 "^dtrain: error: --fail-rank 2: must be less than the number of ranks \(2\)" 2 \
  train "$WORK/good.yaml" --run-dir "$WORK/run-fail_rank_2" --fail-rank 2 --fail-at-step 2

# Float targets [N, 2] (a regression file made here).
printf 'a,b,t1,t2\n' >"$WORK/reg.csv"
for i in 1 2 3 4 5 6 7 8; do printf '%s,%s,0.%s,1.%s\n' "$i" "$((i + 1))" "$i" "$i" >>"$WORK/reg.csv"; done
"$DTRAIN" data import-csv "$WORK/reg.csv" --label-column t1 --label-column t2 --regression -o "$WORK/reg_all.h5" >/dev/null
"$DTRAIN" data split "$WORK/reg_all.h5" -o "$WORK/reg.h5" --test-fraction 0.25 --seed 1 >/dev/null
printf 'data: {file: %s, batch_size: 2}\nmodel:\n  layers:\n    - Dense: {units: 3}\ncompile: {loss: mse}\nfit: {epochs: 1}\n' \
  "$WORK/reg.h5" >"$WORK/reg.yaml"
for ranks in 1 2; do
  expect_cli_error "targets_$ranks" "^dtrain: error: .*reg.yaml: the output layer 'dense' \(Dense, output \[3\]\) does not fit $WORK/reg.h5 /train/y, which holds float targets \(\[6, 2\]\): mean_squared_error needs an output \[2\]" \
    "$ranks" train "$WORK/reg.yaml" --run-dir "$WORK/run-targets_$ranks"
  expect_cli_error "sparse_floats_$ranks" "^dtrain: error: --set compile.loss=sparse_categorical_crossentropy: compile.loss: sparse_categorical_crossentropy needs integer class ids, but $WORK/reg.h5 /train/y holds float targets" \
    "$ranks" train "$WORK/reg.yaml" --run-dir "$WORK/run-sparse_floats_$ranks" --set compile.loss=sparse_categorical_crossentropy --set model.layers='[{Dense: {units: 2}}]'
done
# A label out of the model's classes names the file, the dataset and the row of
# the file (not the row within the batch): dtrain evaluate of a 3-class model on
# a file whose /train/y holds one label 4. With 2 ranks and batches of 4, that
# row may be row 0 of rank 1's part of its batch. On 2 ranks evaluate ends
# through MPI_Abort (the other rank is ended by it): mpiexec's code is checked.
printf 'a,b,label\n' >"$WORK/cls3.csv"
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do echo "$i,$((2 * i)),$((i % 3))" >>"$WORK/cls3.csv"; done
{ cat "$WORK/cls3.csv"; echo "5,5,4"; echo "9,9,0"; } >"$WORK/cls5.csv"
for n in 3 5; do
  "$DTRAIN" data import-csv "$WORK/cls$n.csv" --label-column label -o "$WORK/cls${n}_all.h5" >/dev/null
  "$DTRAIN" data split "$WORK/cls${n}_all.h5" -o "$WORK/cls$n.h5" --test-fraction 0.5 --seed 2 >/dev/null
done
printf 'data: {file: %s, batch_size: 3}\nmodel: {layers: [{Dense: {units: 3}}]}\ncompile: {loss: sparse_categorical_crossentropy, from_logits: true}\n' \
  "$WORK/cls3.h5" >"$WORK/cls.yaml"
"$DTRAIN" train "$WORK/cls.yaml" --run-dir "$WORK/cls-run" >"$WORK/cls-run.log" 2>&1 || fail "cls training: $(cat "$WORK/cls-run.log")"
labels=$(h5dump -d /train/y -y -w 0 "$WORK/cls5.h5" | sed -n '/DATA {/,/}/p' | tr -cd '0-9,' | tr ',' '\n')
row=$(($(grep -n "^4$" <<<"$labels" | head -1 | cut -d: -f1) - 1))
value=$(sed -n "$((row + 1))p" <<<"$labels")
for ranks in 1 2; do
  set +e
  launch=()
  [ "$ranks" = 1 ] || launch=(mpiexec -q -n "$ranks" --oversubscribe)
  "${launch[@]}" "$DTRAIN" evaluate "$WORK"/cls-run/ckpt-*.h5 --data "$WORK/cls5.h5" --split train \
    --batch-size 4 >"$WORK/label_$ranks.out" 2>"$WORK/label_$ranks.err"
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "label_$ranks: exit $rc, expected 2: $(cat "$WORK/label_$ranks.err")"
  [ "$(wc -l <"$WORK/label_$ranks.err")" -eq 1 ] || fail "label_$ranks: not one line: $(cat "$WORK/label_$ranks.err")"
  grep -qE "^dtrain: error( \(rank [01]\))?: sparse_categorical_crossentropy: label $value at $WORK/cls5.h5 /train/y row $row is not a class id in \[0, 3\)" \
    "$WORK/label_$ranks.err" || fail "label_$ranks: $(grep 'dtrain: error' "$WORK/label_$ranks.err") (expected label $value at row $row)"
  echo "ok label_$ranks: $(grep 'dtrain: error' "$WORK/label_$ranks.err")"
done
expect_cli_error typo_2_ranks "did you mean 'train'" 2 trian "$WORK/unknown_key.yaml"
"$DTRAIN" --help >/dev/null || fail "--help exited $?"
"$DTRAIN" train --help >"$WORK/help.txt" || fail "train --help exited $?"
# --help states the exit codes these tests check (docs/exit-codes.md)
grep -q "0 done; 1 a run-time failure .*; 2 anything given that is wrong .*; 3 stopped after a checkpoint" "$WORK/help.txt" ||
  fail "train --help does not state the exit codes: $(tail -3 "$WORK/help.txt")"
"$DTRAIN" --version >/dev/null || fail "--version exited $?"
