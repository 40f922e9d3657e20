#include "dtrain/graph/parameter_store.hpp"

#include "dtrain/core/error.hpp"

namespace dtrain::graph {

std::int64_t arena_elements(std::span<const ParameterInfo> layout) {
  if (layout.empty()) return 0;
  const auto end = layout.back().offset + layout.back().shape.numel();
  return (end + kParameterAlign - 1) / kParameterAlign * kParameterAlign;
}

template <class T>
HeapParameterMemory<T>::HeapParameterMemory(std::int64_t elements)
    : values_(static_cast<std::size_t>(elements), T(0)), grads_(static_cast<std::size_t>(elements), T(0)) {}

template <class T>
ParameterStore<T>::ParameterStore(std::vector<ParameterInfo> layout, std::shared_ptr<ParameterMemory<T>> memory)
    : layout_(std::move(layout)), elements_(arena_elements(layout_)), memory_(std::move(memory)) {
  std::int64_t next = 0;
  for (const auto& p : layout_) {
    if (p.offset != next) {
      throw ArgumentError("parameter store: '" + p.name + "' at offset " + std::to_string(p.offset) +
                          ", expected " + std::to_string(next));
    }
    next = arena_elements(std::span<const ParameterInfo>(&p, 1));  // where this one ends, aligned
  }
  if (!memory_) memory_ = std::make_shared<HeapParameterMemory<T>>(elements_);
  const auto n = static_cast<std::size_t>(elements_);
  if (memory_->values().size() < n || memory_->grads().size() < n) {
    throw ArgumentError("parameter store: memory of " + std::to_string(memory_->values().size()) + " and " +
                        std::to_string(memory_->grads().size()) + " elements for arenas of " + std::to_string(n));
  }
  values_ = memory_->values().first(n);
  grads_ = memory_->grads().first(n);
}

template <class T>
View<T> ParameterStore<T>::value(std::size_t index) {
  const auto& p = layout_.at(index);
  return {values_.data() + p.offset, p.shape};
}

template <class T>
View<T> ParameterStore<T>::grad(std::size_t index) {
  const auto& p = layout_.at(index);
  return {grads_.data() + p.offset, p.shape};
}

template <class T>
std::size_t ParameterStore<T>::index(const std::string& name) const {
  for (std::size_t i = 0; i < layout_.size(); ++i) {
    if (layout_[i].name == name) return i;
  }
  throw ArgumentError("no parameter named '" + name + "'");
}

template <class T>
bool ParameterStore<T>::same_layout(std::span<const ParameterInfo> other) const {
  if (other.size() != layout_.size()) return false;
  for (std::size_t i = 0; i < other.size(); ++i) {
    const auto &a = layout_[i], &b = other[i];
    if (a.name != b.name || !(a.shape == b.shape) || a.offset != b.offset || a.trainable != b.trainable) return false;
  }
  return true;
}

template class HeapParameterMemory<float>;
template class HeapParameterMemory<double>;
template class ParameterStore<float>;
template class ParameterStore<double>;

}  // namespace dtrain::graph
