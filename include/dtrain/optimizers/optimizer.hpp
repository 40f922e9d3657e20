// Optimizer<T>: the base of dtrain's optimizers, with the semantics of Keras 3's
// BaseOptimizer (keras/src/optimizers/base_optimizer.py); the update rules are in
// /work/shared/OPTIMIZERS.md and at each optimizer.
//
//   std::vector<optimizers::ParamRef<float>> params;   // views into the graph's arenas
//   for (std::size_t i = 0; i < g.parameters().size(); ++i) {
//     if (!g.parameters()[i].trainable) continue;
//     auto v = g.parameter_value(i);
//     auto d = g.parameter_grad(i);
//     params.push_back({g.parameters()[i].name, {v.data, std::size_t(v.size())},
//                       {d.data, std::size_t(d.size())}});
//   }
//   optimizers::Adam<float> adam({.learning_rate = 1e-3}, {.global_clipnorm = 1.0});
//   adam.build(params);   // slots "dense_1/kernel/m", "dense_1/kernel/v", ...
//   adam.apply(params);   // one step; adam.iterations() == 1
//
// One step (apply): the learning rate is the schedule at iterations() (0-based);
// gradients are clipped (clipnorm per variable, global_clipnorm over all, or
// clipvalue element-wise: at most one of them, as in Keras 3); weight decay
// w -= w * weight_decay * lr; the optimizer's update; iterations += 1. Clipping,
// decay and update are one fused pass over each variable, cut into fixed blocks
// run with kernels::for_blocks: results are bitwise identical with any thread
// count, and apply() allocates nothing once built.
#pragma once

#include "dtrain/optimizers/options.hpp"
#include "dtrain/optimizers/schedules.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace dtrain::optimizers {

// A trainable variable: its stable name, its values and its gradient (the mean
// over the global batch). The spans point into the graph's arenas.
template <class T>
struct ParamRef {
  std::string name;
  std::span<T> value;
  std::span<const T> grad;
};

// A piece of optimizer state by stable name: "<param>/<slot>" ("dense_1/kernel/m")
// or optimizer-wide ("nadam/u_product"). Writing into value restores a checkpoint.
template <class T>
struct SlotRef {
  std::string name;
  std::span<T> value;
};

// Elements [begin, end) of variable `param` (an index into apply()'s params).
struct ElementRange {
  std::size_t param = 0;
  std::int64_t begin = 0;
  std::int64_t end = 0;
};

// The arguments every Keras optimizer takes. Unset = Keras' None. At most one of
// clipnorm, clipvalue and global_clipnorm (Keras 3 raises ValueError otherwise);
// each must be > 0, weight_decay >= 0.
struct CommonOptions {
  std::optional<double> weight_decay{};
  std::optional<double> clipnorm{};         // per variable: g *= c / max(||g||, c)
  std::optional<double> clipvalue{};        // element-wise clip to [-c, c]
  std::optional<double> global_clipnorm{};  // all variables: g *= c / max(||all g||, c)
};

// What update_block() gets: elements [0, n) of one variable (a block of it) and
// pointers to the same elements of each of its slots (in slot_specs() order).
template <class T>
struct UpdateBlock {
  static constexpr std::size_t kMaxSlots = 4;
  T* w = nullptr;
  const T* g = nullptr;
  std::array<T*, kMaxSlots> slot{};
  std::int64_t n = 0;
  // The clipped gradient is clamp(g * grad_mul / grad_div, grad_lo, grad_hi):
  // (1, 1, -inf, inf) without clipping, (1, 1, -c, c) for clipvalue,
  // (c, max(||g||, c), -inf, inf) for clipnorm (Keras' order of operations),
  // (scale, 1, -inf, inf) for global_clipnorm. Each is exact in T.
  T grad_mul = 1, grad_div = 1;
  T grad_lo = -std::numeric_limits<T>::infinity();
  T grad_hi = std::numeric_limits<T>::infinity();
  bool decay = false;  // apply w - w * weight_decay * lr first
  T weight_decay = 0, lr = 0;

  T grad(std::int64_t i) const {
    const T v = g[i] * grad_mul / grad_div;
    return v < grad_lo ? grad_lo : (v > grad_hi ? grad_hi : v);
  }
  T decayed_weight(std::int64_t i) const {
    const T v = w[i];
    return decay ? v - v * weight_decay * lr : v;
  }
};

