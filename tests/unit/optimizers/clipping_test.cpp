// Gradient clipping (clipvalue, clipnorm, global_clipnorm) and weight decay,
// each worked out by hand with SGD (w -= lr * g) so the clipped gradient shows
// directly in the weights.
#include "dtrain/core/error.hpp"
#include "dtrain/optimizers/adam.hpp"
#include "dtrain/optimizers/adamw.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/sgd.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace dtrain::optimizers {
namespace {

TEST(Clipping, ClipValueClipsEachElement) {
  // clipvalue 1: g = [-3, 0.5, 2, 0] -> [-1, 0.5, 1, 0]; lr 1, w0 = 0 -> w = -g'.
  SGD<double> sgd({.learning_rate = 1.0}, {.clipvalue = 1.0});
  std::vector<double> w(4, 0.0), g{-3.0, 0.5, 2.0, 0.0};
  std::vector<ParamRef<double>> params{{"w", w, g}};
  sgd.apply(params);
  EXPECT_EQ(w, (std::vector<double>{1.0, -0.5, -1.0, 0.0}));
  EXPECT_EQ(g, (std::vector<double>{-3.0, 0.5, 2.0, 0.0}));  // the gradient is not modified
}

TEST(Clipping, ClipNormIsPerVariable) {
  // clipnorm 1: a: g = [3, 4], ||g|| = 5 -> g * 1 / 5 = [0.6, 0.8];
  //             b: g = [0.3, 0.4], ||g|| = 0.5 <= 1 -> unchanged (g * 1 / max(0.5, 1)).
  SGD<double> sgd({.learning_rate = 1.0}, {.clipnorm = 1.0});
  std::vector<double> wa(2, 0.0), ga{3.0, 4.0}, wb(2, 0.0), gb{0.3, 0.4};
  std::vector<ParamRef<double>> params{{"a", wa, ga}, {"b", wb, gb}};
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(wa[0], -0.6);
  EXPECT_DOUBLE_EQ(wa[1], -0.8);
  EXPECT_DOUBLE_EQ(wb[0], -0.3);
  EXPECT_DOUBLE_EQ(wb[1], -0.4);
}

TEST(Clipping, GlobalClipNormScalesAllVariablesTogether) {
  // global_clipnorm 2.5: ||[3] ++ [4]|| = 5 -> scale 2.5 * min(1/5, 1/2.5) = 0.5:
  // g' = [1.5], [2]. Each variable alone (3 and 4) would also exceed 2.5, but
  // clipnorm would give 2.5 and 2.5: the global norm keeps the direction.
  SGD<double> sgd({.learning_rate = 1.0}, {.global_clipnorm = 2.5});
  std::vector<double> wa{0.0}, ga{3.0}, wb{0.0}, gb{4.0};
  std::vector<ParamRef<double>> params{{"a", wa, ga}, {"b", wb, gb}};
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(wa[0], -1.5);
  EXPECT_DOUBLE_EQ(wb[0], -2.0);
  // Under the limit: scale = 10 * min(1/5, 1/10) = 1, unchanged.
  SGD<double> loose({.learning_rate = 1.0}, {.global_clipnorm = 10.0});
  wa[0] = wb[0] = 0.0;
  loose.apply(params);
  EXPECT_DOUBLE_EQ(wa[0], -3.0);
  EXPECT_DOUBLE_EQ(wb[0], -4.0);
}

TEST(Clipping, NormsSpanManyBlocksAndSharedChunks) {
  // a: 40000 ones (3 blocks of 16384), ||g|| = 200; b: 3 elements [0, 0, 0].
  // global_clipnorm 100: scale 0.5 -> a's weights -0.5 each (lr 1).
  // clipnorm 100 on a alone gives the same; b's zero gradient stays zero.
  for (const bool global : {true, false}) {
    CommonOptions common;
    if (global) common.global_clipnorm = 100.0; else common.clipnorm = 100.0;
    SGD<double> sgd({.learning_rate = 1.0}, common);
    std::vector<double> wb(3, 0.0), gb(3, 0.0), wa(40000, 0.0), ga(40000, 1.0);
    std::vector<ParamRef<double>> params{{"b", wb, gb}, {"a", wa, ga}};
    sgd.apply(params);
    for (double v : wa) ASSERT_DOUBLE_EQ(v, -0.5) << (global ? "global" : "clipnorm");
    for (double v : wb) ASSERT_EQ(v, 0.0);
  }
}

TEST(Clipping, ClippedGradientFeedsTheSlots) {
  // Adam with clipnorm 1, g = [3, 4] -> [0.6, 0.8]: m = 0.1 * g' = [0.06, 0.08],
  // v = 0.001 * g'^2 = [0.00036, 0.00064].
  Adam<double> adam({.learning_rate = 0.1}, {.clipnorm = 1.0});
  std::vector<double> w(2, 0.0), g{3.0, 4.0};
  std::vector<ParamRef<double>> params{{"w", w, g}};
  adam.apply(params);
  const auto slots = adam.slots();
  ASSERT_EQ(slots.size(), 2u);
  EXPECT_EQ(slots[0].name, "w/m");
  EXPECT_NEAR(slots[0].value[0], 0.06, 1e-15);
  EXPECT_NEAR(slots[0].value[1], 0.08, 1e-15);
  EXPECT_EQ(slots[1].name, "w/v");
  EXPECT_NEAR(slots[1].value[0], 0.00036, 1e-17);
  EXPECT_NEAR(slots[1].value[1], 0.00064, 1e-17);
}

TEST(Clipping, AtMostOneClippingOption) {
  // Keras 3: "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set."
  const auto message = [](CommonOptions c) {
    try {
      SGD<float> sgd({}, c);
    } catch (const ArgumentError& e) {
      return std::string(e.what());
    }
    return std::string("no ArgumentError");
  };
  const std::string both = message({.clipnorm = 1.0, .global_clipnorm = 1.0});
  EXPECT_NE(both.find("clipnorm=1"), std::string::npos) << both;
  EXPECT_NE(both.find("global_clipnorm=1"), std::string::npos) << both;
  EXPECT_NE(message({.clipnorm = 1.0, .clipvalue = 1.0}).find("only one"), std::string::npos);
  EXPECT_NE(message({.clipnorm = 0.0}).find("clipnorm"), std::string::npos);
  EXPECT_NE(message({.clipvalue = -1.0}).find("clipvalue"), std::string::npos);
  EXPECT_NE(message({.weight_decay = -0.1}).find("weight_decay"), std::string::npos);
}

TEST(WeightDecay, DecaysBeforeTheUpdate) {
  // lr 0.1, weight_decay 0.5, w0 = 2, g = 1:
  //   decay: 2 - 2 * 0.5 * 0.1 = 1.9; update: 1.9 - 0.1 * 1 = 1.8
  //   step 2: 1.8 - 1.8 * 0.05 = 1.71; 1.71 - 0.1 = 1.61
  SGD<double> sgd({.learning_rate = 0.1}, {.weight_decay = 0.5});
  std::vector<double> w{2.0}, g{1.0};
  std::vector<ParamRef<double>> params{{"dense/kernel", w, g}};
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(w[0], 1.8);
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(w[0], 1.61);
}

TEST(WeightDecay, ExcludedVariablesAreNotDecayed) {
  // exclude_from_weight_decay({"bias"}): the kernel decays (2 -> 1.9 -> 1.8), the
  // bias does not (2 -> 1.9).
  SGD<double> sgd({.learning_rate = 0.1}, {.weight_decay = 0.5});
  sgd.exclude_from_weight_decay({"bias"});
  std::vector<double> wk{2.0}, gk{1.0}, wb{2.0}, gb{1.0};
  std::vector<ParamRef<double>> params{{"dense/kernel", wk, gk}, {"dense/bias", wb, gb}};
  sgd.apply(params);
  EXPECT_DOUBLE_EQ(wk[0], 1.8);
  EXPECT_DOUBLE_EQ(wb[0], 1.9);
  EXPECT_THROW(sgd.exclude_from_weight_decay({"kernel"}), ArgumentError);  // after build
}

// AdamW with exclude_from_weight_decay through OptimizerConfig (as the run config
// gives it): g = 0, so m = v = 0 and only the decay acts (see the next test):
// w = 1 - 1 * 0.01 * 0.1 = 0.999 for the kernel; the bias and the layer norm's
// gamma keep 1. The names survive config() -> make_optimizer (a checkpoint).
TEST(WeightDecay, ExclusionByNameFromTheConfig) {
  OptimizerConfig c{"adamw", {{"learning_rate", 0.1}, {"weight_decay", 0.01}}, std::nullopt,
                    {"bias", "gamma"}};
  auto adamw = make_optimizer<double>(c);
  EXPECT_EQ(adamw->config().exclude_from_weight_decay, (std::vector<std::string>{"bias", "gamma"}));
  auto copy = make_optimizer<double>(adamw->config());
  EXPECT_EQ(copy->config(), adamw->config());
  for (auto* opt : {adamw.get(), copy.get()}) {
    std::vector<double> wk{1.0}, wb{1.0}, wg{1.0}, wbeta{1.0}, g{0.0};
    std::vector<ParamRef<double>> params{{"dense_1/kernel", wk, g},
                                         {"dense_1/bias", wb, g},
                                         {"layer_normalization/gamma", wg, g},
                                         {"layer_normalization/beta", wbeta, g}};
    opt->apply(params);
    EXPECT_DOUBLE_EQ(wk[0], 0.999);
    EXPECT_EQ(wb[0], 1.0);
    EXPECT_EQ(wg[0], 1.0);
    EXPECT_DOUBLE_EQ(wbeta[0], 0.999);  // "beta" is not in the list
  }
  // Every optimizer takes the list (the decay is the common step 2).
  OptimizerConfig lion{"lion", {{"learning_rate", 0.1}, {"weight_decay", 0.5}}, std::nullopt, {"bias"}};
  auto l = make_optimizer<double>(lion);
  std::vector<double> wk{2.0}, wb{2.0}, g{1.0};
  std::vector<ParamRef<double>> params{{"dense/kernel", wk, g}, {"dense/bias", wb, g}};
  l->apply(params);
  EXPECT_DOUBLE_EQ(wk[0], 2.0 - 2.0 * 0.5 * 0.1 - 0.1);  // decay, then -lr * sign(0.1)
  EXPECT_DOUBLE_EQ(wb[0], 2.0 - 0.1);
  // An empty string would match every name.
  EXPECT_THROW(SGD<double>().exclude_from_weight_decay({"bias", ""}), ArgumentError);
}

TEST(WeightDecay, AdamWDefaultsAndDecoupling) {
  // AdamW, lr 0.1, weight_decay default 0.004, g = 0: m = v = 0 so the Adam part
  // is 0 / (0 + 1e-7) * ... = 0, and only the decay acts: w = 1 - 1 * 0.004 * 0.1.
  AdamW<double> adamw({.learning_rate = 0.1});
  std::vector<double> w{1.0}, g{0.0};
  std::vector<ParamRef<double>> params{{"w", w, g}};
  adamw.apply(params);
  EXPECT_DOUBLE_EQ(w[0], 1.0 - 0.0004);
  EXPECT_THROW(AdamW<double>({}, {.weight_decay = 0.1}), ArgumentError);
}

}  // namespace
}  // namespace dtrain::optimizers
