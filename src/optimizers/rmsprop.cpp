// RMSprop, keras/src/optimizers/rmsprop.py (update_step).
#include "dtrain/optimizers/rmsprop.hpp"

#include "option_table.hpp"

#include <cmath>

namespace dtrain::optimizers {

template <class T>
RMSprop<T>::RMSprop(RMSpropOptions options, CommonOptions common)
    : Optimizer<T>("rmsprop", options.learning_rate, common), options_(std::move(options)) {
  detail::check_options("rmsprop", options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> RMSprop<T>::slot_specs() const {
  std::vector<typename Optimizer<T>::SlotSpec> s{{"ms", 0.0}};
  if (options_.centered) s.push_back({"mg", 0.0});
  if (options_.momentum > 0.0) s.push_back({"mom", 0.0});
  return s;
}

template <class T>
void RMSprop<T>::prepare_step(std::int64_t, double lr) {
  lr_ = static_cast<T>(lr);
  rho_ = static_cast<T>(options_.rho);
  one_minus_rho_ = static_cast<T>(1.0 - options_.rho);
  momentum_ = static_cast<T>(options_.momentum);
  epsilon_ = static_cast<T>(options_.epsilon);
}

namespace {

// One loop per (centered, momentum) so that each is a straight vectorizable pass.
template <bool kCentered, bool kMomentum, class T>
void rmsprop_loop(const UpdateBlock<T>& b, T lr, T rho, T one_minus_rho, T momentum, T eps) {
  T* __restrict ms = b.slot[0];
  T* __restrict mg = kCentered ? b.slot[1] : nullptr;
  T* __restrict mom = kMomentum ? b.slot[kCentered ? 2 : 1] : nullptr;
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T velocity = rho * ms[i] + one_minus_rho * (g * g);
    ms[i] = velocity;
    T denominator;
    if constexpr (kCentered) {
      const T average_grad = rho * mg[i] + one_minus_rho * g;
      mg[i] = average_grad;
      denominator = velocity - average_grad * average_grad + eps;
    } else {
      denominator = velocity + eps;
    }
    const T increment = lr * g / std::sqrt(denominator);  // epsilon inside the root
    if constexpr (kMomentum) {
      const T m = momentum * mom[i] + increment;
      mom[i] = m;
      b.w[i] = w - m;
    } else {
      b.w[i] = w - increment;
    }
  }
}

}  // namespace

template <class T>
void RMSprop<T>::update_block(const UpdateBlock<T>& b) const {
  const bool centered = options_.centered;
  const bool use_momentum = options_.momentum > 0.0;
  if (centered && use_momentum) {
    rmsprop_loop<true, true>(b, lr_, rho_, one_minus_rho_, momentum_, epsilon_);
  } else if (centered) {
    rmsprop_loop<true, false>(b, lr_, rho_, one_minus_rho_, momentum_, epsilon_);
  } else if (use_momentum) {
    rmsprop_loop<false, true>(b, lr_, rho_, one_minus_rho_, momentum_, epsilon_);
  } else {
    rmsprop_loop<false, false>(b, lr_, rho_, one_minus_rho_, momentum_, epsilon_);
  }
}

template <class T>
void RMSprop<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

template class RMSprop<float>;
template class RMSprop<double>;

}  // namespace dtrain::optimizers
