// The base optimizer: slots, clipping, weight decay and the fused parallel pass.
// Semantics of Keras 3's BaseOptimizer.apply (keras/src/optimizers/base_optimizer.py).
#include "dtrain/optimizers/optimizer.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/kernels/parallel.hpp"
#include "dtrain/tensor.hpp"
#include "option_table.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace dtrain::optimizers {

namespace {

// Slot arrays start on 64-byte boundaries, like the graph's parameters.
template <class T>
constexpr std::int64_t kSlotAlign = 64 / static_cast<std::int64_t>(sizeof(T));

template <class T>
std::int64_t round_up(std::int64_t n) {
  return (n + kSlotAlign<T> - 1) / kSlotAlign<T> * kSlotAlign<T>;
}

// Sum of squares of one segment in double, with a fixed association (8 lanes,
// then the lanes in order): the same result on any thread.
template <class T>
double sum_of_squares(const T* g, std::int64_t n) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) {
      const double v = static_cast<double>(g[i + k]);
      lane[k] += v * v;
    }
  }
  for (int k = 0; i < n; ++i, ++k) {
    const double v = static_cast<double>(g[i]);
    lane[k] += v * v;
  }
  double s = 0;
  for (double l : lane) s += l;
  return s;
}

}  // namespace

template <class T>
struct Optimizer<T>::State {
  // A piece of one variable inside one fixed-size chunk of the concatenation of
  // all variables: chunks are the parallel work items; small variables share one.
  struct Segment {
    std::size_t param;
    std::int64_t begin, end;
  };

  std::vector<std::string> names;
  std::vector<std::int64_t> sizes;
  std::size_t slots_per_param = 0;
  std::vector<std::string> slot_names;
  AlignedVector<T> arena;                 // every slot of every variable
  std::vector<std::int64_t> slot_offset;  // [param * slots_per_param + slot]
  std::vector<Segment> segments;          // in variable order
  std::vector<std::size_t> chunk_begin;   // chunk c: segments [chunk_begin[c], chunk_begin[c+1])
  std::vector<double> partial;            // per segment: sum of squared gradients
  std::vector<T> grad_mul, grad_div;      // per variable (see UpdateBlock)
  std::vector<char> decay;                // per variable: weight decay applies
};

template <class T>
Optimizer<T>::Optimizer(std::string name, LearningRate learning_rate, CommonOptions common)
    : name_(std::move(name)), learning_rate_(std::move(learning_rate)), common_(common) {
  if (learning_rate_.is_constant()) {
    detail::check_non_negative(name_, "learning_rate", learning_rate_.constant());
  }
  detail::check_options(name_, common_);
  const int clips = int(common_.clipnorm.has_value()) + int(common_.clipvalue.has_value()) +
                    int(common_.global_clipnorm.has_value());
  if (clips > 1) {
    const auto show = [](const std::optional<double>& v) {
      return v ? detail::format_number(*v) : std::string("None");
    };
    throw ArgumentError(name_ + ": only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                        "be set. Received: clipnorm=" + show(common_.clipnorm) +
                        ", clipvalue=" + show(common_.clipvalue) +
                        ", global_clipnorm=" + show(common_.global_clipnorm));
  }
}

template <class T>
Optimizer<T>::~Optimizer() = default;

template <class T>
bool Optimizer<T>::built() const {
  return state_ != nullptr;
}

