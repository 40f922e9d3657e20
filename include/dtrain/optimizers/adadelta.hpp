// Adadelta, as keras.optimizers.Adadelta (keras/src/optimizers/adadelta.py).
//
//   optimizers::Adadelta<float> adadelta({.learning_rate = 1.0});
//   adadelta.apply(params);
//
// ag = rho * ag + (1 - rho) * g^2                          (slot "ag")
// dw = -sqrt(ad + epsilon) * g / sqrt(ag + epsilon)
// ad = rho * ad + (1 - rho) * dw^2                         (slot "ad")
// w += lr * dw
// Defaults (Keras 3): learning_rate 0.001, rho 0.95, epsilon 1e-7.
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct AdadeltaOptions {
  LearningRate learning_rate = 0.001;
  double rho = 0.95;      // in [0, 1)
  double epsilon = 1e-7;  // >= 0
};

template <class T>
class Adadelta final : public Optimizer<T> {
 public:
  explicit Adadelta(AdadeltaOptions options = {}, CommonOptions common = {});
  const AdadeltaOptions& options() const { return options_; }

 protected:
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  AdadeltaOptions options_;
  T lr_ = 0, rho_ = 0, one_minus_rho_ = 0, epsilon_ = 0;
};

extern template class Adadelta<float>;
extern template class Adadelta<double>;

}  // namespace dtrain::optimizers
