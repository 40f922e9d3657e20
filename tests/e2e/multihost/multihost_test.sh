#!/usr/bin/env bash
# Multi-host tests of `dtrain train`: ranks on different "hosts" (network
# namespaces made by hosts.sh, joined by a bridge) talking TCP only, with real
# host and link failures. Needs root (network namespaces).
#
#   tests/e2e/multihost/multihost_test.sh DTRAIN CASE [DATA.h5]
#   tests/e2e/multihost/multihost_test.sh build/dtrain tcp2
#
# CASE
#   tcp2, tcp3  2 / 3 hosts, 1 rank each, TCP only: the final weights equal those of
#               2 / 3 ranks on shared memory to 1e-6 relative, the same test
#               accuracy, and the traffic went through every host's interface.
#               Prints samples/s and the all-reduce share of both runs.
#   kill        kill -9 of the rank on h3 mid-epoch: mpirun and every process on
#               every host gone within 15 s, non-zero; the checkpoints intact;
#               --resume auto on h1,h2 finishes the run from the last checkpoint.
#   linkdown    h2's link down for good mid-epoch: with the fail-fast settings of
#               docs/multinode.md (sysctls from hosts.sh, MCA keepalive and stall
#               timeout from jobs/multinode.sh) the job ends on every host within
#               60 s, non-zero, saying communication was lost; the checkpoints
#               intact (dtrain inspect verifies checksums; older files unchanged);
#               --resume auto on h1,h3 finishes.
#   linkblip    h2's link down for 2 s then up, mid-epoch: the run finishes with
#               the weights of an undisturbed run (2 ranks, shared memory; tcp2
#               shows TCP and shared memory agree).
#
# DATA.h5 (default: data/fashion-mnist.h5 of this repository) is made with
# data/prepare_fashion_mnist.sh if missing. Each case uses its own
# namespace prefix (dtmh-CASE), removes what an earlier killed run of it left, and
# tears everything down from a trap. Logs stay in /tmp/dtrain-multihost.CASE.* when
# a case fails.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
hosts=$here/hosts.sh
config=$here/mlp_small.yaml

[ $# -ge 2 ] || { sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dtrain=$(readlink -f "$1")
case_name=$2
data=${3:-$repo/data/fashion-mnist.h5}
[ -x "$dtrain" ] || { echo "FAIL: $dtrain is not executable"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "FAIL: the multi-host tests need root (network namespaces)"; exit 1; }

# The run: 2 epochs of 573 steps (55000 / global batch 96, rounded up), a step
# checkpoint every 100 steps (mlp_small.yaml); faults come after ckpt-000300, in
# the middle of epoch 1.
readonly kSteps=1146 kFaultStep=300 kStepsPerEpoch=573

export DTRAIN_MH_PREFIX=dtmh-$case_name
subnet=${DTRAIN_MH_SUBNET:-10.77.0}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d "/tmp/dtrain-multihost.$case_name.XXXXXX")
t_start=$(date +%s.%N)

