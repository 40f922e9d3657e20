#!/usr/bin/env bash
# dtrain against PyTorch on the same work, same machine, same run (issue 8).
#
#   jobs/bench/compare.sh                 # install, build, prepare data, measure, print the table
#   jobs/bench/compare.sh --reps 5 --quick --no-install
#
# Options:
#   --reps N           repetitions of every setting (median reported; default 3)
#   --quick            few steps (a smoke test; figures are not meaningful)
#   --no-install       do not apt-get anything
#   --accuracy-epochs E  also train E full epochs of the MLP (1 core) and the CNN (2 cores)
#                      with each system and report test accuracy (default 2; 0: skip)
#   --out DIR          where results.txt and table.md go (default runs/bench)
# Environment: BUILD_DIR (default build-bench), PYTHON (default /usr/bin/python3,
# Debian's, which has python3-torch), CXX flags through the usual CMake variables.
#
# What runs (each setting --reps times, the two systems alternating inside every
# repetition: dtrain, torch, dtrain, torch, ...):
#   mlp1      MLP 784-512-256-10 relu, batch 128, 1 core: dtrain 1 rank x 1 thread;
#             torch 1 thread (OpenBLAS 1 thread)
#   mlp2      the same on 2 cores, one process: dtrain 1 x 2 threads; torch 2 intra-op
#             threads, or 1 torch thread + 2 OpenBLAS threads, or 2 + 2
#   mlp2dp    2 processes x 1 thread: dtrain under mpiexec -n 2; torch DDP (gloo)
#   mlp2dp256 the same with global batch 256
#   cnn2      Conv2D(32,3x3)-MaxPool-Conv2D(64,3x3)-MaxPool-Dense(128)-Dense(10), batch 128,
#             2 cores: dtrain 1 x 2 and 2 x 1; torch 2 threads (NCHW and channels_last,
#             glibc malloc as is and tuned with MALLOC_* thresholds), 1 thread + 2 OpenBLAS
#             threads, and DDP 2 x 1 (channels_last, tuned malloc)
# torch's Adam runs with foreach=True (its multi-tensor update: faster here).
# Every torch setting is measured; the table compares each system's best median.
# OPENBLAS_CORETYPE: torch is run with the machine's value and without it (both are
# measured first on mlp1; the faster is used for every torch run).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
reps=3
quick=0
install=1
acc_epochs=2
out="$root/runs/bench"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps=$2; shift ;;
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    --accuracy-epochs) acc_epochs=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-$root/build-bench}
py=${PYTHON:-/usr/bin/python3}
data="$root/data/fashion-mnist.h5"

# --- 1. what it needs --------------------------------------------------------------
# dtrain's own packages (jobs/lib/install_deps.sh, with OpenBLAS) plus the peer's.
need=(python3-torch python3-numpy python3-h5py libopenblas0-pthread dataset-fashion-mnist)
if [ "$install" = 1 ]; then
  "$root/jobs/lib/install_deps.sh" "${need[@]}"
else
  missing=()
  for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "compare.sh: missing packages: ${missing[*]} (run without --no-install as root)" >&2
    exit 1
  fi
fi
# Without OpenBLAS, Debian's torch uses the reference BLAS (12x slower): say which one it got.
"$py" - <<'EOF'
import torch, os
torch.zeros(2, 2) @ torch.zeros(2, 2)
libs = sorted({os.path.basename(os.path.realpath(l.split()[-1])) for l in open("/proc/self/maps") if "blas" in l})
print("== torch", torch.__version__, "BLAS:", ", ".join(libs))
if not any("openblas" in l for l in libs):
    raise SystemExit("compare.sh: torch does not use OpenBLAS (update-alternatives --config libblas.so.3-x86_64-linux-gnu)")
EOF

# --- 2. build ----------------------------------------------------------------------
echo "== building train_bench and dtrain in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDTRAIN_BUILD_TESTS=ON -DDTRAIN_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --target train_bench dense_bench dtrain_cli -j2 >/dev/null
bench="$build/tests/bench/train_bench"

# --- 3. data -----------------------------------------------------------------------
DTRAIN="$build/dtrain" "$root/data/prepare_fashion_mnist.sh" "$data"

# --- 4. measure --------------------------------------------------------------------
mkdir -p "$out"
results="$out/results.txt"
: >"$results"
if [ "$quick" = 1 ]; then
  mlp_steps=40; cnn_steps=6; warm=3