template <class T>
void Optimizer<T>::build(std::span<const ParamRef<T>> params) {
  if (state_) throw ArgumentError(name_ + ": build() called on an optimizer already built");
  const auto specs = slot_specs();
  if (specs.size() > UpdateBlock<T>::kMaxSlots) {
    throw Error(name_ + ": too many slots per variable");
  }
  auto s = std::make_unique<State>();
  s->slots_per_param = specs.size();
  for (const auto& spec : specs) s->slot_names.push_back(spec.name);

  std::set<std::string> seen;
  std::int64_t arena_size = 0;
  for (const auto& p : params) {
    if (p.name.empty()) throw ArgumentError(name_ + ": a parameter has an empty name");
    if (!seen.insert(p.name).second) {
      throw ArgumentError(name_ + ": parameter name \"" + p.name + "\" appears twice");
    }
    if (p.value.size() != p.grad.size()) {
      throw ShapeError(name_ + ": parameter \"" + p.name + "\" has " +
                       std::to_string(p.value.size()) + " values but " +
                       std::to_string(p.grad.size()) + " gradient elements");
    }
    s->names.push_back(p.name);
    s->sizes.push_back(static_cast<std::int64_t>(p.value.size()));
    for (std::size_t k = 0; k < specs.size(); ++k) {
      s->slot_offset.push_back(arena_size);
      arena_size += round_up<T>(s->sizes.back());
    }
  }
  s->arena.assign(static_cast<std::size_t>(arena_size), T(0));
  for (std::size_t p = 0; p < s->names.size(); ++p) {
    for (std::size_t k = 0; k < specs.size(); ++k) {
      T* slot = s->arena.data() + s->slot_offset[p * specs.size() + k];
      std::fill(slot, slot + s->sizes[p], static_cast<T>(specs[k].initial));
    }
  }

  // Chunks of kBlockSize elements of the concatenated variables.
  std::int64_t position = 0;
  s->chunk_begin.push_back(0);
  for (std::size_t p = 0; p < s->names.size(); ++p) {
    std::int64_t begin = 0;
    while (begin < s->sizes[p]) {
      const std::int64_t room = kBlockSize - position % kBlockSize;
      const std::int64_t end = std::min(s->sizes[p], begin + room);
      s->segments.push_back({p, begin, end});
      position += end - begin;
      begin = end;
      if (position % kBlockSize == 0) s->chunk_begin.push_back(s->segments.size());
    }
  }
  if (s->chunk_begin.back() != s->segments.size()) s->chunk_begin.push_back(s->segments.size());

  s->partial.assign(s->segments.size(), 0.0);
  s->grad_mul.assign(s->names.size(), T(1));
  s->grad_div.assign(s->names.size(), T(1));
  s->decay.assign(s->names.size(), 0);
  for (std::size_t p = 0; p < s->names.size(); ++p) {
    bool decay = common_.weight_decay.has_value();
    for (const auto& part : no_decay_parts_) {
      if (s->names[p].find(part) != std::string::npos) decay = false;
    }
    s->decay[p] = decay ? 1 : 0;
  }
  state_ = std::move(s);
}

template <class T>
void Optimizer<T>::check_same_params(std::span<const ParamRef<T>> params) const {
  const State& s = *state_;
  if (params.size() != s.names.size()) {
    throw ArgumentError(name_ + ": apply() got " + std::to_string(params.size()) +
                        " parameters, the optimizer was built with " +
                        std::to_string(s.names.size()));
  }
  for (std::size_t p = 0; p < params.size(); ++p) {
    if (params[p].name != s.names[p]) {
      throw ArgumentError(name_ + ": apply() got parameter \"" + params[p].name + "\" at index " +
                          std::to_string(p) + ", the optimizer was built with \"" + s.names[p] +
                          "\" there");
    }
    const auto n = static_cast<std::size_t>(s.sizes[p]);
    if (params[p].value.size() != n || params[p].grad.size() != n) {
      throw ShapeError(name_ + ": parameter \"" + s.names[p] + "\" was built with " +
                       std::to_string(n) + " elements, apply() got " +
                       std::to_string(params[p].value.size()) + " values and " +
                       std::to_string(params[p].grad.size()) + " gradient elements");
    }
  }
}

