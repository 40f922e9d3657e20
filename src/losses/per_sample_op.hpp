// The two fused op shapes every loss is built from (private to src/losses).
//
//  - ElementwiseLoss<T, Rule>: loss[r] = (1/n) Σ_j Rule::value(p_j, t_j) over the n
//    non-batch elements of sample r; d/dp_j = Rule::derivative(p_j, t_j) / n.
//  - ClassLoss<T, Rule>: y_pred's last axis holds K classes; loss[r] is the mean of
//    Rule::forward over the positions of sample r (one position for [b, K]).
//
// Both take (y_pred, y_true), give [batch], add a gradient into y_pred only, and
// split the batch into fixed blocks of rows (deterministic with any thread count).
#pragma once

#include "dtrain/core/error.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/op.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dtrain::losses::detail {

// Values per task: rows are grouped so that a block holds about this many values.
inline constexpr std::int64_t kValuesPerBlock = 1 << 14;

inline std::int64_t rows_per_block(std::int64_t values_per_row) {
  return std::max<std::int64_t>(1, kValuesPerBlock / std::max<std::int64_t>(1, values_per_row));
}

// a == b, or they differ only by a trailing axis of size 1 ([b] vs [b, 1]).
bool same_up_to_trailing_one(const Shape& a, const Shape& b);
// s without its last axis.
Shape drop_last_axis(const Shape& s);

// Throws ArgumentError if y_true was built to require a gradient (losses give none).
void expect_no_label_gradient(bool requires_grad, const char* loss);

// label_smoothing in [0, 1], else ArgumentError naming the loss.
void check_label_smoothing(const char* loss, double label_smoothing);

// Keras' backend.epsilon(): probabilities are clipped to [kEpsilon, 1 - kEpsilon].
inline constexpr double kEpsilon = 1e-7;

template <class T, class Rule>
class ElementwiseLoss final : public graph::Op<T> {
 public:
  explicit ElementwiseLoss(Rule rule) : rule_(std::move(rule)) {}
  std::string name() const override { return rule_.name(); }

  Shape output_shape(std::span<const Shape> in) const override {
    if (in.size() != 2) graph::throw_shape_error(name(), in, "expects 2 inputs (y_pred, y_true)");
    if (in[0].rank() < 1) graph::throw_shape_error(name(), in, "y_pred needs a batch axis");
    if (!same_up_to_trailing_one(in[0], in[1])) {
      graph::throw_shape_error(name(), in, "y_true must have y_pred's shape " + in[0].str());
    }
    return Shape{in[0][0]};
  }

  void forward(const graph::OpContext<T>& c) override {
    const std::int64_t rows = c.out.size();
    const std::int64_t n = rows == 0 ? 0 : c.in[0].size() / rows;
    const T inv_n = T(1) / static_cast<T>(n);
    kernels::for_blocks(rows, rows_per_block(n), [&](std::int64_t r0, std::int64_t r1) {
      for (auto r = r0; r < r1; ++r) {
        const T* p = c.in[0].data + r * n;
        const T* t = c.in[1].data + r * n;
        T acc = T(0);
        for (std::int64_t j = 0; j < n; ++j) acc += rule_.value(p[j], t[j]);
        c.out.data[r] = acc * inv_n;
      }
    });
  }

  void backward(const graph::OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    const std::int64_t rows = c.out.size();
    const std::int64_t n = rows == 0 ? 0 : c.in[0].size() / rows;
    const T inv_n = T(1) / static_cast<T>(n);
    kernels::for_blocks(rows, rows_per_block(n), [&](std::int64_t r0, std::int64_t r1) {
      for (auto r = r0; r < r1; ++r) {
        const T* p = c.in[0].data + r * n;
        const T* t = c.in[1].data + r * n;
        T* dp = c.din[0].data + r * n;
        const T g = c.dout.data[r] * inv_n;
        for (std::int64_t j = 0; j < n; ++j) dp[j] += g * rule_.derivative(p[j], t[j]);
      }
    });
  }

 private:
  Rule rule_;
};

// Rule interface for ClassLoss (k classes at one position):
//   static constexpr bool kSparse;         // y_true holds one class id per position
//   static constexpr bool kWorkspace;      // forward keeps k values per position in ws
//   T forward(const T* p, const T* t, std::int64_t k, T* ws) const;
//   void backward(const T* p, const T* t, std::int64_t k, const T* ws, T g, T* dp) const;
// For a sparse rule t points to the position's label, already validated.
template <class T, class Rule>
class ClassLoss final : public graph::Op<T> {
 public:
  explicit ClassLoss(Rule rule) : rule_(std::move(rule)) {}
  std::string name() const override { return rule_.name(); }

