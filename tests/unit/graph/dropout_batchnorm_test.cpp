// dropout and batch_norm: finite-difference gradients in training and inference,
// the dropout mask's statistics and its dependence on (seed, step), moving
// statistics after one step by hand, shape errors, and bitwise-identical
// batch_norm results with 1 and 2 threads.
#include "dtrain/core/error.hpp"
#include "dtrain/core/random.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "support/grad_check.hpp"
#include "support/graph_values.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace dtrain {
namespace {

using graph::Graph;
using graph::kBatch;
using graph::NodeId;
using testing::check_gradients;
using testing::GradCheckOptions;
using Ids = std::vector<NodeId>;

using testing::gradients_ok;

// ---------------------------------------------------------------- dropout

TEST(DropoutGradient, TrainingWithAFixedMaskAndInference) {
  // The checker runs at step 7 throughout: the mask is fixed, so the op is linear in x.
  for (bool training : {true, false}) {
    GradCheckOptions o;
    o.training = training;
    for (const Shape& s : {Shape{4, 50}, Shape{2, 3, 5, 4}}) {
      EXPECT_TRUE(gradients_ok(check_gradients(
          {s}, [](auto& g, const Ids& in) { return graph::dropout(g, in[0], 0.3, 1234); }, o)))
          << (training ? "training" : "inference") << " " << s.str();
    }
  }
}

// y = dropout(x = 1) on [rows, 100] at the given step.
std::vector<float> dropout_ones(std::int64_t rows, double rate, std::uint64_t seed, std::uint64_t step,
                                bool training) {
  Graph<float> g;
  const auto x = g.input("x", {kBatch, 100});
  const auto y = graph::dropout(g, x, rate, seed);
  g.plan(rows);
  std::fill_n(g.value(x).data, g.value(x).size(), 1.0f);
  g.set_step(step);
  g.forward(training);
  return {g.value(y).data, g.value(y).data + g.value(y).size()};
}

TEST(DropoutValues, KeepsAboutOneMinusRateAndScalesThem) {
  // 10^5 elements, rate 0.3: the kept fraction is 0.7 ± sqrt(0.7·0.3/10^5) ≈ ±0.0015
  // (one standard deviation); 0.01 is more than 6 of them.
  const double rate = 0.3;
  const auto y = dropout_ones(1000, rate, 42, 0, true);
  const float kept_value = static_cast<float>(1.0 / (1.0 - rate));
  std::int64_t kept = 0;
  for (float v : y) {
    ASSERT_TRUE(v == 0.0f || v == kept_value) << v;
    kept += v != 0.0f;
  }
  const double fraction = static_cast<double>(kept) / static_cast<double>(y.size());
  EXPECT_NEAR(fraction, 1.0 - rate, 0.01);
  // Element i is dropped exactly when to_unit(random_bits(seed, step, i)) < rate.
  for (std::size_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(y[i] == 0.0f, to_unit(random_bits(42, 0, i)) < rate) << i;
  }
}

TEST(DropoutValues, MaskDependsOnSeedAndStepOnly) {
  const auto a = dropout_ones(50, 0.5, 7, 3, true);
  const auto again = dropout_ones(50, 0.5, 7, 3, true);
  const auto next_step = dropout_ones(50, 0.5, 7, 4, true);
  const auto other_seed = dropout_ones(50, 0.5, 8, 3, true);
  EXPECT_EQ(a, again);
  // Independent masks at rate 0.5 differ in half of the 5000 places.
  auto differing = [&](const std::vector<float>& b) {
    std::int64_t n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) n += (a[i] == 0.0f) != (b[i] == 0.0f);
    return n;
  };
  EXPECT_GT(differing(next_step), 2000);
  EXPECT_GT(differing(other_seed), 2000);
}

TEST(DropoutValues, InferenceIsTheIdentityAndRateZeroKeepsAll) {
  for (float v : dropout_ones(10, 0.5, 1, 0, false)) EXPECT_EQ(v, 1.0f);
  for (float v : dropout_ones(10, 0.0, 1, 0, true)) EXPECT_EQ(v, 1.0f);
}