elapsed() { awk -v now="$(date +%s.%N)" -v t0="${1:-$t_start}" 'BEGIN { printf "%.3f", now - t0 }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }  # at_most A B: A <= B (decimals)
log() { printf '[%6.1f s] %s\n' "$(elapsed)" "$*"; }
fail() { echo "FAIL ($case_name): $*"; exit 1; }
cleanup() {
  local rc=$?
  "$hosts" down
  if [ "$rc" -eq 0 ]; then rm -rf "$work"; else echo "logs kept in $work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_data() {
  [ -r "$data" ] && return 0
  mkdir -p "$(dirname "$data")"
  log "making $data"
  DTRAIN=$dtrain "$repo/data/prepare_fashion_mnist.sh" "$data" >"$work/prepare.log" 2>&1 ||
    { cat "$work/prepare.log"; fail "could not make the data file $data"; }
}

train_args() {  # train_args NAME: the dtrain command line of run NAME, in train_cmd
  train_cmd=("$dtrain" train "$config" --set "data.file=$data" --run-dir "$work/$1")
}

# run_shm NAME NP [dtrain args]: NP ranks on shared memory (inside h1), foreground.
# The gradients go through MPI's all-reduce as in the TCP runs (dtrain's own
# shared-memory transport adds in another order: at 3 ranks the weights would
# differ by rounding, then drift apart over the epochs).
run_shm() {
  local name=$1 np=$2; shift 2
  train_args "$name"
  train_cmd+=(--set distributed.transport=mpi)
  timeout -k 5 120 "$hosts" exec h1 mpirun -np "$np" --oversubscribe --bind-to none \
    --mca pml ob1 --mca btl vader,self --mca mpi_yield_when_idle 1 \
    "${train_cmd[@]}" --threads 1 "$@" >"$work/$name.log" 2>&1
}

# start_tcp NAME HOSTS NP [dtrain args]: NP ranks on HOSTS over TCP, launched the
# documented way (jobs/multinode.sh: hostfile, --net, keepalive, --stall-timeout 60)
# from the head namespace, in the background (job_pid). TCP is the only transport
# (DTRAIN_BTL=tcp,self); --display-map shows where the ranks went.
start_tcp() {
  local name=$1 host_list=$2 np=$3; shift 3
  tr , '\n' <<<"$host_list" | sed 's/$/ slots=1/' >"$work/$name.hosts"
  train_args "$name"
  DTRAIN=$dtrain DTRAIN_BTL=tcp,self DTRAIN_MPIRUN_ARGS=--display-map \
    timeout -k 5 150 "$hosts" head "$repo/jobs/multinode.sh" --hostfile "$work/$name.hosts" -n "$np" -t 1 \
    --no-bind --net "$subnet.0/24" "${train_cmd[@]:2}" "$@" >"$work/$name.log" 2>&1 &
  job_pid=$!
}
run_tcp() { start_tcp "$@"; wait "$job_pid"; }

show_log() { grep -v '^[ _=]\|^Model:\|^ Layer\|^Total\|^Trainable\|^Non-trainable' "$work/$1.log" | tail -n "${2:-25}"; }

# wait_for_file PATH: until it exists while the job runs (at most 120 s).
wait_for_file() {
  local _
  for _ in $(seq 1 1200); do
    [ -e "$1" ] && return 0
    kill -0 "$job_pid" 2>/dev/null || { show_log "$current"; fail "the run ended before $1 appeared"; }
    sleep 0.1
  done
  fail "$1 did not appear within 120 s"
}

# wait_all_gone LIMIT HOSTS...: seconds until the job's mpirun has exited and no
# process is left on any of HOSTS (polled every 0.1 s, given up after LIMIT + 30 s);
# sets job_rc.
wait_all_gone() {
  local limit=$1; shift
  local t0; t0=$(date +%s.%N)
  local h left
  while :; do
    left=""
    kill -0 "$job_pid" 2>/dev/null && left="mpirun"
    for h in "$@"; do [ -z "$("$hosts" pids "$h")" ] || left+=" $h"; done
    [ -n "$left" ] || break
    if ! at_most "$(elapsed "$t0")" $((limit + 30)); then
      gone_after=$(elapsed "$t0")
      log "still running after $gone_after s: $left"
      for h in "$@"; do log "  $h: $(for p in $("$hosts" pids "$h"); do cat "/proc/$p/comm"; done | tr '\n' ' ')"; done
      break
    fi
    sleep 0.1
  done
  gone_after=$(printf '%.1f' "$(elapsed "$t0")")
  wait "$job_pid"
  job_rc=$?
}

final_ckpt() { find "$work/$1" -maxdepth 1 -name 'ckpt-*.h5' | sort | tail -n 1; }
test_accuracy() { sed -n 's/^Test (.*accuracy: \([0-9.]*\).*/\1/p' "$work/$1.log"; }
# The per-epoch profile of the last epoch and the overall throughput, for the note.
figures() {
  local p; p=$(grep '^profile epoch' "$work/$1.log" | tail -n 1)
  echo "$2: $(sed -n 's/^Trained \(.*\)/\1/p' "$work/$1.log"); last epoch: all-reduce wait" \
       "$(echo "$p" | sed -n 's/.*all-reduce wait \([0-9]*%\).*/\1/p'), $(echo "$p" | sed -n 's/.*; \([0-9]* samples\/s\)/\1/p')"
}

# weights_txt CKPT: "dataset value" per line for every array of /model/weights.
weights_txt() {
  local d
  for d in $(h5ls -r "$1" | awk '$1 ~ /^\/model\/weights\// && $2 == "Dataset" {print $1}'); do
    h5dump -d "$d" -y -w 0 -m %.9g -o "$work/dump.txt" "$1" >/dev/null || fail "h5dump of $d in $1"
    tr -d ' ,' <"$work/dump.txt" | awk -v d="$d" 'NF {print d, $1}'
  done
}

# compare_weights A B: every weight array of A equals B's to 1e-6 of its largest
# magnitude (max |a - b| <= 1e-6 * max |a|); prints the largest relative difference.
compare_weights() {
  weights_txt "$1" >"$work/a.txt"
  weights_txt "$2" >"$work/b.txt"
  [ -s "$work/a.txt" ] || fail "no weights read from $1"
  paste -d' ' "$work/a.txt" "$work/b.txt" | awk '
    $1 != $3 { print "different arrays: " $1 " vs " $3; bad = 1; exit }
    { d = $2 - $4; if (d < 0) d = -d; a = $2 < 0 ? -$2 : $2
      if (d > diff[$1]) diff[$1] = d; if (a > big[$1]) big[$1] = a; if ($2 != $4) same = same + 1; n++ }
    END {
      if (bad) exit 1
      worst = 0
      for (k in diff) { r = big[k] > 0 ? diff[k] / big[k] : diff[k]; if (r > worst) worst = r }
      printf "%d weights, %d differ, largest relative difference %.3g\n", n, same, worst
      exit (worst <= 1e-6 && n > 0) ? 0 : 1
    }' || fail "weights of $1 and $2 differ by more than 1e-6 relative"
}

# check_map NAME HOSTS...: one rank on each of HOSTS (mpirun --display-map).
check_map() {
  local name=$1 h; shift
  for h in "$@"; do
    grep -q "Data for node: ${h}[[:space:]].*Num procs: 1\$" "$work/$name.log" ||
      { show_log "$name" 60; fail "$name: mpirun did not place one rank on $h"; }
  done
}

# ---- cases --------------------------------------------------------------------

case_tcp() {  # case_tcp NP
  local np=$1 host_list k
  host_list=$(seq -s, -f 'h%g' 1 "$np")
  "$hosts" down
  "$hosts" up "$np" || fail "could not create $np hosts"
  log "$np hosts up ($host_list); shared-memory run with $np ranks"
  current=shm
  run_shm shm "$np" --profile || { show_log shm; fail "the shared-memory run failed"; }
  declare -A before
  for k in $(seq 1 "$np"); do before[h$k]=$("$hosts" bytes "h$k"); done
  log "TCP run on $host_list"
  current=tcp
  run_tcp tcp "$host_list" "$np" --profile || { show_log tcp; fail "the TCP run failed"; }
  local host_array; IFS=, read -r -a host_array <<<"$host_list"
  check_map tcp "${host_array[@]}"
  show_log tcp 8

  # Traffic: in any all-reduce of P ranks each rank sends and receives at least
  # (P-1)/P of the gradient (what it does not own itself). Per host, over the run:
  # steps x 4 bytes x params x (P-1)/P; 1146 x 4 x 109386 / 2 = 250.7 MB on 2
  # hosts, x 2/3 = 334.3 MB on 3.
  local steps params need
  steps=$(sed -n 's/^Trained \([0-9]*\) steps.*/\1/p' "$work/tcp.log")
  params=$(sed -n 's/^Total params: \([0-9,]*\).*/\1/p' "$work/tcp.log" | tr -d ,)
  [ "$steps" = "$kSteps" ] || fail "the TCP run trained '$steps' steps, expected $kSteps"
  need=$((steps * 4 * params * (np - 1) / np))
  for k in $(seq 1 "$np"); do
    read -r rx0 tx0 <<<"${before[h$k]}"
    read -r rx1 tx1 <<<"$("$hosts" bytes "h$k")"
    log "h$k mpi0: received $(((rx1 - rx0) / 1000000)) MB, sent $(((tx1 - tx0) / 1000000)) MB (at least $((need / 1000000)) MB each)"
    if [ $((rx1 - rx0)) -lt "$need" ] || [ $((tx1 - tx0)) -lt "$need" ]; then
      fail "h$k's interface carried less than the all-reduce traffic: the ranks did not talk over TCP"
    fi
  done

  compare_weights "$(final_ckpt tcp)" "$(final_ckpt shm)"
  local a_tcp a_shm; a_tcp=$(test_accuracy tcp); a_shm=$(test_accuracy shm)
  log "test accuracy: TCP $a_tcp, shared memory $a_shm"
  if [ -z "$a_tcp" ] || [ "$a_tcp" != "$a_shm" ]; then
    fail "test accuracy differs: TCP '$a_tcp', shared memory '$a_shm'"
  fi
  figures shm "$np ranks, shared memory"
  figures tcp "$np hosts, TCP"
}

# resume_on NAME HOSTS NP: --resume auto of run NAME on fewer hosts, to the end.
resume_on() {
  local name=$1 host_list=$2 np=$3
  cp -r "$work/$name" "$work/${name}_resume"
  current=${name}_resume
  log "resume on $host_list ($np ranks)"
  run_tcp "${name}_resume" "$host_list" "$np" --resume auto || { show_log "${name}_resume"; fail "the resumed run failed"; }
  show_log "${name}_resume" 7
  local from step
  from=$(sed -n 's/^Resuming from \(.*\) (epoch.*/\1/p' "$work/${name}_resume.log")
  step=$(basename "$from" .h5); step=$((10#${step#ckpt-}))
  if [ -z "$from" ] || [ "$step" -lt "$kFaultStep" ] || [ "$step" -ge "$kStepsPerEpoch" ]; then
    fail "the run did not resume from a checkpoint in the middle of epoch 1 (from '$from')"
  fi
  [ "$(basename "$from")" = "$(basename "$resume_expected")" ] ||
    fail "resumed from $from, but the newest checkpoint was $resume_expected"
  ! grep -qi 'damaged\|skipping\|skipped' "$work/${name}_resume.log" || fail "the resume found a damaged checkpoint"
  grep -q "^dtrain .*: $np ranks" "$work/${name}_resume.log" || fail "the resumed run did not have $np ranks"
  [ "$(basename "$(final_ckpt "${name}_resume")")" = "ckpt-$(printf %06d "$kSteps").h5" ] ||
    fail "the resumed run did not end at step $kSteps"
  local acc; acc=$(test_accuracy "${name}_resume")
  ! at_most "${acc:-0}" 0.8 || fail "test accuracy after the resume is '$acc', expected > 0.8"
  log "resumed from $(basename "$from") on $np hosts and finished: test accuracy $acc"
}

case_kill() {
  "$hosts" down
  "$hosts" up 3 || fail "could not create 3 hosts"
  log "3 hosts up; TCP run on h1,h2,h3"
  current=run
  start_tcp run h1,h2,h3 3
  wait_for_file "$work/run/ckpt-$(printf %06d "$kFaultStep").h5"
  local victim; victim=$("$hosts" pids h3 dtrain)
  [ "$(echo "$victim" | wc -w)" = 1 ] || fail "expected one dtrain process on h3, found '$victim'"
  kill -9 "$victim"
  log "kill -9 of dtrain (pid $victim) on h3"
  sha256sum "$work"/run/ckpt-*.h5 >"$work/snapshot.txt"
  wait_all_gone 15 h1 h2 h3
  show_log run 12
  log "job ended on every host $gone_after s after the kill, exit code $job_rc"
  [ "$job_rc" -ne 0 ] || fail "the job exited 0 after a rank was killed"
  at_most "$gone_after" 15 || fail "the job took $gone_after s (> 15 s) to end on every host"
  check_checkpoints "$work/run" "$work/snapshot.txt"
  resume_expected=$(final_ckpt run)
  resume_on run h1,h2 2
}

# check_checkpoints DIR SNAPSHOT: every checkpoint in DIR passes `dtrain inspect`
# (which verifies its checksums) and has the step attribute its name says; files
# listed in SNAPSHOT (sha256sum output taken at the fault) that still exist are
# unchanged.
check_checkpoints() {
  local f step n=0
  for f in "$1"/ckpt-*.h5; do
    if ! "$dtrain" inspect "$f" >"$work/inspect.txt" 2>&1 || ! grep -q 'checksums ok' "$work/inspect.txt"; then
      cat "$work/inspect.txt"; fail "$f is damaged"
    fi
    step=$(h5dump -a /step "$f" | sed -n 's/^ *(0): \([0-9]*\)$/\1/p')
    [ "ckpt-$(printf %06d "${step:--1}").h5" = "$(basename "$f")" ] || fail "$f: step attribute '$step'"
    n=$((n + 1))
  done
  [ "$n" -ge 1 ] || fail "no checkpoint left in $1"
  while read -r sum f; do
    [ ! -e "$f" ] || [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$sum" ] || fail "$f changed after the fault"
  done <"$2"
  log "$n checkpoints verified, earlier ones unchanged; run directory: $(find "$1" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')"
}

case_linkdown() {
  "$hosts" down
  "$hosts" up 3 || fail "could not create 3 hosts"
  log "3 hosts up; TCP run on h1,h2,h3"
  current=run
  start_tcp run h1,h2,h3 3
  wait_for_file "$work/run/ckpt-$(printf %06d "$kFaultStep").h5"
  "$hosts" link h2 down
  log "h2's link down for good"
  sha256sum "$work"/run/ckpt-*.h5 >"$work/snapshot.txt"
  wait_all_gone 60 h1 h2 h3
  show_log run 15
  log "job ended on every host $gone_after s after the link went down, exit code $job_rc"
  [ "$job_rc" -ne 0 ] || fail "the job exited 0 after a link failed"
  at_most "$gone_after" 60 || fail "the job took $gone_after s (> 60 s) to end on every host"
  grep -qi 'lost communication\|communication.*lost\|network link failed' "$work/run.log" ||
    fail "no message says that communication was lost"
  check_checkpoints "$work/run" "$work/snapshot.txt"
  resume_expected=$(final_ckpt run)
  resume_on run h1,h3 2
}

case_linkblip() {
  "$hosts" down
  "$hosts" up 2 || fail "could not create 2 hosts"
  log "2 hosts up; undisturbed run: 2 ranks on shared memory"
  current=shm
  run_shm shm 2 || { show_log shm; fail "the shared-memory run failed"; }
  log "TCP run on h1,h2"
  current=run
  start_tcp run h1,h2 2
  wait_for_file "$work/run/ckpt-$(printf %06d "$kFaultStep").h5"
  local rx0 rx1 t0
  "$hosts" link h2 down
  t0=$(date +%s.%N)
  read -r rx0 _ <<<"$("$hosts" bytes h2)"
  sleep 2
  read -r rx1 _ <<<"$("$hosts" bytes h2)"
  "$hosts" link h2 up
  log "h2's link was down for $(printf %.1f "$(elapsed "$t0")") s (h2 received $((rx1 - rx0)) bytes meanwhile)"
  [ "$rx1" = "$rx0" ] || fail "h2 received data while its link was down"
  kill -0 "$job_pid" 2>/dev/null || fail "the run ended during the outage"
  wait "$job_pid" || { show_log run; fail "the run did not survive a 2 s outage"; }
  show_log run 6
  compare_weights "$(final_ckpt run)" "$(final_ckpt shm)"
  [ "$(test_accuracy run)" = "$(test_accuracy shm)" ] || fail "test accuracy differs from the undisturbed run"
}

ensure_data
log "case $case_name, dtrain $dtrain, data $data, work $work"
case $case_name in
  tcp2) case_tcp 2 ;;
  tcp3) case_tcp 3 ;;
  kill) case_kill ;;
  linkdown) case_linkdown ;;
  linkblip) case_linkblip ;;
  *) fail "unknown case '$case_name' (tcp2, tcp3, kill, linkdown, linkblip)" ;;
esac
log "PASS $case_name"
