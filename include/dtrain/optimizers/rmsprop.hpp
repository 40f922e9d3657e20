// RMSprop, as keras.optimizers.RMSprop (keras/src/optimizers/rmsprop.py).
//
//   optimizers::RMSprop<float> rms({.learning_rate = 1e-3, .centered = true});
//   rms.apply(params);
//
// ms = rho * ms + (1 - rho) * g^2                          (slot "ms")
// centered: mg = rho * mg + (1 - rho) * g                  (slot "mg")
//           d = ms - mg^2 + epsilon;   else d = ms + epsilon
// inc = lr * g / sqrt(d)                 (epsilon inside the root, unlike PyTorch)
// momentum > 0: mom = momentum * mom + inc; w -= mom       (slot "mom")
// else:         w -= inc
// Defaults (Keras 3): learning_rate 0.001, rho 0.9, momentum 0, epsilon 1e-7,
// centered false.
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct RMSpropOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.9;       // in [0, 1)
  double momentum = 0.0;  // in [0, 1]
  double epsilon = 1e-7;  // >= 0
  bool centered = false;
};

template <class T>
class RMSprop final : public Optimizer<T> {
 public:
  explicit RMSprop(RMSpropOptions options = {}, CommonOptions common = {});
  const RMSpropOptions& options() const { return options_; }

 protected:
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  RMSpropOptions options_;
  T lr_ = 0, rho_ = 0, one_minus_rho_ = 0, momentum_ = 0, epsilon_ = 0;
};

extern template class RMSprop<float>;
extern template class RMSprop<double>;

}  // namespace dtrain::optimizers
