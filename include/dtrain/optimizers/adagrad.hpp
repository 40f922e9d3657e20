// Adagrad, as keras.optimizers.Adagrad (keras/src/optimizers/adagrad.py).
//
//   optimizers::Adagrad<float> adagrad({.learning_rate = 0.01});
//   adagrad.apply(params);
//
// acc starts at initial_accumulator_value (0.1; PyTorch starts at 0)  (slot "acc")
// acc += g^2;   w -= lr * g / sqrt(acc + epsilon)
// Defaults (Keras 3): learning_rate 0.001, initial_accumulator_value 0.1,
// epsilon 1e-7.
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct AdagradOptions {
  LearningRate learning_rate = 0.001;
  double initial_accumulator_value = 0.1;  // >= 0
  double epsilon = 1e-7;                   // >= 0
};

template <class T>
class Adagrad final : public Optimizer<T> {
 public:
  explicit Adagrad(AdagradOptions options = {}, CommonOptions common = {});
  const AdagradOptions& options() const { return options_; }

 protected:
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  AdagradOptions options_;
  T lr_ = 0, epsilon_ = 0;
};

extern template class Adagrad<float>;
extern template class Adagrad<double>;

}  // namespace dtrain::optimizers