template <class T>
void Optimizer<T>::compute_gradient_scales(std::span<const ParamRef<T>> params) {
  State& s = *state_;
  const bool by_norm = common_.clipnorm || common_.global_clipnorm;
  if (!by_norm) return;  // grad_mul = grad_div = 1 since build()
  kernels::for_blocks(static_cast<std::int64_t>(s.chunk_begin.size()) - 1, 1,
                      [&](std::int64_t cb, std::int64_t ce) {
                        for (std::int64_t c = cb; c < ce; ++c) {
                          const auto b = s.chunk_begin[static_cast<std::size_t>(c)];
                          const auto e = s.chunk_begin[static_cast<std::size_t>(c) + 1];
                          for (std::size_t i = b; i < e; ++i) {
                            const auto& seg = s.segments[i];
                            s.partial[i] = sum_of_squares(params[seg.param].grad.data() + seg.begin,
                                                          seg.end - seg.begin);
                          }
                        }
                      });
  // Per variable: its segments' sums in order; globally: the variables in order.
  std::size_t i = 0;
  double global = 0.0;
  for (std::size_t p = 0; p < s.names.size(); ++p) {
    double l2sum = 0.0;
    for (; i < s.segments.size() && s.segments[i].param == p; ++i) l2sum += s.partial[i];
    global += l2sum;
    if (common_.clipnorm) {
      // Keras _clip_by_norm: g * c / max(||g||, c).
      const T c = static_cast<T>(*common_.clipnorm);
      s.grad_mul[p] = c;
      s.grad_div[p] = std::max(static_cast<T>(std::sqrt(l2sum)), c);
    }
  }
  if (common_.global_clipnorm) {
    // Keras clip_by_global_norm: scale = c * min(1 / norm, 1 / c) + (norm - norm);
    // the last term turns an inf/NaN norm into a NaN scale.
    const double c = *common_.global_clipnorm;
    const double norm = std::sqrt(global);
    const double scale = c * std::min(1.0 / norm, 1.0 / c) + (norm - norm);
    std::fill(s.grad_mul.begin(), s.grad_mul.end(), static_cast<T>(scale));
  }
}

template <class T>
void Optimizer<T>::apply(std::span<const ParamRef<T>> params) {
  apply_to(params, {}, /*everything=*/true);
}

template <class T>
void Optimizer<T>::apply(std::span<const ParamRef<T>> params, std::span<const ElementRange> only) {
  for (std::size_t i = 0; i < only.size(); ++i) {
    const auto& r = only[i];
    const bool ordered = i == 0 || r.param > only[i - 1].param ||
                         (r.param == only[i - 1].param && r.begin >= only[i - 1].end);
    if (r.param >= params.size() || r.begin < 0 || r.begin > r.end ||
        r.end > static_cast<std::int64_t>(params[r.param].value.size()) || !ordered) {
      throw ArgumentError(name_ + ": apply() got element range " + std::to_string(i) + " (variable " +
                          std::to_string(r.param) + ", [" + std::to_string(r.begin) + ", " +
                          std::to_string(r.end) + ")) outside its variable or out of order");
    }
  }
  apply_to(params, only, /*everything=*/false);
}

template <class T>
void Optimizer<T>::apply_to(std::span<const ParamRef<T>> params, std::span<const ElementRange> only,
                            bool everything) {
  if (!state_) build(params);
  check_same_params(params);
  State& s = *state_;
  const double lr = learning_rate_(iterations_);
  compute_gradient_scales(params);
  prepare_step(iterations_ + 1, lr);

  UpdateBlock<T> base;
  if (common_.clipvalue) {
    base.grad_lo = static_cast<T>(-*common_.clipvalue);
    base.grad_hi = static_cast<T>(*common_.clipvalue);
  }
  base.weight_decay = static_cast<T>(common_.weight_decay.value_or(0.0));
  base.lr = static_cast<T>(lr);
  // Elements [b, e) of variable p.
  const auto update = [&](std::size_t p, std::int64_t b, std::int64_t e) {
    UpdateBlock<T> u = base;
    u.w = params[p].value.data() + b;
    u.g = params[p].grad.data() + b;
    u.n = e - b;
    for (std::size_t k = 0; k < s.slots_per_param; ++k) {
      u.slot[k] = s.arena.data() + s.slot_offset[p * s.slots_per_param + k] + b;
    }
    u.grad_mul = s.grad_mul[p];
    u.grad_div = s.grad_div[p];
    u.decay = s.decay[p] != 0;
    update_block(u);
  };
  kernels::for_blocks(
      static_cast<std::int64_t>(s.chunk_begin.size()) - 1, 1, [&](std::int64_t cb, std::int64_t ce) {
        for (std::int64_t c = cb; c < ce; ++c) {
          const auto b = s.chunk_begin[static_cast<std::size_t>(c)];
          const auto e = s.chunk_begin[static_cast<std::size_t>(c) + 1];
          for (std::size_t i = b; i < e; ++i) {
            const auto& seg = s.segments[i];
            if (everything) {
              update(seg.param, seg.begin, seg.end);
              continue;
            }
            // The ranges of this variable that overlap the segment.
            auto r = std::lower_bound(only.begin(), only.end(), seg, [](const ElementRange& x, const auto& sg) {
              return x.param < sg.param || (x.param == sg.param && x.end <= sg.begin);
            });
            for (; r != only.end() && r->param == seg.param && r->begin < seg.end; ++r) {
              update(seg.param, std::max(r->begin, seg.begin), std::min(r->end, seg.end));
            }
          }
        }
      });
  ++iterations_;
}

