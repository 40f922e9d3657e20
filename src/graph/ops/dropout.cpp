// dropout: inverted dropout with a counter-based mask.
//
// Element i of step t is dropped when to_unit(random_bits(seed, t, i)) < rate,
// i.e. when the top 53 bits m satisfy m < rate·2^53, i.e. m < ceil(rate·2^53)
// (rate·2^53 is exact in double); kept elements are scaled by
// 1/(1-rate) (Srivastava et al. 2014, "inverted" as in Keras' Dropout). The
// mask is a pure function of (seed, step, i): backward recomputes it instead of
// storing it, and any thread count gives the same mask.
#include "common.hpp"

#include "dtrain/core/random.hpp"
#include "dtrain/graph/ops.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace dtrain::graph {
namespace {

template <class T>
class Dropout final : public Op<T> {
 public:
  Dropout(double rate, std::uint64_t seed)
      : threshold_(static_cast<std::uint64_t>(std::ceil(std::ldexp(rate, 53)))),
        scale_(static_cast<T>(1.0 / (1.0 - rate))),
        seed_(seed) {}
  std::string name() const override { return "dropout"; }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    return in[0];
  }
  void forward(const OpContext<T>& c) override {
    // Backward runs in training mode whatever forward did: remember what forward did.
    training_ = c.training;
    step_ = c.step;
    // Element i of this rank's rows is element first_ + i of the global batch:
    // masks depend on the sample, not on how the batch was split over ranks.
    first_ = static_cast<std::uint64_t>(c.row_offset * (c.out.shape.rank() > 0 ? c.out.shape.inner() : 1));
    const T* x = c.in[0].data;
    T* y = c.out.data;
    if (!training_) {
      detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
        std::copy(x + b, x + e, y + b);
      });
      return;
    }
    detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
      for (auto i = b; i < e; ++i) y[i] = keep(i) ? x[i] * scale_ : T(0);
    });
  }
  void backward(const OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    const T* dy = c.dout.data;
    T* dx = c.din[0].data;
    if (!training_) {
      detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
        for (auto i = b; i < e; ++i) dx[i] += dy[i];
      });
      return;
    }
    detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
      for (auto i = b; i < e; ++i) {
        if (keep(i)) dx[i] += dy[i] * scale_;
      }
    });
  }

 private:
  bool keep(std::int64_t i) const {
    return (random_bits(seed_, step_, first_ + static_cast<std::uint64_t>(i)) >> 11) >= threshold_;
  }

  std::uint64_t threshold_;  // ceil(rate · 2^53)
  T scale_;
  std::uint64_t seed_;
  bool training_ = true;
  std::uint64_t step_ = 0;
  std::uint64_t first_ = 0;
};

}  // namespace

template <class T>
NodeId dropout(Graph<T>& g, NodeId x, double rate, std::uint64_t seed) {
  if (!(rate >= 0.0 && rate < 1.0)) {
    std::ostringstream msg;
    msg << "dropout: rate must be in [0, 1), got " << rate;
    throw ArgumentError(msg.str());
  }
  return detail::add_op<T, Dropout<T>>(g, {x}, rate, seed);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, dropout, NodeId, double, std::uint64_t)

}  // namespace dtrain::graph
