// Conv2D forward + backward and softmax cross-entropy through the graph, each
// beside a plain Eigen version of the same work, in one binary so the rates are
// measured side by side (the Dense layer is in dense_bench.cpp).
//
//   build/tests/bench/layer_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Shapes: the convolutions of the issue-8 CNN at batch 128 ('valid', 3x3):
// conv1 [128,28,28,1] -> 32 channels, conv2 [128,13,13,32] -> 64 channels. As a
// GEMM (im2col) a convolution is M = B·oh·ow rows, K = 3·3·cin, N = cout: the
// forward, the kernel gradient and (conv2 only: conv1's input is the data, which
// needs no gradient) the input gradient are 2·M·K·N flops each. The loss is
// sparse categorical cross-entropy from logits [128, 10], forward + backward;
// its rate counts a nominal 5 flops per logit (shift, exp, sum, normalise,
// subtract the one-hot).
#include "bench_support.hpp"

#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "dtrain/losses.hpp"

#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include <cmath>

namespace {

using dtrain::graph::Graph;
using dtrain::graph::kBatch;
using dtrain::graph::NodeId;

constexpr std::int64_t kBatchSize = 128;
constexpr std::int64_t kClasses = 10;

struct ConvShape {
  std::int64_t h, w, cin, cout;
  bool input_grad;
  std::int64_t oh() const { return h - 2; }
  std::int64_t ow() const { return w - 2; }
  std::int64_t m() const { return kBatchSize * oh() * ow(); }
  std::int64_t k() const { return 9 * cin; }
  double flops() const {
    return (input_grad ? 3.0 : 2.0) * 2.0 * static_cast<double>(m()) * static_cast<double>(k()) *
           static_cast<double>(cout);
  }
};

const ConvShape kConvs[] = {{28, 28, 1, 32, false}, {13, 13, 32, 64, true}};

using dtrain::bench::set_rate;

// The convolution as the trainer runs it: conv2d + bias_add, forward and backward
// through the graph, on state.range(1) threads.
void BM_Conv2DGraph(benchmark::State& state) {
  const auto& c = kConvs[state.range(0)];
  dtrain::bench::time_graph_step(state, static_cast<int>(state.range(1)), kBatchSize, [&](auto& g) {
    auto x = g.input("x", {kBatch, c.h, c.w, c.cin}, /*requires_grad=*/c.input_grad);
    auto w = g.parameter("conv/kernel", {3, 3, c.cin, c.cout});
    auto b = g.parameter("conv/bias", {c.cout});
    auto y = dtrain::graph::bias_add(g, dtrain::graph::conv2d(g, x, w, {1, 1}, dtrain::graph::Padding::kValid), b);
    return std::pair{x, dtrain::graph::sum(g, y)};
  });
  set_rate(state, c.flops());
}

// The same products as plain single-threaded Eigen GEMMs on an im2col matrix
// (built once, outside the timing: the lower bound of an im2col convolution).
void BM_EigenConvGemm(benchmark::State& state) {
  const auto& c = kConvs[state.range(0)];
  using M = Eigen::MatrixXf;
  M a = M::Random(c.m(), c.k()), w = M::Random(c.k(), c.cout), dy = M::Random(c.m(), c.cout);
  M y(c.m(), c.cout), dw(c.k(), c.cout), da(c.m(), c.k());
  for (auto _ : state) {
    y.noalias() = a * w;
    dw.noalias() = a.transpose() * dy;
    if (c.input_grad) da.noalias() = dy * w.transpose();
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dw.data());
    benchmark::DoNotOptimize(da.data());
  }
  set_rate(state, c.flops());
}

// Sparse categorical cross-entropy from logits through the graph (the fused
// log-softmax loss op), forward and backward.
void BM_SoftmaxCrossEntropyGraph(benchmark::State& state) {
  Graph<float> g;
  auto logits = g.input("logits", {kBatch, kClasses}, /*requires_grad=*/true);
  auto cfg = dtrain::losses::parse_loss("sparse_categorical_crossentropy");
  cfg.from_logits = true;
  auto labels = g.input("y_true", dtrain::losses::y_true_shape(cfg, g.shape(logits)));
  auto loss = dtrain::graph::sum(g, dtrain::losses::per_sample_loss(g, logits, labels, cfg));
  g.plan(kBatchSize);
  auto lv = g.value(logits);
  for (std::int64_t i = 0; i < lv.size(); ++i) lv.data[i] = std::sin(0.37f * static_cast<float>(i));
  auto yv = g.value(labels);
  for (std::int64_t i = 0; i < yv.size(); ++i) yv.data[i] = static_cast<float>(i % kClasses);
  for (auto _ : state) {
    g.forward();
    g.backward(loss);
    benchmark::DoNotOptimize(g.grad(logits).data);
  }
  set_rate(state, 5.0 * kBatchSize * kClasses);
}

// The same loss and gradient written directly with Eigen arrays.
void BM_EigenSoftmaxCrossEntropy(benchmark::State& state) {
  using A = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  A x(kBatchSize, kClasses), grad(kBatchSize, kClasses);
  for (std::int64_t i = 0; i < x.size(); ++i) x.data()[i] = std::sin(0.37f * static_cast<float>(i));
  for (auto _ : state) {
    float loss = 0;
    for (std::int64_t r = 0; r < kBatchSize; ++r) {
      const auto row = x.row(r);
      const float shift = row.maxCoeff();
      const auto e = (row - shift).exp();
      const float sum = e.sum();
      const auto label = r % kClasses;
      loss += std::log(sum) - (row(label) - shift);
      grad.row(r) = e / sum;
      grad(r, label) -= 1.0f;
    }
    benchmark::DoNotOptimize(loss);
    benchmark::DoNotOptimize(grad.data());
  }
  set_rate(state, 5.0 * kBatchSize * kClasses);
}

void conv_args(benchmark::internal::Benchmark* b, bool threads) {
  for (int conv = 0; conv < 2; ++conv) {
    if (threads) {
      b->Args({conv, 1});
      b->Args({conv, 2});
    } else {
      b->Args({conv});
    }
  }
}

BENCHMARK(BM_EigenConvGemm)->Apply([](auto* b) { conv_args(b, false); })->ArgNames({"conv"})->UseRealTime();
BENCHMARK(BM_Conv2DGraph)->Apply([](auto* b) { conv_args(b, true); })->ArgNames({"conv", "threads"})->UseRealTime();
BENCHMARK(BM_EigenSoftmaxCrossEntropy)->UseRealTime();
BENCHMARK(BM_SoftmaxCrossEntropyGraph)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
