// What the callback tests share: a small real model (compiled, so callbacks can
// read and set its learning rate and weights) and a one-line way to make Logs.
#pragma once

#include "dtrain/callbacks.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/losses.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"
#include "dtrain/optimizers/optimizer.hpp"
#include "dtrain/tensor.hpp"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

namespace dtrain::callback_test {

// Dense 4 -> 2, mean squared error, SGD at `learning_rate`.
inline Model tiny_model(double learning_rate = 0.1, std::vector<std::string> metrics = {}) {
  auto m = Sequential({4}, {layers::Dense({.units = 2})}, "tiny", 1);
  m.compile({.optimizer = optimizers::make_optimizer<float>("sgd", {{"learning_rate", learning_rate}}),
             .loss = losses::parse_loss("mse"),
             .metrics = std::move(metrics)});
  return m;
}

// n rows of 4 features and 2 targets (y = a fixed linear map of x).
inline std::pair<Tensor, Tensor> regression_data(std::int64_t n) {
  Tensor x({n, 4}), y({n, 2});
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < 4; ++j) x[i * 4 + j] = static_cast<float>((i * 7 + j * 3) % 11) / 11.0f - 0.5f;
    y[i * 2] = x[i * 4] + 0.5f * x[i * 4 + 1];
    y[i * 2 + 1] = x[i * 4 + 2] - x[i * 4 + 3];
  }
  return {std::move(x), std::move(y)};
}

// logs({{"loss", 0.5}, {"val_loss", 0.7}})
inline Logs logs(std::initializer_list<std::pair<std::string, double>> items) {
  Logs l;
  for (const auto& [k, v] : items) l.set(k, v);
  return l;
}

}  // namespace dtrain::callback_test
