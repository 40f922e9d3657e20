// Graph mechanics: shape errors, planning, batch changes, parameters arena,
// and no allocation inside a step.
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <span>
#include <vector>

// g++ cannot see that our operator new pairs with free().
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Counts every allocation made through operator new in this test binary.
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace dtrain {
namespace {

using graph::Graph;
using graph::kBatch;
using graph::ParameterInfo;
using graph::ParameterMemory;
using graph::ParameterStore;

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "(no ShapeError thrown)";
}

TEST(GraphShapes, MismatchNamesTheOpAndBothShapes) {
  Graph<float> g;
  auto x = g.input("x", {kBatch, 784});
  auto w = g.parameter("w", {512, 10});
  const auto msg = error_of([&] { graph::matmul(g, x, w); });
  EXPECT_NE(msg.find("matmul"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[batch, 784]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[512, 10]"), std::string::npos) << msg;
}

TEST(GraphShapes, EveryOpChecksItsInputs) {
  Graph<float> g;
  auto a = g.input("a", {kBatch, 3});
  auto b = g.input("b", {kBatch, 4});
  auto v = g.input("v", {5});
  struct Case {
    const char* op;
    std::function<void()> call;
  };
  const std::vector<Case> cases = {
      {"add", [&] { graph::add(g, a, b); }},
      {"sub", [&] { graph::sub(g, a, b); }},
      {"mul", [&] { graph::mul(g, a, b); }},
      {"bias_add", [&] { graph::bias_add(g, a, v); }},
      {"matmul", [&] { graph::matmul(g, a, b); }},
      {"concat", [&] { graph::concat(g, {a, v}, 1); }},
      {"slice", [&] { graph::slice(g, a, 1, 2, 7); }},
      {"reshape", [&] { graph::reshape(g, a, {2, 2}); }},
      {"sum", [&] { graph::sum(g, a, 3); }},
  };
  for (const auto& c : cases) {
    const auto msg = error_of(c.call);
    EXPECT_EQ(msg.rfind(c.op, 0), 0u) << c.op << ": " << msg;
    EXPECT_NE(msg.find("input shapes"), std::string::npos) << msg;
  }
}

// L = Σ (x·w)², dL/dw = 2 xᵀ (x·w), with x = [[1, 2], [3, 4]] and w = [0.5, -1].
struct SmallExpression {
  Graph<double> g;
  graph::NodeId x = g.input("x", {kBatch, 2});
  graph::NodeId w = g.parameter("w", {2, 1});
  graph::NodeId loss = graph::sum(g, graph::square(g, graph::matmul(g, x, w)));
  SmallExpression() {
    g.plan(2);
    double* xv = g.value(x).data;
    xv[0] = 1; xv[1] = 2; xv[2] = 3; xv[3] = 4;
    g.value(w).data[0] = 0.5;
    g.value(w).data[1] = -1;
  }
};

TEST(Graph, ForwardBackwardOfASmallExpression) {
  SmallExpression e;
  auto& [g, x, w, loss] = e;
  g.forward();
  // rows: 0.5 - 2 = -1.5 ; 1.5 - 4 = -2.5 → L = 2.25 + 6.25
  EXPECT_DOUBLE_EQ(g.value(loss).data[0], 8.5);
  g.backward(loss);
  EXPECT_DOUBLE_EQ(g.grad(w).data[0], 2 * (1 * -1.5 + 3 * -2.5));
  EXPECT_DOUBLE_EQ(g.grad(w).data[1], 2 * (2 * -1.5 + 4 * -2.5));
  EXPECT_TRUE(g.grad(x).empty());  // inputs need no gradient by default
}

// Caller-supplied memory for a ParameterStore (what a transport hands out).
struct VectorMemory final : ParameterMemory<double> {
  std::vector<double> v, g;
  VectorMemory(std::size_t nv, std::size_t ng) : v(nv, 7.0), g(ng, 7.0) {}
  std::span<double> values() override { return v; }
  std::span<double> grads() override { return g; }
};

TEST(Graph, ReadsAndWritesAnAttachedParameterStore) {
  SmallExpression e;
  auto& [g, x, w, loss] = e;
  const auto n = g.parameter_values().size();
  EXPECT_THROW(ParameterStore<double>(g.parameters(), std::make_shared<VectorMemory>(n, n - 1)), ArgumentError);
  auto memory = std::make_shared<VectorMemory>(n + 3, n);
  ParameterStore<double> store(g.parameters(), memory);
  EXPECT_EQ(store.values().data(), memory->v.data());
  EXPECT_EQ(store.values().size(), n);
  std::copy_n(g.parameter_values().data(), n, store.values().data());
  g.attach_parameters(store);
  EXPECT_EQ(g.parameter_values().data(), memory->v.data());
  EXPECT_EQ(memory->v[1], -1.0);  // the contents came along
  g.forward();
  g.backward(loss);  // the ops read and write the attached store
  EXPECT_DOUBLE_EQ(g.value(loss).data[0], 8.5);
  EXPECT_DOUBLE_EQ(memory->g[0], 2 * (1 * -1.5 + 3 * -2.5));
  memory->v[0] = 1.0;  // written where the caller keeps it
  EXPECT_EQ(g.value(w).data[0], 1.0);
  EXPECT_DOUBLE_EQ(g.grad(w).data[1], 2 * (2 * -1.5 + 4 * -2.5));
  ParameterStore<double> other(std::vector<ParameterInfo>{});
  EXPECT_THROW(g.attach_parameters(other), ArgumentError);  // another layout
}

TEST(Graph, SmallerBatchUsesThePlannedBuffers) {
  Graph<float> g;
  auto x = g.input("x", {kBatch, 3});
  auto y = graph::sum(g, x, 1);
  g.plan(8);
  const float* before = g.value(y).data;
  g.set_batch(5);
  EXPECT_EQ(g.value(y).shape, (Shape{5}));
  EXPECT_EQ(g.value(y).data, before);
  EXPECT_THROW(g.set_batch(9), ArgumentError);
}

TEST(Graph, ParametersLiveInOneAlignedArena) {
  Graph<float> g;
  g.parameter("a/kernel", {3, 5});
  g.parameter("a/bias", {5});
  g.parameter("b/kernel", {5, 2}, /*trainable=*/false);
  EXPECT_THROW(g.parameter("a/bias", {5}), ArgumentError);
  const auto values = g.parameter_values();
  ASSERT_EQ(g.parameters().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto v = g.parameter_value(i);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data) % 64, 0u);
    EXPECT_GE(v.data, values.data());
    EXPECT_LE(v.data + v.size(), values.data() + values.size());
  }
  EXPECT_EQ(g.parameters()[1].name, "a/bias");
  EXPECT_FALSE(g.parameters()[2].trainable);
}

TEST(Graph, TrainingStepAllocatesNothing) {
  Graph<float> g;
  auto x = g.input("x", {kBatch, 64});
  auto w = g.parameter("w", {64, 32});
  auto b = g.parameter("b", {32});
  auto h = graph::relu(g, graph::bias_add(g, graph::matmul(g, x, w), b));
  auto loss = graph::mean(g, graph::log_softmax(g, h));
  g.plan(16);
  g.forward();
  g.backward(loss);
  const long before = g_allocations.load();
  for (int step = 0; step < 3; ++step) {
    g.set_batch(step % 2 ? 16 : 9);
    g.forward();
    g.backward(loss);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
}

}  // namespace
}  // namespace dtrain

