#!/usr/bin/env bash
# A/B of two train_bench binaries (e.g. before and after a change): runs them
# alternately, N rounds per case, and prints each case's median samples/s and
# the ratio B/A. Run on a quiet machine; same environment for both.
#   jobs/bench/ab_train_bench.sh OLD/train_bench NEW/train_bench [rounds=5] [cases="mlp cnn mlp@2"]
# (a case "X@P" runs P ranks under mpiexec, one thread each)
set -euo pipefail
if [[ $# -lt 2 || $1 == --help || $1 == -h ]]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  exit $(( $# < 2 ? 2 : 0 ))
fi
a=$1 b=$2 rounds=${3:-5} cases=${4:-"mlp cnn mlp@2"}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rate() {
  local model=${2%@*} ranks=1 launch=()
  [[ $2 == *@* ]] && ranks=${2#*@} && launch=(mpiexec -n "$ranks" --oversubscribe --bind-to none)
  "${launch[@]}" "$1" --model "$model" --synthetic --threads 1 --steps "$3" --warmup 20 |
    sed -n 's/.*samples_per_s=\([0-9.]*\).*/\1/p' | head -1
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
for c in $cases; do
  steps=$([[ $c == mlp* ]] && echo 400 || echo 60)
  ra=() rb=()
  for ((i = 0; i < rounds; i++)); do
    ra+=("$(rate "$a" "$c" "$steps")")
    rb+=("$(rate "$b" "$c" "$steps")")
  done
  ma=$(printf '%s\n' "${ra[@]}" | median) mb=$(printf '%s\n' "${rb[@]}" | median)
  echo "$c: A ${ra[*]} -> median $ma; B ${rb[*]} -> median $mb; B/A $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", b / a}')"
done
