// Adam and AdamW, keras/src/optimizers/adam.py and adamw.py (update_step).
#include "dtrain/optimizers/adam.hpp"
#include "dtrain/optimizers/adamw.hpp"

#include "dtrain/core/error.hpp"
#include "option_table.hpp"

#include <algorithm>
#include <cmath>

namespace dtrain::optimizers {

template <class T>
Adam<T>::Adam(AdamOptions options, CommonOptions common)
    : Adam("adam", std::move(options), common) {}

template <class T>
Adam<T>::Adam(std::string name, AdamOptions options, CommonOptions common)
    : Optimizer<T>(name, options.learning_rate, common), options_(std::move(options)) {
  detail::check_options(name, options_);
}

template <class T>
std::vector<typename Optimizer<T>::SlotSpec> Adam<T>::slot_specs() const {
  std::vector<typename Optimizer<T>::SlotSpec> s{{"m", 0.0}, {"v", 0.0}};
  if (options_.amsgrad) s.push_back({"vhat", 0.0});
  return s;
}

template <class T>
void Adam<T>::prepare_step(std::int64_t t, double lr) {
  const double local_step = static_cast<double>(t);
  const double beta_1_power = std::pow(options_.beta_1, local_step);
  const double beta_2_power = std::pow(options_.beta_2, local_step);
  alpha_ = static_cast<T>(lr * std::sqrt(1.0 - beta_2_power) / (1.0 - beta_1_power));
  one_minus_beta_1_ = static_cast<T>(1.0 - options_.beta_1);
  one_minus_beta_2_ = static_cast<T>(1.0 - options_.beta_2);
  epsilon_ = static_cast<T>(options_.epsilon);
}

namespace {

template <bool kAmsgrad, class T>
void adam_loop(const UpdateBlock<T>& b, T alpha, T c1, T c2, T eps) {
  T* __restrict m = b.slot[0];
  T* __restrict v = b.slot[1];
  T* __restrict vhat = kAmsgrad ? b.slot[2] : nullptr;
  for (std::int64_t i = 0; i < b.n; ++i) {
    const T g = b.grad(i);
    const T w = b.decayed_weight(i);
    const T mi = m[i] + (g - m[i]) * c1;
    T vi = v[i] + (g * g - v[i]) * c2;
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      vi = std::max(vhat[i], vi);
      vhat[i] = vi;
    }
    b.w[i] = w - (mi * alpha) / (std::sqrt(vi) + eps);
  }
}

}  // namespace

template <class T>
void Adam<T>::update_block(const UpdateBlock<T>& b) const {
  if (options_.amsgrad) {
    adam_loop<true>(b, alpha_, one_minus_beta_1_, one_minus_beta_2_, epsilon_);
  } else {
    adam_loop<false>(b, alpha_, one_minus_beta_1_, one_minus_beta_2_, epsilon_);
  }
}

template <class T>
void Adam<T>::add_hyperparameters(Options& options) const {
  detail::write_options(options_, options);
}

namespace {

AdamOptions adam_part(const AdamWOptions& o) {
  return {o.learning_rate, o.beta_1, o.beta_2, o.epsilon, o.amsgrad};
}

CommonOptions with_weight_decay(CommonOptions common, double weight_decay) {
  if (common.weight_decay) {
    throw ArgumentError("adamw: give weight_decay in AdamWOptions, not in CommonOptions. "
                        "Received: weight_decay=" + detail::format_number(*common.weight_decay));
  }
  detail::check_non_negative("adamw", "weight_decay", weight_decay);
  common.weight_decay = weight_decay;
  return common;
}

}  // namespace

template <class T>
AdamW<T>::AdamW(AdamWOptions options, CommonOptions common)
    : Adam<T>("adamw", adam_part(options), with_weight_decay(common, options.weight_decay)) {}

template class Adam<float>;
template class Adam<double>;
template class AdamW<float>;
template class AdamW<double>;

}  // namespace dtrain::optimizers
