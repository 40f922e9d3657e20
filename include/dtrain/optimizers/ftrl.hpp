// FTRL-proximal, as keras.optimizers.Ftrl (keras/src/optimizers/ftrl.py;
// McMahan et al. 2013, "Ad Click Prediction: a View from the Trenches").
//
//   optimizers::Ftrl<float> ftrl({.learning_rate = 0.05, .l1_regularization_strength = 1e-3});
//   ftrl.apply(params);
//
// p = learning_rate_power, l1/l2/l2_shrinkage the regularization strengths
// l2r = l2 + beta / (2 * lr)
// gs  = g + 2 * l2_shrinkage * w
// n1  = n + g^2                          (slot "n", starts at initial_accumulator_value)
// z  += gs - (n1^(-p) - n^(-p)) / lr * w (slot "z", starts at 0)
// q   = n1^(-p) / lr + 2 * l2r
// w   = (clip(z, -l1, l1) - z) / q;   n = n1
// Defaults (Keras 3): learning_rate 0.001, learning_rate_power -0.5,
// initial_accumulator_value 0.1, l1 0, l2 0, l2_shrinkage 0, beta 0.
#pragma once

#include "dtrain/optimizers/optimizer.hpp"

namespace dtrain::optimizers {

struct FtrlOptions {
  LearningRate learning_rate = 0.001;
  double learning_rate_power = -0.5;                 // <= 0
  double initial_accumulator_value = 0.1;            // >= 0
  double l1_regularization_strength = 0.0;           // >= 0
  double l2_regularization_strength = 0.0;           // >= 0
  double l2_shrinkage_regularization_strength = 0.0; // >= 0
  double beta = 0.0;                                 // >= 0
};

template <class T>
class Ftrl final : public Optimizer<T> {
 public:
  explicit Ftrl(FtrlOptions options = {}, CommonOptions common = {});
  const FtrlOptions& options() const { return options_; }

 protected:
  std::vector<typename Optimizer<T>::SlotSpec> slot_specs() const override;
  void prepare_step(std::int64_t t, double lr) override;
  void update_block(const UpdateBlock<T>& b) const override;
  void add_hyperparameters(Options& options) const override;

 private:
  FtrlOptions options_;
  T lr_ = 0, neg_power_ = 0, l1_ = 0, two_l2r_ = 0, two_shrinkage_ = 0;
  bool sqrt_power_ = false;  // -p == 0.5: n^0.5 via sqrt (same value, faster)
};

extern template class Ftrl<float>;
extern template class Ftrl<double>;

}  // namespace dtrain::optimizers
