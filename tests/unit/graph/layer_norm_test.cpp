// layer_norm and rms_norm (src/graph/ops/layer_norm.cpp): finite-difference
// gradients with respect to x, gamma/beta (scale) with each of them present or
// not, at ranks 2 to 4; shape and argument errors; the same bits with 1 and 4
// threads. Forward values against the reference script:
// tests/unit/layers/layer_normalization_test.cpp.
#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "support/grad_check.hpp"
#include "support/graph_values.hpp"

#include <gtest/gtest.h>

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
using testing::GradCheckOptions;
using testing::gradients_ok;
using Ids = std::vector<NodeId>;

const std::vector<Shape> kShapes = {Shape{4, 5}, Shape{2, 3, 4}, Shape{2, 2, 3, 6}, Shape{3, 1}, Shape{1, 2}};

TEST(LayerNormGradient, WithRespectToXGammaBetaWithEachOnAndOff) {
  for (const Shape& s : kShapes) {
    const auto c = s[s.rank() - 1];
    for (bool scale : {true, false}) {
      for (bool center : {true, false}) {
        std::vector<Shape> shapes{s};
        if (scale) shapes.push_back({c});
        if (center) shapes.push_back({c});
        const auto r = check_gradients(shapes, [&](auto& g, const Ids& in) {
          const NodeId gamma = scale ? in[1] : -1;
          const NodeId beta = center ? in[scale ? 2 : 1] : -1;
          return graph::layer_norm(g, in[0], gamma, beta, 1e-3);
        });
        EXPECT_TRUE(gradients_ok(r)) << s.str() << " scale " << scale << " center " << center;
      }
    }
  }
}

TEST(LayerNormGradient, SmallEpsilonAndAnOffsetRow) {
  // Rows far from zero mean and epsilon 1e-6: the centring must be exact.
  GradCheckOptions o;
  o.lo = 4.0;
  o.hi = 6.0;
  const auto r = check_gradients({{3, 8}, {8}, {8}}, [](auto& g, const Ids& in) {
    return graph::layer_norm(g, in[0], in[1], in[2], 1e-6);
  }, o);
  EXPECT_TRUE(gradients_ok(r));
}

TEST(RmsNormGradient, WithRespectToXAndScaleWithAndWithoutScale) {
  for (const Shape& s : kShapes) {
    const auto c = s[s.rank() - 1];
    EXPECT_TRUE(gradients_ok(check_gradients(
        {s, {c}}, [](auto& g, const Ids& in) { return graph::rms_norm(g, in[0], in[1], 1e-6); })))
        << s.str();
    EXPECT_TRUE(gradients_ok(
        check_gradients({s}, [](auto& g, const Ids& in) { return graph::rms_norm(g, in[0], -1, 1e-3); })))
        << s.str();
  }
}

TEST(LayerNormValues, OneRowByHand) {
  // x = [1, 2, 3, 6]: mean 3, biased var (4 + 1 + 0 + 9)/4 = 3.5.
  //   layer_norm: y_j = gamma_j (x_j - 3)/sqrt(3.5 + eps) + beta_j
  //   rms_norm:   mean(x²) = (1 + 4 + 9 + 36)/4 = 12.5, y_j = x_j/sqrt(12.5 + eps)·scale_j
  Graph<double> g;
  const auto x = g.input("x", {kBatch, 4});
  const auto gamma = g.parameter("gamma", {4});
  const auto beta = g.parameter("beta", {4});
  const auto ln = graph::layer_norm(g, x, gamma, beta, 1e-3);
  const auto rms = graph::rms_norm(g, x, gamma, 1e-6);
  g.plan(1);
  const double xs[4] = {1, 2, 3, 6}, gs[4] = {2, 1, 1, -1}, bs[4] = {0.5, 0, 0, 1};
  std::copy(xs, xs + 4, g.value(x).data);
  std::copy(gs, gs + 4, g.value(gamma).data);
  std::copy(bs, bs + 4, g.value(beta).data);
  g.forward(true);
  for (int j = 0; j < 4; ++j) {
    EXPECT_NEAR(g.value(ln).data[j], gs[j] * (xs[j] - 3) / std::sqrt(3.501) + bs[j], 1e-14) << j;
    EXPECT_NEAR(g.value(rms).data[j], xs[j] / std::sqrt(12.500001) * gs[j], 1e-14) << j;
  }
}

TEST(LayerNormErrors, NameTheOpTheShapesAndTheArgument) {
  Graph<float> g;
  const auto x = g.input("x", {kBatch, 5, 8});
  const auto v8 = g.parameter("v8", {8});
  const auto v4 = g.parameter("v4", {4});
  try {
    graph::layer_norm(g, x, v8, v4);
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    for (const char* part : {"layer_norm", "8 features", "[batch, 5, 8]", "[4]"}) {
      EXPECT_NE(msg.find(part), std::string::npos) << part << " not in: " << msg;
    }
  }
  try {
    graph::rms_norm(g, x, v4);
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("rms_norm: scale must be"), std::string::npos) << e.what();
  }
  for (double eps : {0.0, -1e-3}) {
    try {
      graph::layer_norm(g, x, v8, v8, eps);
      ADD_FAILURE() << "epsilon " << eps << " accepted";
    } catch (const ArgumentError& e) {
      EXPECT_NE(std::string(e.what()).find("layer_norm: epsilon must be positive"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(graph::rms_norm(g, x, v8, 0.0), ArgumentError);
}

// x [300, 7, 7, 16] (14700 rows of 16 features, 15 row blocks, the last short),
// and [300, 3, 700] (rows longer than a row block wants). Output, x gradient
// and parameter gradients of layer_norm (with gamma, beta) then rms_norm.
std::vector<float> run_norms(int threads, const Shape& sample) {
  std::vector<float> r;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    std::vector<std::int64_t> dims{kBatch};
    for (auto d : sample.to_vector()) dims.push_back(d);
    const auto c = sample[sample.rank() - 1];
    Graph<float> g;
    const auto x = g.input("x", Shape(dims), true);
    const auto gamma = g.parameter("ln/gamma", {c});
    const auto beta = g.parameter("ln/beta", {c});
    const auto scale = g.parameter("rms/scale", {c});
    const auto y = graph::layer_norm(g, x, gamma, beta);
    const auto z = graph::rms_norm(g, y, scale);
    const auto p = g.input("p", g.shape(z));
    const auto loss = graph::sum(g, graph::mul(g, z, p));
    g.plan(300);
    std::mt19937 rng(4);
    std::normal_distribution<float> nd(0.5f, 2.0f);
    testing::fill_parameters(g, rng, nd);
    testing::fill_values(g, {x, p}, rng, nd);
    g.forward(true);
    g.backward(loss);
    r.assign(g.value(z).data, g.value(z).data + g.value(z).size());
    r.insert(r.end(), g.value(y).data, g.value(y).data + g.value(y).size());
    r.insert(r.end(), g.grad(x).data, g.grad(x).data + g.grad(x).size());
    r.insert(r.end(), g.parameter_grads().begin(), g.parameter_grads().end());
  });
  return r;
}

TEST(LayerNormDeterminism, OneAndFourThreadsGiveTheSameBits) {
  for (const Shape& s : {Shape{7, 7, 16}, Shape{3, 700}}) {
    const auto one = run_norms(1, s), four = run_norms(4, s);
    ASSERT_FALSE(one.empty());
    ASSERT_EQ(one.size(), four.size());
    EXPECT_EQ(0, std::memcmp(one.data(), four.data(), one.size() * sizeof(float))) << s.str();
  }
}

}  // namespace
}  // namespace dtrain
