// Nadam, keras/src/optimizers/nadam.py (_backend_update_step, update_step).
#include "dtrain/optimizers/nadam.hpp"

#include "option_table.hpp"

#include <cmath>

namespace dtrain::optimizers {

template <class T>
Nadam<T>::Nadam(NadamOptions options, CommonOptions common)
    : Optimizer<T>("nadam", options.learning_rate, common), options_(std::move(options)) {
  detail::check_options("nadam", options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> Nadam<T>::slot_specs() const {
  return {{"m", 0.0}, {"v", 0.0}};
}

template <class T>
std::vector<SlotRef<T>> Nadam<T>::global_slots() {
  return {{"nadam/u_product", std::span<T>(&u_product_, 1)}};
}

template <class T>
void Nadam<T>::prepare_step(std::int64_t t, double lr) {
  const double beta_1 = options_.beta_1;
  const double local_step = static_cast<double>(t);
  const double next_step = static_cast<double>(t + 1);
  // Before the variables' updates: u_product *= beta_1 * (1 - 0.5 * 0.96^t).
  u_product_ = static_cast<T>(static_cast<double>(u_product_) * beta_1 *
                              (1.0 - 0.5 * std::pow(0.96, local_step)));
  const double u_t = beta_1 * (1.0 - 0.5 * std::pow(0.96, local_step));
  const double u_t_1 = beta_1 * (1.0 - 0.5 * std::pow(0.96, next_step));
  const double u_product_t = static_cast<double>(u_product_);
  const double u_product_t_1 = u_product_t * u_t_1;
  lr_ = static_cast<T>(lr);
  one_minus_beta_1_ = static_cast<T>(1.0 - beta_1);
  one_minus_beta_2_ = static_cast<T>(1.0 - options_.beta_2);
  epsilon_ = static_cast<T>(options_.epsilon);
  u_t1_ = static_cast<T>(u_t_1);
  one_minus_u_t_ = static_cast<T>(1.0 - u_t);
  one_minus_p_ = static_cast<T>(1.0 - u_product_t);
  one_minus_p1_ = static_cast<T>(1.0 - u_product_t_1);
  one_minus_b2_power_ = static_cast<T>(1.0 - std::pow(options_.beta_2, local_step));
}

template <class T>
void Nadam<T>::update_block(const UpdateBlock<T>& b) const {
  T* m = b.slot[0];
  T* v = b.slot[1];
  const T lr = lr_, c1 = one_minus_beta_1_, c2 = one_minus_beta_2_, eps = epsilon_;
  const T u_t1 = u_t1_, one_minus_u_t = one_minus_u_t_, one_minus_p = one_minus_p_,
          one_minus_p1 = one_minus_p1_, one_minus_b2_power = one_minus_b2_power_;
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T mi = m[i] + (g - m[i]) * c1;
    const T vi = v[i] + (g * g - v[i]) * c2;
    m[i] = mi;
    v[i] = vi;
    const T m_hat = (u_t1 * mi) / one_minus_p1 + (one_minus_u_t * g) / one_minus_p;
    const T v_hat = vi / one_minus_b2_power;
    b.w[i] = w - (m_hat * lr) / (std::sqrt(v_hat) + eps);
  }
}

template <class T>
void Nadam<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

template class Nadam<float>;
template class Nadam<double>;

}  // namespace dtrain::optimizers
