// Adamax, as keras.optimizers.Adamax (keras/src/optimizers/adamax.py).
//
//   optimizers::Adamax<float> adamax({.learning_rate = 2e-3});
//   adamax.apply(params);
//
// t = iterations + 1
// m += (g - m) * (1 - beta_1)                              (slot "m")
// u = max(beta_2 * u, |g|)                                 (slot "u")
// w -= lr * m / ((1 - beta_1^t) * (u + epsilon))
// Defaults (Keras 3): learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct AdamaxOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;    // in [0, 1)
  double beta_2 = 0.999;  // in [0, 1)
  double epsilon = 1e-7;  // >= 0
};

template <class T>
class Adamax final : public Optimizer<T> {
 public:
  explicit Adamax(AdamaxOptions options = {}, CommonOptions common = {});
  const AdamaxOptions& options() const { return options_; }

 protected:
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  AdamaxOptions options_;
  T lr_ = 0, one_minus_beta_1_ = 0, beta_2_ = 0, bias_correction_ = 0, epsilon_ = 0;
};

extern template class Adamax<float>;
extern template class Adamax<double>;

}  // namespace dtrain::optimizers