TEST(DropoutValues, RateOutsideZeroOneIsAnArgumentError) {
  Graph<float> g;
  const auto x = g.input("x", {kBatch, 3});
  for (double rate : {1.0, -0.1, std::nan("")}) {
    try {
      graph::dropout(g, x, rate, 1);
      ADD_FAILURE() << "rate " << rate << " accepted";
    } catch (const ArgumentError& e) {
      EXPECT_NE(std::string(e.what()).find("dropout: rate"), std::string::npos) << e.what();
    }
  }
}

// ---------------------------------------------------------------- batch norm

TEST(BatchNormGradient, TrainingWithRespectToXGammaBeta) {
  // Moving statistics are non-trainable parameters, as in a model.
  for (const Shape& s : {Shape{6, 4}, Shape{3, 2, 2, 3}, Shape{2, 5}}) {
    const auto c = s[s.rank() - 1];
    EXPECT_TRUE(gradients_ok(check_gradients({s, {c}, {c}}, [c](auto& g, const Ids& in) {
      const auto mm = g.parameter("moving_mean", {c}, false);
      const auto mv = g.parameter("moving_var", {c}, false);
      return graph::batch_norm(g, in[0], in[1], in[2], mm, mv, 0.9, 1e-3);
    }))) << s.str();
  }
}

TEST(BatchNormGradient, InferenceWithRespectToEveryInput) {
  GradCheckOptions o;
  o.training = false;
  for (const Shape& s : {Shape{5, 3}, Shape{2, 3, 2, 4}}) {
    const auto c = s[s.rank() - 1];
    const auto r = check_gradients(
        {s, {c}, {c}, {c}, {c}},
        [](auto& g, const Ids& in) { return graph::batch_norm(g, in[0], in[1], in[2], in[3], in[4]); }, o,
        [](Graph<double>& g, const Ids& in) {  // a positive moving variance
          auto v = g.value(in[4]);
          for (std::int64_t i = 0; i < v.size(); ++i) v.data[i] = 0.5 + 0.3 * static_cast<double>(i);
        });
    EXPECT_TRUE(gradients_ok(r)) << s.str();
  }
}

TEST(BatchNormValues, MovingStatisticsAfterOneStepByHand) {
  // x [4, 2]:  channel 0 = 1, 2, 3, 6;  channel 1 = 10, 20, 30, 40.
  //   mean = [12/4, 100/4] = [3, 25]
  //   biased var: ch0 ((-2)² + (-1)² + 0² + 3²)/4 = 14/4 = 3.5
  //               ch1 ((-15)² + (-5)² + 5² + 15²)/4 = 500/4 = 125
  // momentum 0.9, moving_mean = [0, 1], moving_var = [1, 1] before:
  //   moving_mean = [0·0.9 + 3·0.1, 1·0.9 + 25·0.1] = [0.3, 3.4]
  //   moving_var  = [1·0.9 + 3.5·0.1, 1·0.9 + 125·0.1] = [1.25, 13.4]
  // gamma = [2, 1], beta = [0.5, 0]: y(0, 0) = 2·(1 - 3)/sqrt(3.5 + 0.001) + 0.5.
  Graph<double> g;
  const auto x = g.input("x", {kBatch, 2});
  const auto gamma = g.parameter("gamma", {2});
  const auto beta = g.parameter("beta", {2});
  const auto mm = g.parameter("moving_mean", {2}, false);
  const auto mv = g.parameter("moving_var", {2}, false);
  const auto y = graph::batch_norm(g, x, gamma, beta, mm, mv, 0.9, 1e-3);
  g.plan(4);
  const double xs[8] = {1, 10, 2, 20, 3, 30, 6, 40};
  std::copy(xs, xs + 8, g.value(x).data);
  g.value(gamma).data[0] = 2;
  g.value(gamma).data[1] = 1;
  g.value(beta).data[0] = 0.5;
  g.value(mm).data[1] = 1;
  g.value(mv).data[0] = 1;
  g.value(mv).data[1] = 1;
  g.forward(true);
  EXPECT_NEAR(g.value(mm).data[0], 0.3, 1e-15);
  EXPECT_NEAR(g.value(mm).data[1], 3.4, 1e-14);
  EXPECT_NEAR(g.value(mv).data[0], 1.25, 1e-15);
  EXPECT_NEAR(g.value(mv).data[1], 13.4, 1e-14);
  EXPECT_NEAR(g.value(y).data[0], 2 * (1 - 3) / std::sqrt(3.501) + 0.5, 1e-14);
  EXPECT_NEAR(g.value(y).data[7], (40 - 25) / std::sqrt(125.001), 1e-14);
  // Inference uses (and leaves alone) the moving statistics:
  //   y(0, 0) = 2·(1 - 0.3)/sqrt(1.25 + 0.001) + 0.5.
  g.forward(false);
  EXPECT_NEAR(g.value(mm).data[0], 0.3, 1e-15);
  EXPECT_NEAR(g.value(mv).data[1], 13.4, 1e-14);
  EXPECT_NEAR(g.value(y).data[0], 2 * (1 - 0.3) / std::sqrt(1.251) + 0.5, 1e-14);
  EXPECT_NEAR(g.value(y).data[1], (10 - 3.4) / std::sqrt(13.401), 1e-14);
}

