// Adadelta, keras/src/optimizers/adadelta.py (update_step).
#include "dtrain/optimizers/adadelta.hpp"

#include "option_table.hpp"

#include <cmath>

namespace dtrain::optimizers {

template <class T>
Adadelta<T>::Adadelta(AdadeltaOptions options, CommonOptions common)
    : Optimizer<T>("adadelta", options.learning_rate, common), options_(std::move(options)) {
  detail::check_options("adadelta", options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> Adadelta<T>::slot_specs() const {
  return {{"ag", 0.0}, {"ad", 0.0}};
}

template <class T>
void Adadelta<T>::prepare_step(std::int64_t, double lr) {
  lr_ = static_cast<T>(lr);
  rho_ = static_cast<T>(options_.rho);
  one_minus_rho_ = static_cast<T>(1.0 - options_.rho);
  epsilon_ = static_cast<T>(options_.epsilon);
}

template <class T>
void Adadelta<T>::update_block(const UpdateBlock<T>& b) const {
  T* ag = b.slot[0];
  T* ad = b.slot[1];
  const T lr = lr_, rho = rho_, one_minus_rho = one_minus_rho_, eps = epsilon_;
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T accumulated_grad = rho * ag[i] + one_minus_rho * (g * g);
    ag[i] = accumulated_grad;
    const T delta = -(std::sqrt(ad[i] + eps) * g / std::sqrt(accumulated_grad + eps));
    ad[i] = rho * ad[i] + one_minus_rho * (delta * delta);
    b.w[i] = w + lr * delta;
  }
}

template <class T>
void Adadelta<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

template class Adadelta<float>;
template class Adadelta<double>;

}  // namespace dtrain::optimizers
