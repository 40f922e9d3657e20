// Ftrl, keras/src/optimizers/ftrl.py (update_step).
#include "dtrain/optimizers/ftrl.hpp"

#include "option_table.hpp"

#include <cmath>

namespace dtrain::optimizers {

template <class T>
Ftrl<T>::Ftrl(FtrlOptions options, CommonOptions common)
    : Optimizer<T>("ftrl", options.learning_rate, common), options_(std::move(options)) {
  detail::check_options("ftrl", options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> Ftrl<T>::slot_specs() const {
  return {{"n", options_.initial_accumulator_value}, {"z", 0.0}};
}

template <class T>
void Ftrl<T>::prepare_step(std::int64_t, double lr) {
  lr_ = static_cast<T>(lr);
  neg_power_ = static_cast<T>(-options_.learning_rate_power);
  sqrt_power_ = options_.learning_rate_power == -0.5;
  l1_ = static_cast<T>(options_.l1_regularization_strength);
  // l2_reg = l2 + beta / (2 * lr)
  two_l2r_ = static_cast<T>(
      2.0 * (options_.l2_regularization_strength + options_.beta / (2.0 * lr)));
  two_shrinkage_ = static_cast<T>(2.0 * options_.l2_shrinkage_regularization_strength);
}

namespace {

// kSqrt: learning_rate_power == -0.5, so n^(-p) = sqrt(n) (vectorizes; pow does not).
template <bool kSqrt, class T>
void ftrl_loop(const UpdateBlock<T>& b, T lr, T power, T l1, T two_l2r, T two_shrinkage) {
  T* __restrict accum = b.slot[0];
  T* __restrict linear = b.slot[1];
  const auto pow_p = [power](T x) {
    if constexpr (kSqrt) {
      return std::sqrt(x);
    } else {
      return std::pow(x, power);
    }
  };
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T grad_to_use = g + two_shrinkage * w;
    const T new_accum = accum[i] + g * g;
    const T new_pow = pow_p(new_accum);
    const T z = linear[i] + (grad_to_use - (new_pow - pow_p(accum[i])) / lr * w);
    linear[i] = z;
    const T quadratic = new_pow / lr + two_l2r;
    const T z_clipped = z < -l1 ? -l1 : (z > l1 ? l1 : z);
    b.w[i] = (z_clipped - z) / quadratic;
    accum[i] = new_accum;
  }
}

}  // namespace

template <class T>
void Ftrl<T>::update_block(const UpdateBlock<T>& b) const {
  if (sqrt_power_) {
    ftrl_loop<true>(b, lr_, neg_power_, l1_, two_l2r_, two_shrinkage_);
  } else {
    ftrl_loop<false>(b, lr_, neg_power_, l1_, two_l2r_, two_shrinkage_);
  }
}

template <class T>
void Ftrl<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

template class Ftrl<float>;
template class Ftrl<double>;

}  // namespace dtrain::optimizers
