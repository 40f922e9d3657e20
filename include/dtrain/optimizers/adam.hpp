// Adam (and AMSGrad), as keras.optimizers.Adam (keras/src/optimizers/adam.py).
//
//   optimizers::Adam<float> adam({.learning_rate = 1e-3, .amsgrad = true});
//   adam.apply(params);
//
// t = iterations + 1;  alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
// m += (g - m) * (1 - beta_1)                              (slot "m")
// v += (g^2 - v) * (1 - beta_2)                            (slot "v")
// amsgrad: vhat = max(vhat, v), used in place of v         (slot "vhat")
// w -= alpha * m / (sqrt(v) + epsilon)
// epsilon is Keras' "epsilon hat" (added after the bias corrections are folded
// into alpha), not PyTorch's eps.
// Defaults (Keras 3): learning_rate 0.001, beta_1 0.9, beta_2 0.999,
// epsilon 1e-7, amsgrad false.
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct AdamOptions {
  LearningRate learning_rate = 0.001;
  double beta_1 = 0.9;    // in [0, 1)
  double beta_2 = 0.999;  // in [0, 1)
  double epsilon = 1e-7;  // >= 0
  bool amsgrad = false;
};

template <class T>
class Adam : public Optimizer<T> {
 public:
  explicit Adam(AdamOptions options = {}, CommonOptions common = {});
  const AdamOptions& adam_options() const { return options_; }

 protected:
  Adam(std::string name, AdamOptions options, CommonOptions common);  // for AdamW
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  AdamOptions options_;
  T alpha_ = 0, one_minus_beta_1_ = 0, one_minus_beta_2_ = 0, epsilon_ = 0;
};

extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace dtrain::optimizers