else
  mlp_steps=400; cnn_steps=60; warm=20
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi=(mpiexec -n 2 --bind-to core --oversubscribe)
malloc_tuned="MALLOC_TRIM_THRESHOLD_=2147483647 MALLOC_MMAP_THRESHOLD_=2147483647 MALLOC_TOP_PAD_=268435456"
machine_coretype=${OPENBLAS_CORETYPE-}
coretype_env=()   # what torch runs get: (env -u OPENBLAS_CORETYPE) or (env OPENBLAS_CORETYPE=...)

now_ns() { date +%s%N; }
# run CASE SIDE SETTING COMMAND...: one measurement, its RESULT line tagged and kept.
run() {
  local case=$1 side=$2 setting=$3
  shift 3
  local line
  if ! line=$("$@" --launch-ns "$(now_ns)" 2>"$out/last_stderr.txt" | grep '^RESULT'); then
    echo "   $case $side [$setting]: FAILED: $(tail -3 "$out/last_stderr.txt")" >&2
    return 0
  fi
  echo "$case|$side|$setting $line" >>"$results"
  printf '   %-10s %-6s %-40s %s\n' "$case" "$side" "$setting" \
    "$(sed -n 's/.*samples_per_s=\([0-9.]*\).*/\1/p' <<<"$line") samples/s"
}
dt() { run "$1" dtrain "$2" "${@:3}"; }
th() { local c=$1 s=$2; shift 2; run "$c" torch "$s" env "${coretype_env[@]}" "$@"; }

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"

# The core's float FMA peak (the ceiling of every GFLOP/s figure), measured, not assumed.
fma=$("$build/tests/bench/dense_bench" --benchmark_filter=FmaPeak --benchmark_repetitions=3 \
        --benchmark_report_aggregates_only=true 2>/dev/null |
      sed -n 's/.*FmaPeak.*_median.*GFLOP\/s=\([0-9.]*\).*/\1/p')
if [ -n "$fma" ]; then
  echo "fma|machine|1 core RESULT fma_gflops=$fma" >>"$results"
  echo "== FMA peak: $fma GFLOP/s per core (dense_bench BM_FmaPeak)"
fi

# OPENBLAS_CORETYPE for torch: the machine's value (or Haswell when none is set, the
# value these machines usually carry) against OpenBLAS' own detection.
probe=${machine_coretype:-Haswell}
echo "== OPENBLAS_CORETYPE for torch: $probe vs unset (mlp1, torch 1 thread)"
for r in $(seq "$reps"); do
  coretype_env=(OPENBLAS_CORETYPE="$probe")
  th coretype "coretype=$probe" "$py" "$here/torch_bench.py" --model mlp --threads 1 --blas-threads 1 \
    --steps "$mlp_steps" --warmup "$warm" --data "$data"
  coretype_env=(-u OPENBLAS_CORETYPE)
  th coretype "coretype=unset" "$py" "$here/torch_bench.py" --model mlp --threads 1 --blas-threads 1 \
    --steps "$mlp_steps" --warmup "$warm" --data "$data"
done
pick=$("$py" - "$results" "$probe" <<'EOF'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    head, _, rest = line.partition(" RESULT ")
    if head.startswith("coretype|"):
        f = dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)
        rates.setdefault(head.split("|")[2], []).append(float(f["samples_per_s"]))
med = {k: statistics.median(v) for k, v in rates.items()}
print("unset" if med.get("coretype=unset", 0) > med.get("coretype=" + sys.argv[2], 0) else sys.argv[2])
EOF
)
if [ "$pick" = unset ]; then coretype_env=(-u OPENBLAS_CORETYPE); else coretype_env=(OPENBLAS_CORETYPE="$pick"); fi
ct="coretype=$pick"
echo "   torch runs use OPENBLAS_CORETYPE=$pick"

