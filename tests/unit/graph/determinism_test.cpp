// The same computation with 1, 2 and 4 TBB threads gives bitwise identical
// forward outputs and gradients.
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace dtrain {
namespace {

using graph::Graph;
using graph::kBatch;
using graph::NodeId;

struct Outputs {
  std::vector<float> loss, logits, grads;
};

Outputs run_mlp(int threads) {
  Outputs o;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    Graph<float> g;
    auto x = g.input("x", {kBatch, 784});
    NodeId h = x;
    std::int64_t in = 784;
    int layer = 0;
    for (std::int64_t out : {512, 256, 10}) {
      auto w = g.parameter("dense_" + std::to_string(layer) + "/kernel", {in, out});
      auto b = g.parameter("dense_" + std::to_string(layer) + "/bias", {out});
      h = graph::bias_add(g, graph::matmul(g, h, w), b);
      if (out != 10) h = graph::gelu(g, h);
      in = out;
      ++layer;
    }
    // Fan-out: the logits feed the loss twice.
    const auto loss = graph::add(g, graph::mean(g, graph::log_softmax(g, h)), graph::mean(g, graph::square(g, h)));
    g.plan(200);
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.f, 0.05f);
    for (auto& v : g.parameter_values()) v = nd(rng);
    auto xv = g.value(x);
    for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = nd(rng) * 20;
    g.set_batch(173);  // not a multiple of any block size
    g.forward();
    g.backward(loss);
    o.loss.assign(g.value(loss).data, g.value(loss).data + 1);
    o.logits.assign(g.value(h).data, g.value(h).data + g.value(h).size());
    o.grads.assign(g.parameter_grads().begin(), g.parameter_grads().end());
  });
  return o;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(Determinism, OneTwoAndFourThreadsGiveTheSameBits) {
  const auto one = run_mlp(1);
  for (int threads : {2, 4}) {
    const auto other = run_mlp(threads);
    EXPECT_TRUE(bitwise_equal(one.loss, other.loss)) << threads << " threads";
    EXPECT_TRUE(bitwise_equal(one.logits, other.logits)) << threads << " threads";
    EXPECT_TRUE(bitwise_equal(one.grads, other.grads)) << threads << " threads";
  }
}

TEST(Determinism, ThreadScopeRunsOnTheRequestedThreadCount) {
  kernels::ThreadScope scope(4);
  EXPECT_EQ(scope.threads(), 4);
  kernels::ThreadScope defaults(0);
  EXPECT_EQ(defaults.threads(), kernels::available_cores());
}

}  // namespace
}  // namespace dtrain