  Shape output_shape(std::span<const Shape> in) const override {
    if (in.size() != 2) graph::throw_shape_error(name(), in, "expects 2 inputs (y_pred, y_true)");
    if (in[0].rank() < 2) graph::throw_shape_error(name(), in, "y_pred needs a batch and a class axis");
    if (in[0][in[0].rank() - 1] < 1) graph::throw_shape_error(name(), in, "needs at least one class");
    const Shape expected = Rule::kSparse ? drop_last_axis(in[0]) : in[0];
    if (!same_up_to_trailing_one(expected, in[1])) {
      graph::throw_shape_error(name(), in, "y_true must have shape " + expected.str());
    }
    return Shape{in[0][0]};
  }

  std::int64_t workspace_size(std::span<const Shape> in, const Shape& /*out*/) const override {
    return Rule::kWorkspace ? in[0].numel() : 0;
  }

  void forward(const graph::OpContext<T>& c) override {
    const Layout l = layout(c);
    if constexpr (Rule::kSparse) check_labels(c.in[1].data, l);
    kernels::for_blocks(l.rows, rows_per_block(l.inner), [&](std::int64_t r0, std::int64_t r1) {
      for (auto r = r0; r < r1; ++r) {
        T acc = T(0);
        for (std::int64_t q = 0; q < l.positions; ++q) {
          const std::int64_t at = r * l.positions + q;
          acc += rule_.forward(c.in[0].data + at * l.k, c.in[1].data + at * l.label_stride, l.k,
                               Rule::kWorkspace ? c.workspace.data + at * l.k : nullptr);
        }
        c.out.data[r] = acc / static_cast<T>(l.positions);
      }
    });
  }

  void backward(const graph::OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    const Layout l = layout(c);
    kernels::for_blocks(l.rows, rows_per_block(l.inner), [&](std::int64_t r0, std::int64_t r1) {
      for (auto r = r0; r < r1; ++r) {
        const T g = c.dout.data[r] / static_cast<T>(l.positions);
        for (std::int64_t q = 0; q < l.positions; ++q) {
          const std::int64_t at = r * l.positions + q;
          rule_.backward(c.in[0].data + at * l.k, c.in[1].data + at * l.label_stride, l.k,
                         Rule::kWorkspace ? c.workspace.data + at * l.k : nullptr, g,
                         c.din[0].data + at * l.k);
        }
      }
    });
  }

 private:
  struct Layout {
    std::int64_t rows, inner, k, positions, label_stride;
  };
  static Layout layout(const graph::OpContext<T>& c) {
    Layout l{};
    l.rows = c.out.size();
    l.k = c.in[0].shape[c.in[0].shape.rank() - 1];
    l.inner = l.rows == 0 ? 0 : c.in[0].size() / l.rows;
    l.positions = l.inner / l.k;
    l.label_stride = Rule::kSparse ? 1 : l.k;
    return l;
  }
  // Every label must be an integer class id in [0, k): checked serially, first bad
  // one reported, so the message is the same with any thread count.
  void check_labels(const T* labels, const Layout& l) const;

  Rule rule_;
};

// Names the first bad sparse label: "<loss>: label <v> at row <r>[, position <q>] is not
// a class id in [0, <k>)". Defined in crossentropy.cpp.
[[noreturn]] void throw_bad_label(const std::string& loss, double value, std::int64_t row,
                                  std::int64_t position, std::int64_t positions, std::int64_t k);

template <class T, class Rule>
void ClassLoss<T, Rule>::check_labels(const T* labels, const Layout& l) const {
  const T k = static_cast<T>(l.k);
  for (std::int64_t i = 0; i < l.rows * l.positions; ++i) {
    const T v = labels[i];
    // !(v >= 0) also catches NaN.
    if (!(v >= T(0)) || !(v < k) || std::floor(v) != v) {
      throw_bad_label(name(), static_cast<double>(v), i / l.positions, i % l.positions, l.positions, l.k);
    }
  }
}

template <class T, class O, class Rule>
graph::NodeId add_loss(graph::Graph<T>& g, graph::NodeId y_pred, graph::NodeId y_true, Rule rule) {
  expect_no_label_gradient(g.requires_grad(y_true), rule.name());
  return g.add(std::make_unique<O>(std::move(rule)), {y_pred, y_true});
}

}  // namespace dtrain::losses::detail
