#!/usr/bin/env bash
# Runs dist_failure_tool under mpiexec and checks how the whole job ends.
#
#   failure_test.sh MPIEXEC TOOL SCENARIO NP
#
# Scenarios:
#   clean       no fault: exit 0, no error line.
#   throw       the last rank throws mid-backward at step 3: every rank ends
#               (mpiexec exits 4) within 30 s, and "dtrain: error (rank R):
#               injected failure ..." appears exactly once.
#   stall-stop  the last rank SIGSTOPs itself mid-backward at step 3, stall
#               timeout 10 s: the job ends (exit 5) after >= 10 s and within
#               60 s, with one stall line naming step 3, the all-reduce and the
#               missing rank.
#   stall-root  the same with rank 0 sleeping forever: rank 1 (the deputy
#               watcher) names rank 0.
# These run with the gradients on MPI. shm-throw, shm-stall-stop and
# shm-stall-root are the same faults with the gradients in shared memory, where
# the waiting ranks read the missing rank straight from its flags.
# In every case each rank's pid must be gone once mpiexec returns.
set -u
mpiexec=$1 tool=$2 scenario=$3 np=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pids"

last=$((np - 1))
patterns=()
transport=mpi
case $scenario in shm-*) transport=shm; scenario=${scenario#shm-} ;; esac
case $scenario in
  clean) args=(--mode none); limit=30; want_rc=0; want_lines=0 ;;
  throw)
    args=(--mode throw --fault-rank "$last" --fault-step 3); limit=30; want_rc=4; want_lines=1
    patterns=("dtrain: error (rank $last): injected failure on rank $last at step 3") ;;
  stall-stop)
    args=(--mode stall --how stop --fault-rank "$last" --fault-step 3 --stall-timeout 10)
    limit=60; want_rc=5; want_lines=1
    patterns=("dtrain: error (rank 0): stall at step 3: " "did not complete within 10 s"
              "missing rank(s): $last (did not arrive at all-reduce of gradient bucket 5/5 at step 3)"
              "rank $last last arrived at all-reduce of gradient bucket 1/5 at step 3") ;;
  stall-root)
    args=(--mode stall --how sleep --fault-rank 0 --fault-step 3 --stall-timeout 10)
    limit=60; want_rc=5; want_lines=1
    patterns=("dtrain: error (rank 1): stall at step 3: " "did not complete within 10 s"
              "missing rank(s): 0 (did not arrive at all-reduce of gradient bucket 5/5 at step 3)") ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
if [ "$transport" = shm ]; then
  case $scenario in
    stall-stop) patterns=("dtrain: error (rank 0): stall at step 3: gradient exchange in shared memory"
                          "did not complete within 10 s" "missing rank(s): $last (did not") ;;
    stall-root) patterns=("dtrain: error (rank 1): stall at step 3: gradient exchange in shared memory"
                          "did not complete within 10 s" "missing rank(s): 0 (did not") ;;
  esac
fi
args+=(--transport "$transport")

start=$(date +%s.%N)
timeout -k 5 $((limit + 30)) "$mpiexec" -n "$np" --oversubscribe "$tool" "${args[@]}" \
  --pid-dir "$work/pids" >"$work/out" 2>"$work/err"
rc=$?
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

fail=0
problem() { echo "FAIL: $*"; fail=1; }
[ "$rc" -eq "$want_rc" ] || problem "exit code $rc, expected $want_rc"
awk -v e="$elapsed" -v l="$limit" 'BEGIN { exit !(e < l) }' || problem "took ${elapsed} s (limit ${limit} s)"
case $scenario in stall-*)
  awk -v e="$elapsed" 'BEGIN { exit !(e >= 10) }' || problem "ended after ${elapsed} s, before the 10 s stall timeout" ;;
esac
lines=$(grep -c "^dtrain: error" "$work/err")
[ "$lines" -eq "$want_lines" ] || problem "$lines 'dtrain: error' lines, expected $want_lines"
for p in "${patterns[@]}"; do
  grep -qF -- "$p" "$work/err" || problem "stderr lacks: $p"
done
[ "$(ls "$work/pids" | wc -l)" -eq "$np" ] || problem "expected $np pid files"
for f in "$work"/pids/*.pid; do
  pid=$(cat "$f")
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && problem "rank $(basename "$f" .pid) (pid $pid) is still running"
done

echo "scenario $scenario ($transport) on $np ranks: exit $rc after ${elapsed} s"
grep "^dtrain: error" "$work/err"
if [ "$fail" -ne 0 ]; then
  echo "--- stdout"; cat "$work/out"; echo "--- stderr"; cat "$work/err"
  exit 1
fi
echo PASS
