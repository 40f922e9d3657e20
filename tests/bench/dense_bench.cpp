// Dense layer forward + backward through the graph vs. plain Eigen GEMMs of the
// same shapes, in one binary so the two rates are measured side by side.
//
//   build/tests/bench/dense_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// BM_FmaPeak measures the core's float FMA peak, the ceiling of all of them.
//
// Work per step (batch B, in → out): y = x·W, dx = dy·Wᵀ, dW = xᵀ·dy: three
// GEMMs of 2·B·in·out flops each. The graph also adds the bias and its gradient.
#include "bench_support.hpp"

#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <benchmark/benchmark.h>

#include <Eigen/Core>

namespace {

constexpr std::int64_t kBatch = 128;

double step_flops(std::int64_t in, std::int64_t out) { return 3.0 * 2.0 * kBatch * in * out; }

using dtrain::bench::set_rate;

// Plain single-threaded Eigen (column-major, its fastest layout) on the same shapes.
void BM_EigenGemm(benchmark::State& state) {
  const auto in = state.range(0), out = state.range(1);
  using M = Eigen::MatrixXf;
  M x = M::Random(kBatch, in), w = M::Random(in, out), dy = M::Random(kBatch, out);
  M y(kBatch, out), dx(kBatch, in), dw(in, out);
  for (auto _ : state) {
    y.noalias() = x * w;
    dx.noalias() = dy * w.transpose();
    dw.noalias() = x.transpose() * dy;
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::DoNotOptimize(dw.data());
  }
  set_rate(state, step_flops(in, out));
}

// The dense layer as the trainer runs it: matmul + bias_add ops, forward and
// backward through the graph (input gradient included), on state.range(2) threads.
void BM_DenseGraph(benchmark::State& state) {
  const auto in = state.range(0), out = state.range(1);
  dtrain::bench::time_graph_step(state, static_cast<int>(state.range(2)), kBatch, [&](auto& g) {
    auto x = g.input("x", {dtrain::graph::kBatch, in}, /*requires_grad=*/true);
    auto w = g.parameter("dense/kernel", {in, out});
    auto b = g.parameter("dense/bias", {out});
    auto y = dtrain::graph::bias_add(g, dtrain::graph::matmul(g, x, w), b);
    return std::pair{x, dtrain::graph::sum(g, y)};
  });
  set_rate(state, step_flops(in, out));
}

// The core's float FMA peak: 12 independent chains of 16-wide fused
// multiply-adds (enough to cover the FMA latency), nothing loaded or stored. The
// ceiling every GEMM here is measured against.
void BM_FmaPeak(benchmark::State& state) {
  using V = float __attribute__((vector_size(64)));
  constexpr int kChains = 12;
  constexpr int kRounds = 1000;
  V acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = V{} + 0.001f * static_cast<float>(i);
  const V a = V{} + 0.999999f;
  const V b = V{} + 1e-7f;
  for (auto _ : state) {
    for (int r = 0; r < kRounds; ++r) {
      for (auto& x : acc) x = x * a + b;  // one vfmadd each with -march=native
    }
    benchmark::DoNotOptimize(acc);
  }
  set_rate(state, 2.0 * 16 * kChains * kRounds);
}

void shapes(benchmark::internal::Benchmark* b, bool threads) {
  for (auto [in, out] : {std::pair{784, 512}, std::pair{512, 256}, std::pair{256, 10}}) {
    if (threads) {
      b->Args({in, out, 1});
      b->Args({in, out, 2});
    } else {
      b->Args({in, out});
    }
  }
}

BENCHMARK(BM_FmaPeak)->UseRealTime();
BENCHMARK(BM_EigenGemm)->Apply([](auto* b) { shapes(b, false); })->ArgNames({"in", "out"})->UseRealTime();
BENCHMARK(BM_DenseGraph)->Apply([](auto* b) { shapes(b, true); })->ArgNames({"in", "out", "threads"})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
