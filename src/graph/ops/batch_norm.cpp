// batch_norm: normalisation over every axis but the last (Keras
// BatchNormalization, axis=-1), inputs x, gamma, beta, moving_mean, moving_var.
//
// Training (Ioffe & Szegedy 2015, Algorithm 1), over the R = numel/C rows:
//   mean = Σx/R,  var = Σ(x-mean)²/R (biased),  inv = 1/sqrt(var + eps)
//   xhat = (x-mean)·inv,  y = gamma·xhat + beta
//   moving_mean = moving_mean·momentum + mean·(1-momentum), same for moving_var
//   (keras/src/layers/normalization/batch_normalization.py: biased variance).
// Backward (ibid., with Σ over the rows):
//   dbeta = Σdy,  dgamma = Σdy·xhat,  dx = gamma·inv/R · (R·dy - dbeta - xhat·dgamma)
// Inference: mean, var are the moving statistics (constants of the batch), so
//   dx = gamma·inv·dy,  dmoving_mean = -gamma·inv·Σdy,  dmoving_var = -gamma·inv²/2 · Σdy·xhat
//   (the last two only if asked for: moving statistics are normally non-trainable).
//
// The moving statistics are written in place by forward in training mode,
// through their (const) input views: they are the op's state, like Keras'
// non-trainable weights. The workspace holds mean and inv per channel (kept for
// backward) and per-row-block partial sums; partial sums are combined in block
// order, so results do not depend on the thread count.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"

#include <cmath>
#include <sstream>

namespace dtrain::graph {
namespace {

template <class T>
using Row = Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>>;
template <class T>
using CRow = Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>;
template <class T>
using CRows = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
template <class T>
using Rows = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

enum Input { kX = 0, kGamma, kBeta, kMovingMean, kMovingVar };

template <class T>
class BatchNorm final : public Op<T> {
 public:
  BatchNorm(double momentum, double epsilon) : momentum_(static_cast<T>(momentum)), epsilon_(static_cast<T>(epsilon)) {}
  std::string name() const override { return "batch_norm"; }

  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 5);
    if (in[kX].rank() < 2) throw_shape_error(name(), in, "input must have a batch axis and a channel axis");
    const auto c = in[kX][in[kX].rank() - 1];
    for (int i = kGamma; i <= kMovingVar; ++i) {
      if (in[i].rank() != 1 || in[i][0] != c) {
        throw_shape_error(name(), in,
                          "gamma, beta, moving_mean and moving_var must be vectors of the " + std::to_string(c) +
                              " channels");
      }
    }
    return in[kX];
  }

  std::int64_t workspace_size(std::span<const Shape> in, const Shape&) const override {
    const auto c = channels(in[kX]);
    return 2 * c + blocks(in[kX].numel() / c, c) * 2 * c;
  }

  void forward(const OpContext<T>& c) override {
    training_ = c.training;
    const auto ch = channels(c.in[kX].shape), rows = c.in[kX].size() / ch;
    Row<T> mean(c.workspace.data, ch), inv(c.workspace.data + ch, ch);
    if (training_) {
      // Two passes (mean, then centred squares): stable for large |mean|/std.
      column_sums(c.in[kX].data, nullptr, c.workspace.data + 2 * ch, rows, ch, mean, false);
      mean /= static_cast<T>(rows);
      column_sums(c.in[kX].data, mean.data(), c.workspace.data + 2 * ch, rows, ch, inv, true);
      inv /= static_cast<T>(rows);  // the batch variance, for now
      update_moving(c, mean, inv);
      inv = (inv + epsilon_).rsqrt();
    } else {
      mean = CRow<T>(c.in[kMovingMean].data, ch);
      inv = (CRow<T>(c.in[kMovingVar].data, ch) + epsilon_).rsqrt();
    }
    const CRow<T> gamma(c.in[kGamma].data, ch), beta(c.in[kBeta].data, ch);
    for_row_blocks(rows, ch, [&](std::int64_t r0, std::int64_t r1) {
      const CRows<T> x(c.in[kX].data + r0 * ch, r1 - r0, ch);
      Rows<T> y(c.out.data + r0 * ch, r1 - r0, ch);
      for (std::int64_t r = 0; r < r1 - r0; ++r) y.row(r) = (x.row(r) - mean) * inv * gamma + beta;
    });
  }

