// Adamax, keras/src/optimizers/adamax.py (update_step).
#include "dtrain/optimizers/adamax.hpp"

#include "option_table.hpp"

#include <algorithm>
#include <cmath>

namespace dtrain::optimizers {

template <class T>
Adamax<T>::Adamax(AdamaxOptions options, CommonOptions common)
    : Optimizer<T>("adamax", options.learning_rate, common), options_(std::move(options)) {
  detail::check_options("adamax", options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> Adamax<T>::slot_specs() const {
  return {{"m", 0.0}, {"u", 0.0}};
}

template <class T>
void Adamax<T>::prepare_step(std::int64_t t, double lr) {
  lr_ = static_cast<T>(lr);
  one_minus_beta_1_ = static_cast<T>(1.0 - options_.beta_1);
  beta_2_ = static_cast<T>(options_.beta_2);
  bias_correction_ = static_cast<T>(1.0 - std::pow(options_.beta_1, static_cast<double>(t)));
  epsilon_ = static_cast<T>(options_.epsilon);
}

template <class T>
void Adamax<T>::update_block(const UpdateBlock<T>& b) const {
  T* m = b.slot[0];
  T* u = b.slot[1];
  const T lr = lr_, c1 = one_minus_beta_1_, beta_2 = beta_2_, bc = bias_correction_,
          eps = epsilon_;
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T mi = m[i] + (g - m[i]) * c1;
    const T ui = std::max(beta_2 * u[i], std::abs(g));
    m[i] = mi;
    u[i] = ui;
    b.w[i] = w - (lr * mi) / (bc * (ui + eps));
  }
}

template <class T>
void Adamax<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

template class Adamax<float>;
template class Adamax<double>;

}  // namespace dtrain::optimizers
