// ParameterStore: every weight and gradient of a model, in two arenas of one
// layout. The model owns it; the graph, the gradient reducer, the optimizer and
// the checkpoint code view it (docs/design/parameter-store.md).
//
//   std::vector<graph::ParameterInfo> layout = graph.parameters();  // names, shapes, offsets
//   graph::ParameterStore<float> store(layout);                    // heap memory
//   graph.attach_parameters(store);                                // ops read and write it
//   store.value(0), store.grads() ...
//
// Each parameter starts on a 64-byte boundary inside the arenas, so all-reduce
// buckets, checkpoints and replica checksums see plain spans.
#pragma once

#include "dtrain/tensor.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace dtrain::graph {

using NodeId = std::int32_t;

struct ParameterInfo {
  std::string name;        // stable name, e.g. "dense_1/kernel"
  Shape shape;
  std::int64_t offset = 0; // into the parameter arenas
  bool trainable = true;
  NodeId node = -1;        // the graph node that reads it
};

// Parameters start on 64-byte boundaries (in elements of T, at most 16 floats).
inline constexpr std::int64_t kParameterAlign = 16;

// The offset the next parameter gets after `layout`; for an empty layout, 0.
// Also the number of elements an arena for `layout` needs.
std::int64_t arena_elements(std::span<const ParameterInfo> layout);

// Where a store's two arenas live. The memory must stay valid and unmoved for
// the object's life; each span holds at least the store's arena_elements().
template <class T>
class ParameterMemory {
 public:
  virtual ~ParameterMemory() = default;
  virtual std::span<T> values() = 0;
  virtual std::span<T> grads() = 0;
};

// Zeroed, 64-byte aligned heap memory: the default.
template <class T>
class HeapParameterMemory final : public ParameterMemory<T> {
 public:
  explicit HeapParameterMemory(std::int64_t elements);
  std::span<T> values() override { return values_; }
  std::span<T> grads() override { return grads_; }

 private:
  AlignedVector<T> values_, grads_;
};

template <class T>
class ParameterStore {
 public:
  // layout: offsets as arena_elements() assigns them, ascending. memory:
  // nullptr for heap memory; otherwise it must hold arena_elements(layout)
  // elements in each arena (ArgumentError if not). Shared with whoever else
  // needs it alive (a transport reading the arenas).
  explicit ParameterStore(std::vector<ParameterInfo> layout,
                          std::shared_ptr<ParameterMemory<T>> memory = nullptr);
  ParameterStore(const ParameterStore&) = delete;
  ParameterStore& operator=(const ParameterStore&) = delete;

  const std::vector<ParameterInfo>& parameters() const { return layout_; }
  std::int64_t elements() const { return elements_; }
  // The arenas, padding included (elements() long).
  std::span<T> values() { return values_; }
  std::span<T> grads() { return grads_; }
  std::span<const T> values() const { return values_; }
  View<T> value(std::size_t index);
  View<T> grad(std::size_t index);
  // Index of the parameter named `name`; ArgumentError naming it if none.
  std::size_t index(const std::string& name) const;
  // Whether `other` has the same names, shapes, offsets and trainability.
  bool same_layout(std::span<const ParameterInfo> other) const;

 private:
  std::vector<ParameterInfo> layout_;
  std::int64_t elements_ = 0;
  std::shared_ptr<ParameterMemory<T>> memory_;
  std::span<T> values_, grads_;
};

extern template class HeapParameterMemory<float>;
extern template class HeapParameterMemory<double>;
extern template class ParameterStore<float>;
extern template class ParameterStore<double>;

}  // namespace dtrain::graph