template <class T>
class Optimizer {
 public:
  // Elements per block of the parallel passes (a fixed number: determinism).
  static constexpr std::int64_t kBlockSize = 16384;

  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // The Keras name: "sgd", "rmsprop", "adam", "adamw", ...
  const std::string& name() const { return name_; }

  // Creates the slots (zero, or the initial accumulator value) for these
  // variables, once. Names must be unique and non-empty. apply() builds on first
  // use if build() was not called. Throws ArgumentError if already built.
  void build(std::span<const ParamRef<T>> params);
  bool built() const;

  // One step. params must be the variables of build(), same order, names and
  // sizes (ArgumentError / ShapeError otherwise); each grad has its value's size.
  void apply(std::span<const ParamRef<T>> params);
  // The same step, updating only these elements (and their slots): sorted by
  // param then begin, non-overlapping. Each element gets exactly the value the
  // full apply() would give it (gradient norms are still taken over all of
  // params), so ranks that each update their share of the variables (sharded
  // data parallelism) end with the full step's bits. Everything else is left as
  // it was. iterations() advances as with apply().
  void apply(std::span<const ParamRef<T>> params, std::span<const ElementRange> only);

  std::int64_t iterations() const { return iterations_; }
  void set_iterations(std::int64_t n);  // restore from a checkpoint; n >= 0

  // The rate the next step will use: the schedule at iterations().
  double learning_rate() const { return learning_rate_(iterations_); }
  // Sets a constant rate (ReduceLROnPlateau). As in Keras, an optimizer whose
  // rate is a schedule cannot be given a number: ArgumentError.
  void set_learning_rate(double value);
  // Replaces the rate by a constant or a schedule.
  void set_learning_rate(LearningRate rate);
  const LearningRate& learning_rate_setting() const { return learning_rate_; }

  const CommonOptions& common_options() const { return common_; }

  // Variables whose name contains any of these strings get no weight decay
  // (Keras' exclude_from_weight_decay(var_names=...)). Before build(). Names are
  // dtrain's full names ("dense_1/bias", "layer_normalization/gamma"), matched as
  // plain substrings: Keras 3 applies re.search to the short name ("bias"), which
  // is the same for a plain word such as "bias" or "gamma". Replaces an earlier
  // list; config() reports it. ArgumentError for an empty string.
  void exclude_from_weight_decay(std::vector<std::string> name_parts);

  // Every piece of state by stable name, for checkpoints: "<param>/<slot>" for
  // each variable in build() order and slot order, then optimizer-wide state.
  // The spans stay valid for the optimizer's lifetime. Empty before build().
  std::vector<SlotRef<T>> slots();
  // The slot names of one variable, e.g. {"m", "v"} (independent of build()).
  std::vector<std::string> slot_names() const;

  // The name and every hyper-parameter; make_optimizer(config()) rebuilds it.
  OptimizerConfig config() const;

 protected:
  Optimizer(std::string name, LearningRate learning_rate, CommonOptions common);

  struct SlotSpec {
    std::string name;
    double initial = 0.0;
  };
  // The per-variable slots (at most UpdateBlock<T>::kMaxSlots).
  virtual std::vector<SlotSpec> slot_specs() const = 0;
  // Optimizer-wide state (Nadam's product), named "<optimizer>/<what>".
  virtual std::vector<SlotRef<T>> global_slots() { return {}; }
  // Called once per step before any update_block, with the 1-based step
  // t = iterations + 1 and its learning rate: computes the step's scalars.
  virtual void prepare_step(std::int64_t t, double lr) = 0;
  // The fused update of one block. Called concurrently for different blocks:
  // reads only the block and what prepare_step() computed.
  virtual void update_block(const UpdateBlock<T>& block) const = 0;
  // Adds the optimizer's own hyper-parameters (Keras' get_config keys).
  virtual void add_hyperparameters(Options& options) const = 0;

 private:
  struct State;
  void check_same_params(std::span<const ParamRef<T>> params) const;
  void compute_gradient_scales(std::span<const ParamRef<T>> params);
  void apply_to(std::span<const ParamRef<T>> params, std::span<const ElementRange> only, bool everything);

  std::string name_;
  LearningRate learning_rate_;
  CommonOptions common_;
  std::vector<std::string> no_decay_parts_;
  std::int64_t iterations_ = 0;
  std::unique_ptr<State> state_;
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace dtrain::optimizers