  void backward(const OpContext<T>& c) override {
    const auto ch = channels(c.in[kX].shape), rows = c.in[kX].size() / ch;
    const CRow<T> mean(c.workspace.data, ch), inv(c.workspace.data + ch, ch);
    const CRow<T> gamma(c.in[kGamma].data, ch);
    T* partials = c.workspace.data + 2 * ch;
    // Σdy and Σdy·xhat per channel, per row block, then in block order.
    for_row_blocks(rows, ch, [&](std::int64_t r0, std::int64_t r1) {
      const CRows<T> x(c.in[kX].data + r0 * ch, r1 - r0, ch), dy(c.dout.data + r0 * ch, r1 - r0, ch);
      T* p = partials + (r0 / row_block(ch)) * 2 * ch;
      Row<T> sdy(p, ch), sdyx(p + ch, ch);
      sdy.setZero();
      sdyx.setZero();
      for (std::int64_t r = 0; r < r1 - r0; ++r) {
        sdy += dy.row(r);
        sdyx += dy.row(r) * (x.row(r) - mean) * inv;
      }
    });
    const auto nb = blocks(rows, ch);
    Row<T> sum_dy(partials, ch), sum_dyx(partials + ch, ch);  // block 0 accumulates the rest
    for (std::int64_t b = 1; b < nb; ++b) {
      sum_dy += CRow<T>(partials + b * 2 * ch, ch);
      sum_dyx += CRow<T>(partials + b * 2 * ch + ch, ch);
    }
    if (!c.din[kGamma].empty()) Row<T>(c.din[kGamma].data, ch) += sum_dyx;
    if (!c.din[kBeta].empty()) Row<T>(c.din[kBeta].data, ch) += sum_dy;
    if (!training_) {
      if (!c.din[kMovingMean].empty()) Row<T>(c.din[kMovingMean].data, ch) -= gamma * inv * sum_dy;
      if (!c.din[kMovingVar].empty()) Row<T>(c.din[kMovingVar].data, ch) -= T(0.5) * gamma * inv * inv * sum_dyx;
    }
    if (c.din[kX].empty()) return;
    const T r_inv = T(1) / static_cast<T>(rows);
    for_row_blocks(rows, ch, [&](std::int64_t r0, std::int64_t r1) {
      const CRows<T> x(c.in[kX].data + r0 * ch, r1 - r0, ch), dy(c.dout.data + r0 * ch, r1 - r0, ch);
      Rows<T> dx(c.din[kX].data + r0 * ch, r1 - r0, ch);
      for (std::int64_t r = 0; r < r1 - r0; ++r) {
        if (training_) {
          const auto xhat = (x.row(r) - mean) * inv;
          dx.row(r) += gamma * inv * (dy.row(r) - r_inv * (sum_dy + xhat * sum_dyx));
        } else {
          dx.row(r) += gamma * inv * dy.row(r);
        }
      }
    });
  }

 private:
  static std::int64_t channels(const Shape& x) { return x[x.rank() - 1]; }
  static std::int64_t row_block(std::int64_t ch) { return std::max<std::int64_t>(1, detail::kElementBlock / ch); }
  static std::int64_t blocks(std::int64_t rows, std::int64_t ch) { return kernels::block_count(rows, row_block(ch)); }

  template <class F>
  static void for_row_blocks(std::int64_t rows, std::int64_t ch, F&& fn) {
    kernels::for_blocks(rows, row_block(ch), fn);
  }

  // out = Σ_rows x (centre == nullptr) or Σ_rows (x - centre)² (squares), by
  // row blocks into partials, then in block order.
  static void column_sums(const T* x_data, const T* centre, T* partials, std::int64_t rows, std::int64_t ch,
                          Row<T> out, bool squares) {
    for_row_blocks(rows, ch, [&](std::int64_t r0, std::int64_t r1) {
      const CRows<T> x(x_data + r0 * ch, r1 - r0, ch);
      Row<T> p(partials + (r0 / row_block(ch)) * ch, ch);
      p.setZero();
      if (squares) {
        const CRow<T> m(centre, ch);
        for (std::int64_t r = 0; r < r1 - r0; ++r) p += (x.row(r) - m).square();
      } else {
        for (std::int64_t r = 0; r < r1 - r0; ++r) p += x.row(r);
      }
    });
    out.setZero();
    for (std::int64_t b = 0; b < blocks(rows, ch); ++b) out += CRow<T>(partials + b * ch, ch);
  }

  // moving = moving·momentum + batch·(1-momentum), written in place.
  void update_moving(const OpContext<T>& c, const Row<T>& mean, const Row<T>& var) const {
    const auto ch = mean.size();
    Row<T> mm(const_cast<T*>(c.in[kMovingMean].data), ch), mv(const_cast<T*>(c.in[kMovingVar].data), ch);
    mm = mm * momentum_ + mean * (T(1) - momentum_);
    mv = mv * momentum_ + var * (T(1) - momentum_);
  }

  T momentum_, epsilon_;
  bool training_ = true;  // what forward did (backward always runs with training = true)
};

}  // namespace

template <class T>
NodeId batch_norm(Graph<T>& g, NodeId x, NodeId gamma, NodeId beta, NodeId moving_mean, NodeId moving_var,
                  double momentum, double epsilon) {
  if (!(momentum >= 0.0 && momentum <= 1.0)) {
    std::ostringstream msg;
    msg << "batch_norm: momentum must be in [0, 1], got " << momentum;
    throw ArgumentError(msg.str());
  }
  if (!(epsilon > 0.0)) {
    std::ostringstream msg;
    msg << "batch_norm: epsilon must be positive, got " << epsilon;
    throw ArgumentError(msg.str());
  }
  return detail::add_op<T, BatchNorm<T>>(g, {x, gamma, beta, moving_mean, moving_var}, momentum, epsilon);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, batch_norm, NodeId, NodeId, NodeId, NodeId, NodeId, double, double)

}  // namespace dtrain::graph
