// Nadam, as keras.optimizers.Nadam (keras/src/optimizers/nadam.py).
//
//   optimizers::Nadam<float> nadam({.learning_rate = 2e-3});
//   nadam.apply(params);
//
// t = iterations + 1
// u_t = beta_1 * (1 - 0.5 * 0.96^t);  u_t1 = beta_1 * (1 - 0.5 * 0.96^(t+1))
// P *= u_t before the step (P starts at 1; optimizer-wide state "nadam/u_product")
// P1 = P * u_t1
// m += (g - m) * (1 - beta_1)                              (slot "m")
// v += (g^2 - v) * (1 - beta_2)                            (slot "v")
// mhat = u_t1 * m / (1 - P1) + (1 - u_t) * g / (1 - P)
// vhat = v / (1 - beta_2^t)
// w -= lr * mhat / (sqrt(vhat) + epsilon)
// Defaults (Keras 3): learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct NadamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;    // in [0, 1)
  double beta_2 = 0.999;  // in [0, 1)
  double epsilon = 1e-7;  // >= 0
};

template <class T>
class Nadam final : public Optimizer<T> {
 public:
  explicit Nadam(NadamOptions options = {}, CommonOptions common = {});
  const NadamOptions& options() const { return options_; }

 protected:
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  std::vector<SlotRef<T>> global_slots() override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  NadamOptions options_;
  T u_product_ = 1;  // P, in the variables' dtype as in Keras
  // The step's scalars (prepare_step), in Keras' order of operations.
  T lr_ = 0, one_minus_beta_1_ = 0, one_minus_beta_2_ = 0, epsilon_ = 0;
  T u_t1_ = 0, one_minus_u_t_ = 0, one_minus_p_ = 0, one_minus_p1_ = 0, one_minus_b2_power_ = 0;
};

extern template class Nadam<float>;
extern template class Nadam<double>;

}  // namespace dtrain::optimizers