tb=("$py" "$here/torch_bench.py" --data "$data" --warmup "$warm")
for r in $(seq "$reps"); do
  echo "== repetition $r of $reps (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  dt mlp1 "1 rank x 1 thread" "$bench" --model mlp --threads 1 --steps "$mlp_steps" --warmup "$warm" --data "$data"
  th mlp1 "1 thread, $ct" "${tb[@]}" --model mlp --threads 1 --blas-threads 1 --steps "$mlp_steps"

  dt mlp2 "1 rank x 2 threads" "$bench" --model mlp --threads 2 --steps "$mlp_steps" --warmup "$warm" --data "$data"
  th mlp2 "2 threads + BLAS 1, $ct" "${tb[@]}" --model mlp --threads 2 --blas-threads 1 --steps "$mlp_steps"
  th mlp2 "1 thread + BLAS 2, $ct" "${tb[@]}" --model mlp --threads 1 --blas-threads 2 --steps "$mlp_steps"
  th mlp2 "2 threads + BLAS 2, $ct" "${tb[@]}" --model mlp --threads 2 --blas-threads 2 --steps "$mlp_steps"

  dt mlp2dp "2 ranks x 1 thread" "${mpi[@]}" "$bench" --model mlp --threads 1 --steps "$mlp_steps" --warmup "$warm" --data "$data"
  th mlp2dp "DDP gloo 2 x 1, $ct" "${tb[@]}" --model mlp --ddp 2 --threads 1 --blas-threads 1 --steps "$mlp_steps"

  dt mlp2dp256 "2 ranks x 1 thread" "${mpi[@]}" "$bench" --model mlp --batch 256 --threads 1 --steps "$((mlp_steps / 2))" --warmup "$warm" --data "$data"
  th mlp2dp256 "DDP gloo 2 x 1, $ct" "${tb[@]}" --model mlp --batch 256 --ddp 2 --threads 1 --blas-threads 1 --steps "$((mlp_steps / 2))"

  dt cnn2 "1 rank x 2 threads" "$bench" --model cnn --threads 2 --steps "$cnn_steps" --warmup "$warm" --data "$data"
  th cnn2 "2 threads, channels_last, malloc tuned, $ct" env $malloc_tuned "${tb[@]}" --model cnn --threads 2 --blas-threads 1 --channels-last 1 --steps "$cnn_steps"
  dt cnn2 "2 ranks x 1 thread" "${mpi[@]}" "$bench" --model cnn --threads 1 --steps "$cnn_steps" --warmup "$warm" --data "$data"
  th cnn2 "2 threads, NCHW, malloc tuned, $ct" env $malloc_tuned "${tb[@]}" --model cnn --threads 2 --blas-threads 1 --steps "$cnn_steps"
  th cnn2 "2 threads, channels_last, default malloc, $ct" "${tb[@]}" --model cnn --threads 2 --blas-threads 1 --channels-last 1 --steps "$cnn_steps"
  th cnn2 "2 threads, NCHW, default malloc, $ct" "${tb[@]}" --model cnn --threads 2 --blas-threads 1 --steps "$cnn_steps"
  th cnn2 "1 thread + BLAS 2, channels_last, malloc tuned, $ct" env $malloc_tuned "${tb[@]}" --model cnn --threads 1 --blas-threads 2 --channels-last 1 --steps "$cnn_steps"
  th cnn2 "DDP gloo 2 x 1, channels_last, malloc tuned, $ct" env $malloc_tuned "${tb[@]}" --model cnn --ddp 2 --threads 1 --blas-threads 1 --channels-last 1 --steps "$cnn_steps"
done

if [ "$acc_epochs" -gt 0 ]; then
  echo "== test accuracy after $acc_epochs epochs (batch 128, Adam 1e-3)"
  dt acc-mlp "1 rank x 1 thread" "$bench" --model mlp --threads 1 --steps 10 --warmup 1 --epochs "$acc_epochs" --data "$data"
  th acc-mlp "1 thread, $ct" "${tb[@]}" --model mlp --threads 1 --blas-threads 1 --steps 10 --warmup 1 --epochs "$acc_epochs"
  dt acc-cnn "1 rank x 2 threads" "$bench" --model cnn --threads 2 --steps 5 --warmup 1 --epochs "$acc_epochs" --data "$data"
  th acc-cnn "2 threads, channels_last, malloc tuned, $ct" env $malloc_tuned "${tb[@]}" --model cnn --threads 2 --blas-threads 1 --channels-last 1 --steps 5 --warmup 1 --epochs "$acc_epochs"
fi

# --- 5. the table ------------------------------------------------------------------
echo
echo "== $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" "$here/summarize.py" "$results" | tee "$out/table.txt"
"$py" "$here/summarize.py" "$results" --markdown >"$out/table.md"
echo "(raw RESULT lines: $results; markdown table: $out/table.md)"
