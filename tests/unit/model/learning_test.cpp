// Learning tests: small problems a correct trainer must solve.
#include "dtrain/layers/core.hpp"
#include "dtrain/layers/merge.hpp"
#include "dtrain/core/random.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace dtrain {
namespace {

std::shared_ptr<optimizers::Optimizer<float>> adam(double lr) {
  return optimizers::make_optimizer<float>("adam", {{"learning_rate", lr}});
}

TEST(Learning, XorReachesFullAccuracy) {
  Tensor x({4, 2}), y({4});
  const float xs[] = {0, 0, 0, 1, 1, 0, 1, 1}, ys[] = {0, 1, 1, 0};
  std::copy(xs, xs + 8, x.data());
  std::copy(ys, ys + 4, y.data());
  auto model = Sequential({2}, {layers::Dense({.units = 8, .activation = "tanh"}),
                                layers::Dense({.units = 2})}, "xor", 3);
  auto loss = losses::parse_loss("sparse_categorical_crossentropy");
  loss.from_logits = true;
  model.compile({.optimizer = adam(0.05), .loss = loss, .metrics = {"accuracy"}});
  model.fit(x, y, {.batch_size = 4, .epochs = 300, .verbose = 0});
  const auto logs = model.evaluate(x, y, 4);
  EXPECT_EQ(logs.get("accuracy"), 1.0);
  EXPECT_LT(logs.get("loss"), 0.05);
}

TEST(Learning, SineRegressionReachesSmallError) {
  const std::int64_t n = 512;
  Tensor x({n, 1}), y({n, 1});
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] = -3.0f + 6.0f * static_cast<float>(i) / static_cast<float>(n - 1);
    y[i] = std::sin(x[i]);
  }
  auto model = Sequential({1}, {layers::Dense({.units = 32, .activation = "tanh"}),
                                layers::Dense({.units = 32, .activation = "tanh"}), layers::Dense({.units = 1})},
                          "sine", 1);
  model.compile({.optimizer = adam(0.01), .loss = losses::parse_loss("mse"), .metrics = {"mae"}});
  model.fit(x, y, {.batch_size = 32, .epochs = 200, .verbose = 0});
  EXPECT_LT(model.evaluate(x, y, 64).get("loss"), 0.01);
}

TEST(Learning, ResidualFunctionalModelTrains) {
  // y = x0 + 2 x1 - x2 (a linear target): Dense -> Dense, plus a skip connection.
  const std::int64_t n = 256;
  Tensor x({n, 3}), y({n, 1});
  Rng rng(9);
  for (std::int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j) x[i * 3 + j] = static_cast<float>(rng.uniform(-1, 1));
    y[i] = x[i * 3] + 2 * x[i * 3 + 1] - x[i * 3 + 2];
  }
  auto in = layers::Input({3});
  auto h = layers::Dense({.units = 16, .activation = "relu"})(in);
  auto skip = layers::Dense({.units = 16})(in);
  auto merged = layers::Add()({h, skip});
  auto out = layers::Dense({.units = 1})(merged);
  Model model(in, out, "residual", 2);
  model.compile({.optimizer = adam(0.01), .loss = losses::parse_loss("mse"), .metrics = {}});
  const double before = model.evaluate(x, y, 64).get("loss");
  model.fit(x, y, {.batch_size = 16, .epochs = 60, .verbose = 0});
  const double after = model.evaluate(x, y, 64).get("loss");
  EXPECT_LT(after, 0.01);
  EXPECT_LT(after, before / 50);
  EXPECT_NE(model.summary().find("Connected to"), std::string::npos);
}

}  // namespace
}  // namespace dtrain
