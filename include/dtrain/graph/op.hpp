// The Op interface: the unit of differentiation.
//
// An op maps its input tensors to one output tensor and knows its local
// derivative. Forward and backward of an op live in one class, in one file.
//
// Gradient contract (read before writing an op):
//  - forward(c) writes c.out from c.in. It may keep what backward needs in
//    c.workspace (planned once, sized by workspace_size; never allocate).
//  - backward(c) ADDS dL/d(input i) into c.din[i] for every i whose view is
//    non-empty; an empty view means that input needs no gradient. It never
//    overwrites: when a value feeds several consumers, the graph zeroes its
//    gradient once and every consumer adds its part, in a fixed order.
//  - Both must be deterministic for a given shape, whatever the thread count:
//    parallel work uses kernels::for_blocks with fixed block sizes.
//  - output_shape(in) checks the inputs and throws ShapeError naming the op and
//    every input shape. Dimension 0 may be the symbolic batch (kBatch).
#pragma once

#include "dtrain/tensor.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace dtrain::graph {

// The symbolic batch dimension used while a graph is being built.
inline constexpr std::int64_t kBatch = -1;

// Told by an op's backward that the first `elements` elements of an input's
// gradient are final, before the op ends: data-parallel training starts
// all-reducing them while the op computes the rest. Prefixes only grow.
class GradientProgress {
 public:
  virtual void prefix_final(std::size_t input, std::int64_t elements) = 0;

 protected:
  ~GradientProgress() = default;
};

template <class T>
struct OpContext {
  std::span<const View<const T>> in;  // input values
  View<T> out;                        // output value
  std::span<const View<T>> din;       // input gradients to add into (empty view: not needed)
  View<const T> dout;                 // gradient of the output
  View<T> workspace;                  // scratch kept from forward to backward
  bool training = true;               // dropout, batch norm: training or inference
  std::uint64_t step = 0;             // counter for step-dependent randomness
  std::int64_t row_offset = 0;        // global index of this rank's first row in the batch
  GradientProgress* progress = nullptr;  // backward: someone uses early prefixes (optional)
};

template <class T>
class Op {
 public:
  virtual ~Op() = default;
  virtual std::string name() const = 0;
  virtual Shape output_shape(std::span<const Shape> in) const = 0;
  virtual std::int64_t workspace_size(std::span<const Shape> /*in*/, const Shape& /*out*/) const {
    return 0;
  }
  virtual void forward(const OpContext<T>& c) = 0;
  virtual void backward(const OpContext<T>& c) = 0;
};

// "matmul: <detail> (inputs [batch, 784], [512, 10])" as a ShapeError.
[[noreturn]] void throw_shape_error(const std::string& op, std::span<const Shape> in,
                                    const std::string& detail);

}  // namespace dtrain::graph
