// SGD, keras/src/optimizers/sgd.py (update_step).
#include "dtrain/optimizers/sgd.hpp"

#include "option_table.hpp"

namespace dtrain::optimizers {

template <class T>
SGD<T>::SGD(SGDOptions options, CommonOptions common)
    : Optimizer<T>("sgd", options.learning_rate, common), options_(std::move(options)) {
  detail::check_options("sgd", options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> SGD<T>::slot_specs() const {
  if (options_.momentum == 0.0) return {};
  return {{"v", 0.0}};
}

template <class T>
void SGD<T>::prepare_step(std::int64_t, double lr) {
  lr_ = static_cast<T>(lr);
  momentum_ = static_cast<T>(options_.momentum);
}

template <class T>
void SGD<T>::update_block(const UpdateBlock<T>& b) const {
  const T lr = lr_, momentum = momentum_;
  if (options_.momentum == 0.0) {
    for (std::int64_t i = 0; i < b.n; ++i) {
      const T g = b.grad(i);
      b.w[i] = b.decayed_weight(i) - g * lr;
    }
    return;
  }
  T* v = b.slot[0];
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T m = v[i] * momentum - g * lr;
    v[i] = m;
    b.w[i] = options_.nesterov ? w + (m * momentum - g * lr) : w + m;
  }
}

template <class T>
void SGD<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

template class SGD<float>;
template class SGD<double>;

}  // namespace dtrain::optimizers
