#!/usr/bin/env bash
# End-to-end tests of `dtrain data ...` and `dtrain inspect` (registered in
# tests/e2e/CMakeLists.txt, one ctest per case):
#   cli_data_test.sh /path/to/dtrain CASE
# Each bad-input case checks the exit code (2), that stderr is exactly one line
# naming the file (and line/row), and that no output file (or temporary) appeared.
set -u
DTRAIN=$1
CASE=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dtrain-e2e-data.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL [$CASE]: $*" >&2; exit 1; }

# run_expect CODE CMD...: runs, keeps stdout/stderr in out.txt/err.txt, checks the code.
run_expect() {
  local want=$1; shift
  "$@" >out.txt 2>err.txt
  local got=$?
  [ "$got" -eq "$want" ] || { cat out.txt err.txt >&2; fail "exit $got, expected $want: $*"; }
}
# one_line_error TEXT...: stderr is one line holding every TEXT.
one_line_error() {
  [ "$(wc -l < err.txt)" -eq 1 ] || { cat err.txt >&2; fail "stderr is not one line"; }
  for t in "$@"; do grep -qF -- "$t" err.txt || { cat err.txt >&2; fail "stderr lacks '$t'"; }; done
}
no_output() {
  [ ! -e out.h5 ] || fail "out.h5 was written"
  ! ls -A | grep -q '\.tmp\.' || fail "a temporary file was left: $(ls -A)"
}

# Tiny IDX files: 6 images of 2x2 bytes, labels 0..2 (printf writes the bytes).
make_idx() {
  printf '\x00\x00\x08\x03\x00\x00\x00\x06\x00\x00\x00\x02\x00\x00\x00\x02' > img
  printf '\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\xff' >> img
  printf '\x00\x00\x08\x01\x00\x00\x00\x06\x00\x01\x02\x00\x01\x02' > lab
  gzip -k img lab
}

make_csv() {
  {
    echo "f1,f2,label"
    for i in $(seq 0 39); do echo "$i.5,$((i * 2)),$((i % 4))"; done
  } > in.csv
}

case "$CASE" in
  help)
    for sub in "data" "data import-idx" "data import-csv" "data split" "inspect"; do
      # shellcheck disable=SC2086
      run_expect 0 "$DTRAIN" $sub --help
      grep -q "Usage" out.txt || fail "no usage text for '$sub --help'"
    done
    ;;
  idx_roundtrip)
    make_idx
    run_expect 0 "$DTRAIN" data import-idx --images img.gz --labels lab.gz --test-images img --test-labels lab -o out.h5
    grep -qF "wrote out.h5: /train 6 /test 6 rows of [2, 2, 1] uint8, 3 classes" out.txt || fail "$(cat out.txt)"
    run_expect 0 "$DTRAIN" inspect out.h5
    grep -qF "classes: 0:2 1:2 2:2" out.txt || fail "no histogram: $(cat out.txt)"
    grep -qF "x  uint8 [6, 2, 2, 1]" out.txt || fail "no x shape: $(cat out.txt)"
    grep -qF "check: ok" out.txt || fail "no check line"
    ;;
  csv_split_inspect)
    make_csv
    run_expect 0 "$DTRAIN" data import-csv in.csv --label-column label -o all.h5
    run_expect 0 "$DTRAIN" data split all.h5 -o out.h5 --test-fraction 0.25 --val-fraction 0.1 --seed 7 --stratify
    grep -qF "/train 26 /val 4 /test 10 rows" out.txt || fail "$(cat out.txt)"
    run_expect 0 "$DTRAIN" inspect out.h5
    # 10 test rows over 4 classes of 10: 2.5 each -> 3, 3, 2, 2 (largest remainder, ties to class order).
    grep -qF "classes: 0:3 1:3 2:2 3:2" out.txt || fail "$(cat out.txt)"
    grep -qF "split: seed 7, test_fraction 0.25, val_fraction 0.1, stratified" out.txt || fail "$(cat out.txt)"
    ;;
  csv_ragged)
    printf 'a,b,label\n1,2,0\n3,4\n' > in.csv
    run_expect 2 "$DTRAIN" data import-csv in.csv --label-column label -o out.h5
    one_line_error "in.csv line 3: 2 fields, expected 3"
    no_output
    ;;
  csv_not_numeric)
    printf 'a,b,label\n1,2,0\n3,four,1\n' > in.csv
    run_expect 2 "$DTRAIN" data import-csv in.csv --label-column label -o out.h5
    one_line_error "in.csv line 3, column 2 (b): 'four' is not a number"
    no_output
    ;;
  idx_missing)
    make_idx
    run_expect 2 "$DTRAIN" data import-idx --images nothere.gz --labels lab -o out.h5
    one_line_error "nothere.gz: no such file"
    no_output
    ;;
  idx_truncated)
    make_idx
    head -c 20 img > short
    run_expect 2 "$DTRAIN" data import-idx --images short --labels lab -o out.h5
    one_line_error "short: truncated"
    no_output
    ;;
  inspect_bad_files)
    echo "just text" > notes.h5
    run_expect 2 "$DTRAIN" inspect notes.h5
    one_line_error "notes.h5: not an HDF5 file"
    run_expect 2 "$DTRAIN" inspect missing.h5
    one_line_error "missing.h5: no such file"
    make_csv
    run_expect 0 "$DTRAIN" data import-csv in.csv --label-column label -o good.h5
    head -c 3000 good.h5 > cut.h5
    run_expect 2 "$DTRAIN" inspect cut.h5
    one_line_error "cut.h5: cannot open HDF5 file (truncated or damaged"
    ;;
  split_bad)
    make_csv
    run_expect 0 "$DTRAIN" data import-csv in.csv --label-column label -o all.h5
    run_expect 2 "$DTRAIN" data split all.h5 -o out.h5 --test-fraction 0.7 --val-fraction 0.4 --seed 1
    one_line_error "leave no training rows"
    no_output
    run_expect 0 "$DTRAIN" data import-csv in.csv --label-column label --regression -o reg.h5
    run_expect 2 "$DTRAIN" data split reg.h5 -o out.h5 --test-fraction 0.2 --seed 1 --stratify
    one_line_error "--stratify needs class ids"
    no_output
    ;;
  output_exists)
    make_csv
    echo "keep me" > out.h5
    run_expect 2 "$DTRAIN" data import-csv in.csv --label-column label -o out.h5
    one_line_error "out.h5: output exists (use --force to overwrite)"
    [ "$(cat out.h5)" = "keep me" ] || fail "out.h5 was changed"
    run_expect 0 "$DTRAIN" data import-csv in.csv --label-column label -o out.h5 --force
    run_expect 0 "$DTRAIN" inspect out.h5
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "ok [$CASE]"
