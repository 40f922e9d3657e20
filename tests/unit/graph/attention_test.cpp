// scaled_dot_product_attention (src/graph/ops/attention.cpp): finite-difference
// gradients with respect to q, k and v, with and without the causal mask, for
// tq == tk and tq != tk; shape errors; the same bits with 1 and 4 threads.
// Forward values against Keras' formulas: tests/unit/layers/attention_test.cpp.
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "support/grad_check.hpp"
#include "support/graph_values.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace dtrain {
namespace {

using graph::Graph;
using graph::kBatch;
using graph::NodeId;
using testing::check_gradients;
using testing::gradients_ok;
using Ids = std::vector<NodeId>;

struct Case {
  std::int64_t b, tq, tk, h, d, dv;
};

TEST(AttentionGradient, WithRespectToQKVWithAndWithoutTheCausalMask) {
  for (const Case& s : {Case{2, 4, 4, 3, 5, 2}, Case{1, 3, 5, 2, 4, 3}, Case{2, 5, 3, 1, 2, 4}, Case{3, 1, 1, 2, 3, 3}}) {
    for (bool causal : {false, true}) {
      testing::GradCheckOptions o;
      o.lo = -2.0;  // scores of a few units: the softmax far from uniform
      o.hi = 2.0;
      const auto r = check_gradients(
          {{s.b, s.tq, s.h, s.d}, {s.b, s.tk, s.h, s.d}, {s.b, s.tk, s.h, s.dv}},
          [&](auto& g, const Ids& in) { return graph::scaled_dot_product_attention(g, in[0], in[1], in[2], causal); },
          o);
      EXPECT_TRUE(gradients_ok(r)) << "b " << s.b << " tq " << s.tq << " tk " << s.tk << " causal " << causal;
    }
  }
}

TEST(Attention, ACausalFirstQueryCopiesTheFirstValue) {
  // Query 0 sees key 0 only: its output is v_0 whatever the scores.
  Graph<double> g;
  const auto q = g.input("q", {kBatch, 3, 2, 4});
  const auto k = g.input("k", {kBatch, 3, 2, 4});
  const auto v = g.input("v", {kBatch, 3, 2, 5});
  const auto y = graph::scaled_dot_product_attention(g, q, k, v, true);
  EXPECT_EQ(g.shape(y), (Shape{kBatch, 3, 2, 5}));
  g.plan(2);
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(-3, 3);
  testing::fill_values(g, {q, k, v}, rng, u);
  g.forward();
  for (std::int64_t b = 0; b < 2; ++b) {
    for (std::int64_t h = 0; h < 2; ++h) {
      for (std::int64_t e = 0; e < 5; ++e) {
        const auto at = ((b * 3 + 0) * 2 + h) * 5 + e;
        EXPECT_DOUBLE_EQ(g.value(y).data[at], g.value(v).data[at]);
      }
    }
  }
}

std::string shape_error(const Shape& q, const Shape& k, const Shape& v) {
  Graph<float> g;
  try {
    graph::scaled_dot_product_attention(g, g.input("q", q), g.input("k", k), g.input("v", v));
  } catch (const ShapeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Attention, ShapeErrorsNameTheOpAndTheShapes) {
  EXPECT_EQ(shape_error({kBatch, 4, 2, 3}, {kBatch, 5, 2, 3}, {kBatch, 5, 2, 7}), "no error");
  const auto rank = shape_error({kBatch, 4, 6}, {kBatch, 4, 6}, {kBatch, 4, 6});
  EXPECT_NE(rank.find("scaled_dot_product_attention"), std::string::npos) << rank;
  EXPECT_NE(rank.find("[batch, time, heads, channels]"), std::string::npos) << rank;
  EXPECT_NE(shape_error({kBatch, 4, 2, 3}, {kBatch, 4, 3, 3}, {kBatch, 4, 3, 3}).find("head counts differ"),
            std::string::npos);
  EXPECT_NE(shape_error({kBatch, 4, 2, 3}, {kBatch, 4, 2, 4}, {kBatch, 4, 2, 3}).find("same channel count"),
            std::string::npos);
  EXPECT_NE(shape_error({kBatch, 4, 2, 3}, {kBatch, 4, 2, 3}, {kBatch, 5, 2, 3}).find("same time length"),
            std::string::npos);
}

std::vector<float> run_attention(int threads) {
  std::vector<float> r;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    Graph<float> g;
    const auto q = g.input("q", {kBatch, 7, 4, 8}, true);
    const auto k = g.input("k", {kBatch, 9, 4, 8}, true);
    const auto v = g.input("v", {kBatch, 9, 4, 6}, true);
    const auto y = graph::scaled_dot_product_attention(g, q, k, v, true);
    const auto p = g.input("p", g.shape(y));
    const auto loss = graph::sum(g, graph::mul(g, y, p));
    g.plan(13);
    std::mt19937 rng(4);
    std::normal_distribution<float> nd(0.0f, 1.5f);
    testing::fill_values(g, {q, k, v, p}, rng, nd);
    g.forward(true);
    g.backward(loss);
    for (auto id : {y}) r.insert(r.end(), g.value(id).data, g.value(id).data + g.value(id).size());
    for (auto id : {q, k, v}) r.insert(r.end(), g.grad(id).data, g.grad(id).data + g.grad(id).size());
  });
  return r;
}

TEST(Attention, BitwiseTheSameWithOneAndFourThreads) {
  const auto one = run_attention(1), four = run_attention(4);
  ASSERT_EQ(one.size(), four.size());
  EXPECT_EQ(0, std::memcmp(one.data(), four.data(), one.size() * sizeof(float)));
}

}  // namespace
}  // namespace dtrain