namespace dtrain {
namespace {

struct RecordingObserver : graph::BackwardObserver {
  std::vector<std::size_t> ready;
  std::vector<std::pair<std::size_t, std::int64_t>> prefixes;
  int ops = 0;
  void parameter_ready(std::size_t index) override { ready.push_back(index); }
  void parameter_prefix_ready(std::size_t index, std::int64_t elements) override {
    EXPECT_TRUE(std::find(ready.begin(), ready.end(), index) == ready.end()) << "prefix after ready";
    prefixes.emplace_back(index, elements);
  }
  void after_op() override { ++ops; }
};

TEST(Graph, ObserverHearsParametersInTheOrderBackwardFinishesThem) {
  graph::Graph<float> g;
  auto x = g.input("x", {graph::kBatch, 4});
  auto w1 = g.parameter("d1/kernel", {4, 3});
  auto b1 = g.parameter("d1/bias", {3});
  auto w2 = g.parameter("d2/kernel", {3, 2});
  g.parameter("frozen", {2}, /*trainable=*/false);
  g.parameter("unused", {2});
  auto h = graph::bias_add(g, graph::matmul(g, x, w1), b1);
  auto loss = graph::sum(g, graph::matmul(g, graph::relu(g, h), w2));
  (void)w2;
  g.plan(2);
  RecordingObserver obs;
  g.backward(loss, &obs);
  // unused first (nothing to wait for), then d2/kernel, d1/bias, d1/kernel.
  EXPECT_EQ(obs.ready, (std::vector<std::size_t>{4, 2, 1, 0}));
  EXPECT_GT(obs.ops, 0);
}

// A kernel gradient larger than 2^17 elements is finished in row chunks, each
// reported as a prefix; the values match the backward nobody listens to.
void expect_kernel_prefixes(std::int64_t in, std::int64_t out, const std::vector<std::int64_t>& want) {
  SCOPED_TRACE("kernel [" + std::to_string(in) + ", " + std::to_string(out) + "]");
  graph::Graph<float> g;
  auto x = g.input("x", {graph::kBatch, in});
  auto w = g.parameter("d/kernel", {in, out});
  auto loss = graph::sum(g, graph::square(g, graph::matmul(g, x, w)));
  g.plan(3);
  auto xv = g.value(x);
  for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = std::sin(0.37f * static_cast<float>(i));
  auto wv = g.parameter_values();
  for (std::size_t i = 0; i < wv.size(); ++i) wv[i] = 0.01f * std::cos(0.11f * static_cast<float>(i));
  g.forward();
  g.backward(loss);
  const std::vector<float> plain(g.parameter_grads().begin(), g.parameter_grads().end());
  RecordingObserver obs;
  g.backward(loss, &obs);
  std::vector<std::pair<std::size_t, std::int64_t>> expected;
  for (auto e : want) expected.emplace_back(0, e);
  EXPECT_EQ(obs.prefixes, expected);
  EXPECT_EQ(obs.ready, (std::vector<std::size_t>{0}));
  const auto chunked = g.parameter_grads();
  for (std::size_t i = 0; i < plain.size(); ++i) {
    ASSERT_NEAR(chunked[i], plain[i], 1e-5f * std::max(1.0f, std::abs(plain[i]))) << i;
  }
}

TEST(Graph, MatmulReportsKernelGradientPrefixesWhileItComputes) {
  expect_kernel_prefixes(784, 512, {131072, 262144, 393216, 401408});  // 256-row chunks, column blocks
  expect_kernel_prefixes(1500, 100, {128000, 150000});                 // 1280-row chunks, row blocks
  expect_kernel_prefixes(20, 10, {200});                                // one chunk
}

}  // namespace
}  // namespace dtrain
