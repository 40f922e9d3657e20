// Adagrad, keras/src/optimizers/adagrad.py (update_step).
#include "dtrain/optimizers/adagrad.hpp"

#include "option_table.hpp"

#include <cmath>

namespace dtrain::optimizers {

template <class T>
Adagrad<T>::Adagrad(AdagradOptions options, CommonOptions common)
    : Optimizer<T>("adagrad", options.learning_rate, common), options_(std::move(options)) {
  detail::check_options("adagrad", options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> Adagrad<T>::slot_specs() const {
  return {{"acc", options_.initial_accumulator_value}};
}

template <class T>
void Adagrad<T>::prepare_step(std::int64_t, double lr) {
  lr_ = static_cast<T>(lr);
  epsilon_ = static_cast<T>(options_.epsilon);
}

template <class T>
void Adagrad<T>::update_block(const UpdateBlock<T>& b) const {
  T* acc = b.slot[0];
  const T lr = lr_, eps = epsilon_;
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T a = acc[i] + g * g;
    acc[i] = a;
    b.w[i] = w - (lr * g) / std::sqrt(a + eps);
  }
}

template <class T>
void Adagrad<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

template class Adagrad<float>;
template class Adagrad<double>;

}  // namespace dtrain::optimizers
