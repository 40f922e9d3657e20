// SGD with optional (Nesterov) momentum, as keras.optimizers.SGD
// (keras/src/optimizers/sgd.py).
//
//   optimizers::SGD<float> sgd({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
//   sgd.apply(params);
//
// momentum == 0: w -= lr * g                       (no slot)
// otherwise:     v = momentum * v - lr * g          (slot "v")
//                plain: w += v;  nesterov: w += momentum * v - lr * g
// Defaults (Keras 3): learning_rate 0.01, momentum 0, nesterov false.
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct SGDOptions {
  LearningRate learning_rate = 0.01;
  double momentum = 0.0;  // in [0, 1]
  bool nesterov = false;
};

template <class T>
class SGD final : public Optimizer<T> {
 public:
  explicit SGD(SGDOptions options = {}, CommonOptions common = {});
  const SGDOptions& options() const { return options_; }

 protected:
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  SGDOptions options_;
  T lr_ = 0, momentum_ = 0;
};

extern template class SGD<float>;
extern template class SGD<double>;

}  // namespace dtrain::optimizers
