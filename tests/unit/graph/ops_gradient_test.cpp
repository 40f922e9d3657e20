// Finite-difference gradient checks (double precision) for every graph op.
#include "support/grad_check.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <vector>

namespace dtrain {
namespace {

using graph::Graph;
using graph::NodeId;
using testing::check_gradients;
using testing::GradCheckOptions;
using Ids = std::vector<NodeId>;

using testing::gradients_ok;
#define EXPECT_GRADIENTS_OK(result) EXPECT_TRUE(gradients_ok(result))

using UnaryBuilder = NodeId (*)(Graph<double>&, NodeId);

struct UnaryCase {
  const char* name;
  UnaryBuilder build;
  GradCheckOptions opt;
};
void PrintTo(const UnaryCase& c, std::ostream* os) { *os << c.name; }

class UnaryOpGradient : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryOpGradient, MatchesFiniteDifferences) {
  const auto& c = GetParam();
  for (const Shape& s : {Shape{3, 4}, Shape{2, 3, 5}, Shape{1, 1}}) {
    EXPECT_GRADIENTS_OK(check_gradients({s}, [&](auto& g, const Ids& in) { return c.build(g, in[0]); }, c.opt))
        << c.name << " shape " << s.str();
  }
}

GradCheckOptions kinked() {
  GradCheckOptions o;
  o.min_abs = 0.05;
  return o;
}
GradCheckOptions positive() {
  GradCheckOptions o;
  o.lo = 0.2;
  o.hi = 3.0;
  return o;
}
GradCheckOptions wide() {
  GradCheckOptions o;
  o.lo = -4;
  o.hi = 4;
  o.min_abs = 0.05;
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Ops, UnaryOpGradient,
    ::testing::Values(
        UnaryCase{"scale", [](Graph<double>& g, NodeId x) { return graph::scale(g, x, -2.5); }, {}},
        UnaryCase{"relu", [](Graph<double>& g, NodeId x) { return graph::relu(g, x); }, kinked()},
        UnaryCase{"leaky_relu", [](Graph<double>& g, NodeId x) { return graph::leaky_relu(g, x, 0.1); }, kinked()},
        UnaryCase{"elu", [](Graph<double>& g, NodeId x) { return graph::elu(g, x, 1.5); }, wide()},
        UnaryCase{"gelu", [](Graph<double>& g, NodeId x) { return graph::gelu(g, x); }, wide()},
        UnaryCase{"gelu_approximate", [](Graph<double>& g, NodeId x) { return graph::gelu(g, x, true); }, wide()},
        UnaryCase{"silu", [](Graph<double>& g, NodeId x) { return graph::silu(g, x); }, wide()},
        UnaryCase{"sigmoid", [](Graph<double>& g, NodeId x) { return graph::sigmoid(g, x); }, wide()},
        UnaryCase{"tanh", [](Graph<double>& g, NodeId x) { return graph::tanh(g, x); }, wide()},
        UnaryCase{"softplus", [](Graph<double>& g, NodeId x) { return graph::softplus(g, x); }, wide()},
        UnaryCase{"abs", [](Graph<double>& g, NodeId x) { return graph::abs(g, x); }, kinked()},
        UnaryCase{"square", [](Graph<double>& g, NodeId x) { return graph::square(g, x); }, wide()},
        UnaryCase{"exp", [](Graph<double>& g, NodeId x) { return graph::exp(g, x); }, {}},
        UnaryCase{"log", [](Graph<double>& g, NodeId x) { return graph::log(g, x); }, positive()},
        UnaryCase{"softmax", [](Graph<double>& g, NodeId x) { return graph::softmax(g, x); }, wide()},
        UnaryCase{"log_softmax", [](Graph<double>& g, NodeId x) { return graph::log_softmax(g, x); }, wide()},
        UnaryCase{"sum", [](Graph<double>& g, NodeId x) { return graph::sum(g, x); }, {}},
        UnaryCase{"mean", [](Graph<double>& g, NodeId x) { return graph::mean(g, x); }, {}},
        UnaryCase{"sum_axis0", [](Graph<double>& g, NodeId x) { return graph::sum(g, x, 0); }, {}},
        UnaryCase{"mean_axis_last", [](Graph<double>& g, NodeId x) { return graph::mean(g, x, -1); }, {}},
        UnaryCase{"flatten", [](Graph<double>& g, NodeId x) { return graph::flatten(g, x); }, {}},
        UnaryCase{"slice_last", [](Graph<double>& g, NodeId x) {
          const auto& s = g.shape(x);
          return graph::slice(g, x, -1, 0, s[s.rank() - 1]);
        }, {}}),
    [](const auto& p) { return std::string(p.param.name); });

// Activations at fixed points out to |x| = 40, where exp overflows float and the
// curves saturate: the analytic derivative (e.g. 0 or 1, or 1e-17) must still match.
TEST(OpGradient, ActivationsAtLargeMagnitudes) {
  const std::vector<double> xs = {-40, -25, -12, -6, -2.5, -0.7, 0.3, 1.5, 4, 9, 20, 40};
  const auto at_fixed_points = [&](Graph<double>& g, const Ids& in) {
    auto v = g.value(in[0]);
    for (std::int64_t i = 0; i < v.size(); ++i) v.data[i] = xs[static_cast<std::size_t>(i)];
  };
  const std::vector<UnaryCase> cases = {
      {"gelu", [](Graph<double>& g, NodeId x) { return graph::gelu(g, x); }, {}},
      {"gelu_approximate", [](Graph<double>& g, NodeId x) { return graph::gelu(g, x, true); }, {}},
      {"silu", [](Graph<double>& g, NodeId x) { return graph::silu(g, x); }, {}},
      {"softplus", [](Graph<double>& g, NodeId x) { return graph::softplus(g, x); }, {}},
      {"sigmoid", [](Graph<double>& g, NodeId x) { return graph::sigmoid(g, x); }, {}},
      {"log_softmax", [](Graph<double>& g, NodeId x) { return graph::log_softmax(g, x); }, {}},
      {"softmax", [](Graph<double>& g, NodeId x) { return graph::softmax(g, x); }, {}}};
  for (const auto& c : cases) {
    // [3, 4] rows for log_softmax/softmax mix large and small logits; [1, 12] one row.
    for (const Shape& s : {Shape{3, 4}, Shape{1, 12}}) {
      EXPECT_GRADIENTS_OK(check_gradients({s}, [&](auto& g, const Ids& in) { return c.build(g, in[0]); }, c.opt,
                                          at_fixed_points))
          << c.name << " shape " << s.str();
    }
  }
}

TEST(OpGradient, MatMul) {
  for (auto [m, k, n] : {std::tuple{3, 4, 5}, std::tuple{1, 7, 2}, std::tuple{40, 33, 3}}) {
    EXPECT_GRADIENTS_OK(check_gradients({{m, k}, {k, n}},
                                        [](auto& g, const Ids& in) { return graph::matmul(g, in[0], in[1]); }));
  }
}

// embedding: d(table) only (ids are held fixed: a step of h would make them
// fractional); ids repeat, and [2, 3, 2] ids give a rank-4 output.
TEST(OpGradient, EmbeddingWithRepeatedIds) {
  GradCheckOptions o;
  o.constant_inputs = {0};
  const std::vector<double> ids = {3, 0, 3, 3, 1, 0, 2, 3, 0, 0, 1, 3};
  const auto r = check_gradients(
      {{2, 3, 2}, {4, 5}}, [](auto& g, const Ids& in) { return graph::embedding(g, in[0], in[1]); }, o,
      [&](Graph<double>& g, const Ids& in) { std::copy(ids.begin(), ids.end(), g.value(in[0]).data); });
  EXPECT_GRADIENTS_OK(r);
  EXPECT_EQ(r.checked, 20u);
}

TEST(OpGradient, MatMulAcrossSeveralRowBlocks) {
  // 70 rows > kGemmRowBlock, 300 > kGemmTnRowBlock: exercises block edges.
  GradCheckOptions o;
  o.floor = 1e-2;
  EXPECT_GRADIENTS_OK(check_gradients({{70, 300}, {300, 3}},
                                      [](auto& g, const Ids& in) { return graph::matmul(g, in[0], in[1]); }, o));
}

TEST(OpGradient, MatMulOverLeadingAxes) {
  // a [b, t, k] · w [k, n] -> [b, t, n]: every leading axis is a row.
  EXPECT_GRADIENTS_OK(check_gradients({{3, 5, 4}, {4, 2}},
                                      [](auto& g, const Ids& in) { return graph::matmul(g, in[0], in[1]); }));
  EXPECT_GRADIENTS_OK(check_gradients({{2, 3, 2, 4}, {4, 3}},
                                      [](auto& g, const Ids& in) { return graph::matmul(g, in[0], in[1]); }));
}

TEST(OpGradient, MatMulOfRankThreeIsTheFlatProductBitForBit) {
  // [8, 40, 33] and [320, 33] (several row blocks of gemm_nn and gemm_tn): the same
  // values and gradients to the bit, in float. The rank-3 input is viewed, not copied.
  auto run = [](const Shape& xs) {
    graph::Graph<float> g;
    const auto x = g.input("x", xs, true);
    const auto w = g.input("w", {33, 7}, true);
    const auto y = graph::matmul(g, x, w);
    const auto loss = graph::sum(g, graph::square(g, y));
    g.plan(xs[0]);
    auto xv = g.value(x);
    for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = std::sin(0.37f * static_cast<float>(i));
    auto wv = g.value(w);
    for (std::int64_t i = 0; i < wv.size(); ++i) wv.data[i] = std::cos(0.11f * static_cast<float>(i));
    g.forward();
    g.backward(loss);
    std::vector<float> out(g.value(y).data, g.value(y).data + g.value(y).size());
    out.insert(out.end(), g.grad(x).data, g.grad(x).data + g.grad(x).size());
    out.insert(out.end(), g.grad(w).data, g.grad(w).data + g.grad(w).size());
    return out;
  };
  EXPECT_EQ(run({8, 40, 33}), run({320, 33}));
}

TEST(OpGradient, BiasAdd) {
  for (const Shape& s : {Shape{4, 3}, Shape{2, 3, 5}}) {
    EXPECT_GRADIENTS_OK(check_gradients({s, {s[s.rank() - 1]}},
                                        [](auto& g, const Ids& in) { return graph::bias_add(g, in[0], in[1]); }));
  }
}

TEST(OpGradient, BiasRelu) {
  // 10·x keeps x + b away from relu's kink (|10x| >= 4 > |b|), both signs.
  GradCheckOptions o;
  o.min_abs = 0.4;
  for (const Shape& s : {Shape{4, 3}, Shape{2, 3, 5}}) {
    EXPECT_GRADIENTS_OK(check_gradients(
        {s, {s[s.rank() - 1]}},
        [](auto& g, const Ids& in) { return graph::bias_relu(g, graph::scale(g, in[0], 10.0), in[1]); }, o));
  }
}

TEST(OpGradient, BiasReluEqualsReluOfBiasAddAcrossRowBlocks) {
  // 37 x 1024: row blocks of 16 rows (bias gradient summed per block, then in
  // block order); the same values as relu(bias_add) up to rounding.
  auto run = [](bool fused) {
    graph::Graph<double> g;
    const auto x = g.input("x", {37, 1024}, true);
    const auto b = g.parameter("b", {1024});
    const auto y = fused ? graph::bias_relu(g, x, b) : graph::relu(g, graph::bias_add(g, x, b));
    const auto loss = graph::sum(g, graph::square(g, y));
    g.plan(37);
    auto xv = g.value(x);
    for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = std::sin(0.7 * static_cast<double>(i));
    auto bv = g.parameter_values();
    for (std::size_t i = 0; i < bv.size(); ++i) bv[i] = 0.3 * std::cos(0.3 * static_cast<double>(i));
    g.forward();
    g.backward(loss);
    std::vector<double> out(g.grad(x).data, g.grad(x).data + g.grad(x).size());
    out.insert(out.end(), g.parameter_grads().begin(), g.parameter_grads().end());
    return out;
  };
  const auto fused = run(true), plain = run(false);
  ASSERT_EQ(fused.size(), plain.size());
  for (std::size_t i = 0; i < fused.size(); ++i) ASSERT_NEAR(fused[i], plain[i], 1e-9 * (1 + std::abs(plain[i]))) << i;
}

TEST(OpGradient, AddSubMul) {
  for (const Shape& s : {Shape{4, 3}, Shape{2, 3, 2}}) {
    EXPECT_GRADIENTS_OK(check_gradients({s, s}, [](auto& g, const Ids& in) { return graph::add(g, in[0], in[1]); }));
    EXPECT_GRADIENTS_OK(check_gradients({s, s}, [](auto& g, const Ids& in) { return graph::sub(g, in[0], in[1]); }));
    EXPECT_GRADIENTS_OK(check_gradients({s, s}, [](auto& g, const Ids& in) { return graph::mul(g, in[0], in[1]); }));
  }
}

TEST(OpGradient, MulOfAValueWithItself) {
  // Both inputs of one op are the same node: the two contributions must add.
  EXPECT_GRADIENTS_OK(check_gradients({{3, 4}}, [](auto& g, const Ids& in) { return graph::mul(g, in[0], in[0]); }));
}

TEST(OpGradient, SumAndMeanOverMiddleAxis) {
  EXPECT_GRADIENTS_OK(check_gradients({{2, 3, 4}}, [](auto& g, const Ids& in) { return graph::sum(g, in[0], 1); }));
  EXPECT_GRADIENTS_OK(check_gradients({{2, 3, 4}}, [](auto& g, const Ids& in) { return graph::mean(g, in[0], 1); }));
}

TEST(OpGradient, SumOverManyBlocks) {
  // 3 × 2 × 16384 elements: several reduction blocks combined in order.
  GradCheckOptions o;
  EXPECT_GRADIENTS_OK(check_gradients({{3, 2, 16384}}, [](auto& g, const Ids& in) {
    return graph::slice(g, graph::scale(g, graph::sum(g, in[0], 1), 1.0), 1, 100, 110);
  }, o));
}

TEST(OpGradient, Reshape) {
  EXPECT_GRADIENTS_OK(check_gradients({{2, 12}}, [](auto& g, const Ids& in) {
    return graph::reshape(g, in[0], {3, -1});
  }));
  // A fixed-shape tensor (a parameter) as a whole: [4, 2, 3] -> [4, 6] -> [24].
  EXPECT_GRADIENTS_OK(check_gradients({{4, 2, 3}}, [](auto& g, const Ids& in) {
    return graph::reshape_to(g, graph::reshape_to(g, in[0], Shape{4, 6}), Shape{24});
  }));
}

TEST(OpGradient, ConcatOnEveryAxis) {
  for (int axis : {0, 1, 2, -1}) {
    EXPECT_GRADIENTS_OK(check_gradients({{2, 3, 4}, {2, 3, 4}, {2, 3, 4}}, [axis](auto& g, const Ids& in) {
      return graph::concat(g, in, axis);
    })) << "axis " << axis;
  }
  EXPECT_GRADIENTS_OK(check_gradients({{2, 3}, {2, 5}}, [](auto& g, const Ids& in) {
    return graph::concat(g, in, 1);
  }));
}

TEST(OpGradient, SliceInTheMiddle) {
  EXPECT_GRADIENTS_OK(check_gradients({{3, 6, 2}}, [](auto& g, const Ids& in) {
    return graph::slice(g, in[0], 1, 2, 5);
  }));
}

TEST(OpGradient, DagWithOneValueFeedingThreeConsumers) {
  // h = tanh(x·w) feeds three branches that join again: the gradient of h is
  // the sum of three contributions.
  EXPECT_GRADIENTS_OK(check_gradients({{5, 4}, {4, 6}}, [](auto& g, const Ids& in) {
    const auto h = graph::tanh(g, graph::matmul(g, in[0], in[1]));
    const auto a = graph::square(g, h);
    const auto b = graph::sigmoid(g, h);
    const auto c = graph::scale(g, h, 3.0);
    return graph::concat(g, Ids{graph::mul(g, a, b), c, h}, 1);
  }));
}

TEST(OpGradient, SoftmaxCrossEntropyChain) {
  // -mean(Σ y ⊙ log_softmax(x·w + b)): the classification loss composed of ops.
  EXPECT_GRADIENTS_OK(check_gradients({{6, 5}, {5, 4}, {4}}, [](auto& g, const Ids& in) {
    const auto logits = graph::bias_add(g, graph::matmul(g, in[0], in[1]), in[2]);
    return graph::scale(g, graph::mean(g, graph::log_softmax(g, logits)), -1.0);
  }));
}

}  // namespace
}  // namespace dtrain
