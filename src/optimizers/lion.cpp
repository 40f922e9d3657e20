// Lion, keras/src/optimizers/lion.py (update_step).
#include "dtrain/optimizers/lion.hpp"

#include "option_table.hpp"

namespace dtrain::optimizers {

template <class T>
Lion<T>::Lion(LionOptions options, CommonOptions common)
    : Optimizer<T>("lion", options.learning_rate, common), options_(std::move(options)) {
  detail::check_options("lion", options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> Lion<T>::slot_specs() const {
  return {{"m", 0.0}};
}

template <class T>
void Lion<T>::prepare_step(std::int64_t, double lr) {
  lr_ = static_cast<T>(lr);
  beta_1_ = static_cast<T>(options_.beta_1);
  one_minus_beta_1_ = static_cast<T>(1.0 - options_.beta_1);
  beta_2_ = static_cast<T>(options_.beta_2);
  one_minus_beta_2_ = static_cast<T>(1.0 - options_.beta_2);
}

template <class T>
void Lion<T>::update_block(const UpdateBlock<T>& b) const {
  T* m = b.slot[0];
  const T lr = lr_, b1 = beta_1_, c1 = one_minus_beta_1_, b2 = beta_2_, c2 = one_minus_beta_2_;
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T c = m[i] * b1 + g * c1;
    // sign(c): 0 at 0, and NaN passes through (as Keras' ops.sign).
    const T sign = c > T(0) ? T(1) : (c < T(0) ? T(-1) : c);
    b.w[i] = w - lr * sign;
    m[i] = m[i] * b2 + g * c2;
  }
}

template <class T>
void Lion<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

template class Lion<float>;
template class Lion<double>;

}  // namespace dtrain::optimizers
