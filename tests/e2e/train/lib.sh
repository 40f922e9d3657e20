# Shared helpers of the dtrain train end-to-end tests (sourced).
#   DTRAIN, DATA and CONFIG are set by the caller (ctest passes them).
set -euo pipefail
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d /tmp/dtrain-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# train RUN_DIR [args...]: 1-rank training of the tiny config; output in RUN_DIR.log
train() {
  local dir=$1; shift
  "$DTRAIN" train "$CONFIG" --set data.file="$DATA" --run-dir "$dir" --threads 1 "$@" >"$dir.log" 2>&1
}

# mpitrain N RUN_DIR [args...]
mpitrain() {
  local n=$1 dir=$2; shift 2
  mpiexec -n "$n" --oversubscribe "$DTRAIN" train "$CONFIG" --set data.file="$DATA" --run-dir "$dir" --threads 1 "$@" \
    >"$dir.log" 2>&1
}

# newest DIR: the newest checkpoint file
newest() { ls "$1"/ckpt-*.h5 | sort | tail -1; }

# same_weights A.h5 B.h5: bitwise equal weights (h5diff compares exactly without -d/-p)
same_weights() {
  h5diff -q "$1" "$2" /model/weights || fail "weights differ: $1 vs $2"
}

# run_ranks N NAME ARGS...: dtrain ARGS on N ranks (N=1: no mpiexec); each rank's
# exit code in $WORK/NAME.rc.<rank>, standard error in $WORK/NAME.err. -q keeps
# mpiexec's banners out. Each rank waits (up to 10 s) until every rank has written
# its code before it exits: mpiexec ends the others as soon as one exits non-zero.
run_ranks() {
  local n=$1 name=$2
  shift 2
  rm -f "$WORK/$name".rc.*
  set +e
  if [ "$n" = 1 ]; then
    "$DTRAIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    echo $? >"$WORK/$name.rc.0"
  else
    mpiexec -q -n "$n" --oversubscribe sh -c \
      '"$0" "$@"; rc=$?; echo $rc >"'"$WORK/$name"'.rc.$OMPI_COMM_WORLD_RANK"; i=0
       while [ "$(ls "'"$WORK/$name"'".rc.* | wc -l)" -lt '"$n"' ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
       exit $rc' \
      "$DTRAIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  fi
  set -e
}

# every_rank_exited CODE NAME N: each of the N ranks of run_ranks' run NAME exited CODE
every_rank_exited() {
  local code=$1 name=$2 n=$3 r
  for ((r = 0; r < n; r++)); do
    [ "$(cat "$WORK/$name.rc.$r" 2>/dev/null)" = "$code" ] ||
      fail "$name: rank $r exited '$(cat "$WORK/$name.rc.$r" 2>/dev/null)', expected $code: $(cat "$WORK/$name.err")"
  done
}
