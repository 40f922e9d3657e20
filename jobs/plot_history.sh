#!/usr/bin/env bash
# Draws RUN_DIR/history.csv as RUN_DIR/history.png: the loss and every metric
# per epoch, training and validation side by side (gnuplot).
#   jobs/plot_history.sh RUN_DIR [OUT.png]
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
dir=$1
csv="$dir/history.csv"
out=${2:-$dir/history.png}
[ -s "$csv" ] || { echo "plot_history: no $csv (train first)" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "plot_history: gnuplot is missing (apt-get install gnuplot-nox)" >&2; exit 1; }

header=$(head -1 "$csv")
IFS=, read -r -a cols <<<"$header"
# The figures to draw: every column but epoch, time, learning_rate and the val_ ones
# (drawn next to their training twin).
figures=()
for c in "${cols[@]}"; do
  case $c in epoch|time|learning_rate|val_*) ;; *) figures+=("$c") ;; esac
done
col() { local i; for i in "${!cols[@]}"; do [ "${cols[$i]}" = "$1" ] && { echo $((i + 1)); return; }; done; echo 0; }

{
  echo "set terminal png size $((420 * ${#figures[@]})),360"
  echo "set output '$out'"
  echo "set datafile separator ','"
  echo "set key autotitle columnhead"
  echo "set multiplot layout 1,${#figures[@]} title '$(basename "$dir")'"
  for f in "${figures[@]}"; do
    echo "set title '$f'; set xlabel 'epoch'; set grid"
    plot="plot '$csv' using (\$1+1):$(col "$f") with linespoints title 'train'"
    v=$(col "val_$f")
    [ "$v" != 0 ] && plot+=", '' using (\$1+1):$v with linespoints title 'validation'"
    echo "$plot"
  done
  echo "unset multiplot"
} | gnuplot 2>/dev/null || {
  echo "plot_history: gnuplot failed" >&2
  exit 1
}
echo "wrote $out"
