// Lion, as keras.optimizers.Lion (keras/src/optimizers/lion.py; Chen et al. 2023,
// "Symbolic Discovery of Optimization Algorithms", arXiv:2302.06675).
//
//   optimizers::Lion<float> lion({.learning_rate = 1e-4}, {.weight_decay = 0.1});
//   lion.apply(params);
//
// c = beta_1 * m + (1 - beta_1) * g
// w -= lr * sign(c)                        (sign(0) = 0; a NaN stays NaN)
// m = beta_2 * m + (1 - beta_2) * g        (slot "m")
// Defaults (Keras 3): learning_rate 0.001, beta_1 0.9, beta_2 0.99. The update
// has norm ~lr per element, so Lion wants a 3-10x smaller rate than AdamW and a
// larger weight_decay (the common option, w -= w * weight_decay * lr first).
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct LionOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;   // in (0, 1]: mixes the gradient into the update's direction
  double beta_2 = 0.99;  // in [0, 1]: decay of the momentum
};

template <class T>
class Lion final : public Optimizer<T> {
 public:
  explicit Lion(LionOptions options = {}, CommonOptions common = {});
  const LionOptions& options() const { return options_; }

 protected:
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  LionOptions options_;
  T lr_ = 0, beta_1_ = 0, one_minus_beta_1_ = 0, beta_2_ = 0, one_minus_beta_2_ = 0;
};

extern template class Lion<float>;
extern template class Lion<double>;

}  // namespace dtrain::optimizers
