// AdamW, as keras.optimizers.AdamW (keras/src/optimizers/adamw.py): Adam with
// decoupled weight decay, applied before the Adam update of each step:
//   w = w - w * weight_decay * lr;   then the Adam rule (see adam.hpp).
//
//   optimizers::AdamW<float> adamw({.learning_rate = 1e-3, .weight_decay = 0.01});
//   adamw.apply(params);
//
// Defaults (Keras 3): learning_rate 0.001, weight_decay 0.004, beta_1 0.9,
// beta_2 0.999, epsilon 1e-7, amsgrad false. The weight decay is given here,
// not in CommonOptions (setting both is an ArgumentError).
#pragma once

#include "dtrain/optimizers/adam.hpp"

namespace dtrain::optimizers {

struct AdamWOptions {
  LearningRate learning_rate = 0.001;
  double weight_decay = 0.004;  // >= 0
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
};

template <class T>
class AdamW final : public Adam<T> {
 public:
  explicit AdamW(AdamWOptions options = {}, CommonOptions common = {});
};

extern template class AdamW<float>;
extern template class AdamW<double>;

}  // namespace dtrain::optimizers