template <class T>
void Optimizer<T>::set_iterations(std::int64_t n) {
  if (n < 0) {
    throw ArgumentError(name_ + ": `iterations` must be >= 0. Received: iterations=" +
                        std::to_string(n));
  }
  iterations_ = n;
}

template <class T>
void Optimizer<T>::set_learning_rate(double value) {
  if (!learning_rate_.is_constant()) {
    throw ArgumentError(name_ + ": this optimizer was created with a LearningRateSchedule as its "
                        "learning_rate, hence its learning rate is not settable to a number "
                        "(set_learning_rate(" + detail::format_number(value) + "))");
  }
  detail::check_non_negative(name_, "learning_rate", value);
  learning_rate_ = LearningRate(value);
}

template <class T>
void Optimizer<T>::set_learning_rate(LearningRate rate) {
  if (rate.is_constant()) detail::check_non_negative(name_, "learning_rate", rate.constant());
  learning_rate_ = std::move(rate);
}

template <class T>
void Optimizer<T>::exclude_from_weight_decay(std::vector<std::string> name_parts) {
  if (state_) {
    throw ArgumentError(name_ + ": exclude_from_weight_decay() can only be called before the "
                        "optimizer is built");
  }
  for (const auto& part : name_parts) {
    // An empty string is part of every name: it would switch weight decay off for all.
    if (part.empty()) {
      throw ArgumentError(name_ + ": exclude_from_weight_decay(var_names=...) got an empty name "
                          "part, which would exclude every variable");
    }
  }
  no_decay_parts_ = std::move(name_parts);
}

template <class T>
std::vector<SlotRef<T>> Optimizer<T>::slots() {
  std::vector<SlotRef<T>> out;
  if (!state_) return out;
  State& s = *state_;
  for (std::size_t p = 0; p < s.names.size(); ++p) {
    for (std::size_t k = 0; k < s.slots_per_param; ++k) {
      T* data = s.arena.data() + s.slot_offset[p * s.slots_per_param + k];
      out.push_back({s.names[p] + "/" + s.slot_names[k],
                     std::span<T>(data, static_cast<std::size_t>(s.sizes[p]))});
    }
  }
  for (auto& g : global_slots()) out.push_back(std::move(g));
  return out;
}

template <class T>
std::vector<std::string> Optimizer<T>::slot_names() const {
  std::vector<std::string> out;
  for (const auto& spec : slot_specs()) out.push_back(spec.name);
  return out;
}

template <class T>
OptimizerConfig Optimizer<T>::config() const {
  OptimizerConfig c;
  c.name = name_;
  if (learning_rate_.is_constant()) {
    c.options.emplace("learning_rate", learning_rate_.constant());
  } else {
    c.learning_rate_schedule = learning_rate_.schedule()->config();
  }
  detail::write_options(common_, c.options);
  add_hyperparameters(c.options);
  c.exclude_from_weight_decay = no_decay_parts_;
  return c;
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace dtrain::optimizers