TEST(BatchNormErrors, NameTheOpAndTheShapes) {
  Graph<float> g;
  const auto x = g.input("x", {kBatch, 5, 5, 8});
  const auto v8 = g.parameter("v8", {8});
  const auto v4 = g.parameter("v4", {4});
  try {
    graph::batch_norm(g, x, v8, v8, v4, v8);
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    for (const char* part : {"batch_norm", "8 channels", "[batch, 5, 5, 8]", "[4]"}) {
      EXPECT_NE(msg.find(part), std::string::npos) << part << " not in: " << msg;
    }
  }
  EXPECT_THROW(graph::batch_norm(g, x, v8, v8, v8, v8, 1.5), ArgumentError);
  EXPECT_THROW(graph::batch_norm(g, x, v8, v8, v8, v8, 0.99, 0.0), ArgumentError);
}

struct BnRun {
  std::vector<float> out, grads, dx;
};

// x [300, 7, 7, 16]: 14700 rows of 16 channels, 15 row blocks (the last short).
BnRun run_batch_norm(int threads) {
  BnRun r;
  kernels::ThreadScope scope(threads);
  scope.run([&] {
    Graph<float> g;
    const auto x = g.input("x", {kBatch, 7, 7, 16}, true);
    const auto gamma = g.parameter("bn/gamma", {16});
    const auto beta = g.parameter("bn/beta", {16});
    const auto mm = g.parameter("bn/moving_mean", {16}, false);
    const auto mv = g.parameter("bn/moving_var", {16}, false);
    const auto y = graph::batch_norm(g, x, gamma, beta, mm, mv);
    const auto p = g.input("p", g.shape(y));
    const auto loss = graph::sum(g, graph::mul(g, y, p));
    g.plan(300);
    std::mt19937 rng(4);
    std::normal_distribution<float> nd(0.5f, 2.0f);
    testing::fill_parameters(g, rng, nd);
    testing::fill_values(g, {x, p}, rng, nd);
    g.forward(true);
    g.backward(loss);
    r.out.assign(g.value(y).data, g.value(y).data + g.value(y).size());
    // The parameter arenas hold gamma/beta gradients and the moving statistics' values.
    r.grads.assign(g.parameter_grads().begin(), g.parameter_grads().end());
    r.grads.insert(r.grads.end(), g.parameter_values().begin(), g.parameter_values().end());
    r.dx.assign(g.grad(x).data, g.grad(x).data + g.grad(x).size());
  });
  return r;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(BatchNormDeterminism, OneAndTwoThreadsGiveTheSameBits) {
  const auto one = run_batch_norm(1);
  const auto two = run_batch_norm(2);
  ASSERT_FALSE(one.out.empty());
  EXPECT_TRUE(same_bits(one.out, two.out));
  EXPECT_TRUE(same_bits(one.grads, two.grads));
  EXPECT_TRUE(same_bits(one.dx, two.dx));
}

}  // namespace
}  // namespace dtrain
