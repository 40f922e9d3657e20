// layer_norm and rms_norm: normalisation over the last axis, one row (every
// leading index) at a time, with optional per-feature gamma/beta (rms_norm:
// scale). Inputs are x, then gamma if given, then beta if given.
//
// layer_norm (Ba et al. 2016; keras/src/layers/normalization/layer_normalization.py),
// over the C features of a row:
//   mean = Σx/C,  var = Σ(x-mean)²/C (biased),  inv = 1/sqrt(var + eps)
//   xhat = (x-mean)·inv,  y = gamma·xhat + beta
// Backward, with g = dy·gamma (dy without gamma):
//   dx = inv · (g - mean(g) - xhat·mean(g·xhat))
//   dgamma = Σ_rows dy·xhat,  dbeta = Σ_rows dy
//
// rms_norm (Zhang & Sennrich 2019; keras.ops.rms_normalization, the formula of
// keras.layers.RMSNormalization):
//   inv = 1/sqrt(Σx²/C + eps),  y = x·inv·scale
// Backward, with g = dy·scale:
//   dx = inv·g - x·inv³·mean(g·x),  dscale = Σ_rows dy·x·inv
//
// Determinism: every row is reduced by one loop in feature order; rows are cut
// into blocks of a fixed size (never the thread count); the per-feature sums of
// dgamma/dbeta are summed per block into the workspace and then in block order.
// The workspace holds mean and inv per row (kept from forward for backward),
// then the block partial sums.
#include "common.hpp"

#include "dtrain/graph/ops.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace dtrain::graph {
namespace {

std::int64_t features(const Shape& x) { return x[x.rank() - 1]; }
std::int64_t row_block(std::int64_t c) { return std::max<std::int64_t>(1, detail::kElementBlock / c); }

// What both ops share: the input layout, shape checks and the block-ordered
// parameter-gradient sums.
template <class T>
class RowNorm : public Op<T> {
 public:
  RowNorm(double epsilon, bool has_gamma, bool has_beta)
      : epsilon_(static_cast<T>(epsilon)), has_gamma_(has_gamma), has_beta_(has_beta) {}

  Shape output_shape(std::span<const Shape> in) const override {
    const std::size_t n = 1 + static_cast<std::size_t>(has_gamma_) + static_cast<std::size_t>(has_beta_);
    detail::expect_inputs(this->name(), in, n);
    if (in[0].rank() < 2) throw_shape_error(this->name(), in, "input must have a batch axis and a feature axis");
    const auto c = features(in[0]);
    for (std::size_t i = 1; i < in.size(); ++i) {
      if (in[i].rank() != 1 || in[i][0] != c) {
        throw_shape_error(this->name(), in,
                          std::string(this->name() == "rms_norm" ? "scale" : "gamma and beta") +
                              " must be vectors of the " + std::to_string(c) + " features");
      }
    }
    return in[0];
  }

  std::int64_t workspace_size(std::span<const Shape> in, const Shape&) const override {
    const auto c = features(in[0]), rows = in[0].numel() / c;
    const std::int64_t sums = (has_gamma_ ? 1 : 0) + (has_beta_ ? 1 : 0);
    return 2 * rows + kernels::block_count(rows, row_block(c)) * sums * c;
  }

 protected:
  std::size_t gamma_index() const { return 1; }
  std::size_t beta_index() const { return has_gamma_ ? 2 : 1; }

  // Per row r of a block: fn(r, xs, dys, sums) where `sums` is the block's
  // partial sums (the gamma sum first, then the beta sum); then adds the
  // partials into the parameter gradients in block order.
  template <class F>
  void parameter_sums(const OpContext<T>& c, F&& fn) const {
    const bool want_gamma = has_gamma_ && !c.din[gamma_index()].empty();
    const bool want_beta = has_beta_ && !c.din[beta_index()].empty();
    if (!want_gamma && !want_beta) return;
    const auto ch = features(c.in[0].shape), rows = c.in[0].size() / ch;
    const std::int64_t n_sums = (has_gamma_ ? 1 : 0) + (has_beta_ ? 1 : 0);
    T* partials = c.workspace.data + 2 * rows;
    kernels::for_blocks(rows, row_block(ch), [&](std::int64_t r0, std::int64_t r1) {
      T* p = partials + (r0 / row_block(ch)) * n_sums * ch;
      std::fill(p, p + n_sums * ch, T(0));
      T* pg = has_gamma_ ? p : nullptr;
      T* pb = has_beta_ ? p + (has_gamma_ ? ch : 0) : nullptr;
      for (std::int64_t r = r0; r < r1; ++r) fn(r, pg, pb);
    });
    const auto nb = kernels::block_count(rows, row_block(ch));
    for (std::int64_t b = 0; b < nb; ++b) {
      const T* p = partials + b * n_sums * ch;
      if (want_gamma) {
        T* d = c.din[gamma_index()].data;
        for (std::int64_t j = 0; j < ch; ++j) d[j] += p[j];
      }
      if (want_beta) {
        T* d = c.din[beta_index()].data;
        const T* pb = p + (has_gamma_ ? ch : 0);
        for (std::int64_t j = 0; j < ch; ++j) d[j] += pb[j];
      }
    }
  }

  T epsilon_;
  bool has_gamma_, has_beta_;
};

template <class T>
class LayerNorm final : public RowNorm<T> {
 public:
  using RowNorm<T>::RowNorm;
  std::string name() const override { return "layer_norm"; }

  void forward(const OpContext<T>& c) override {
    const auto ch = features(c.in[0].shape), rows = c.in[0].size() / ch;
    const T* gamma = this->has_gamma_ ? c.in[this->gamma_index()].data : nullptr;
    const T* beta = this->has_beta_ ? c.in[this->beta_index()].data : nullptr;
    T* mean_of = c.workspace.data;
    T* inv_of = c.workspace.data + rows;
    const T n = static_cast<T>(ch);
    kernels::for_blocks(rows, row_block(ch), [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const T* x = c.in[0].data + r * ch;
        T* y = c.out.data + r * ch;
        T s = 0;
        for (std::int64_t j = 0; j < ch; ++j) s += x[j];
        const T mean = s / n;
        T q = 0;  // two passes: stable when |mean| >> std
        for (std::int64_t j = 0; j < ch; ++j) q += (x[j] - mean) * (x[j] - mean);
        const T inv = T(1) / std::sqrt(q / n + this->epsilon_);
        mean_of[r] = mean;
        inv_of[r] = inv;
        for (std::int64_t j = 0; j < ch; ++j) {
          T v = (x[j] - mean) * inv;
          if (gamma) v *= gamma[j];
          if (beta) v += beta[j];
          y[j] = v;
        }
      }
    });
  }

  void backward(const OpContext<T>& c) override {
    const auto ch = features(c.in[0].shape), rows = c.in[0].size() / ch;
    const T* mean_of = c.workspace.data;
    const T* inv_of = c.workspace.data + rows;
    this->parameter_sums(c, [&](std::int64_t r, T* pg, T* pb) {
      const T* x = c.in[0].data + r * ch;
      const T* dy = c.dout.data + r * ch;
      const T mean = mean_of[r], inv = inv_of[r];
      if (pg) {
        for (std::int64_t j = 0; j < ch; ++j) pg[j] += dy[j] * ((x[j] - mean) * inv);
      }
      if (pb) {
        for (std::int64_t j = 0; j < ch; ++j) pb[j] += dy[j];
      }
    });
    if (c.din[0].empty()) return;
    const T* gamma = this->has_gamma_ ? c.in[this->gamma_index()].data : nullptr;
    const T n = static_cast<T>(ch);
    kernels::for_blocks(rows, row_block(ch), [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const T* x = c.in[0].data + r * ch;
        const T* dy = c.dout.data + r * ch;
        T* dx = c.din[0].data + r * ch;
        const T mean = mean_of[r], inv = inv_of[r];
        T sg = 0, sgx = 0;  // Σg, Σg·xhat
        for (std::int64_t j = 0; j < ch; ++j) {
          const T g = gamma ? dy[j] * gamma[j] : dy[j];
          sg += g;
          sgx += g * ((x[j] - mean) * inv);
        }
        const T mg = sg / n, mgx = sgx / n;
        for (std::int64_t j = 0; j < ch; ++j) {
          const T g = gamma ? dy[j] * gamma[j] : dy[j];
          dx[j] += inv * (g - mg - (x[j] - mean) * inv * mgx);
        }
      }
    });
  }
};

template <class T>
class RmsNorm final : public RowNorm<T> {
 public:
  RmsNorm(double epsilon, bool has_scale) : RowNorm<T>(epsilon, has_scale, false) {}
  std::string name() const override { return "rms_norm"; }

  void forward(const OpContext<T>& c) override {
    const auto ch = features(c.in[0].shape), rows = c.in[0].size() / ch;
    const T* scale = this->has_gamma_ ? c.in[this->gamma_index()].data : nullptr;
    T* inv_of = c.workspace.data + rows;
    const T n = static_cast<T>(ch);
    kernels::for_blocks(rows, row_block(ch), [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const T* x = c.in[0].data + r * ch;
        T* y = c.out.data + r * ch;
        T q = 0;
        for (std::int64_t j = 0; j < ch; ++j) q += x[j] * x[j];
        const T inv = T(1) / std::sqrt(q / n + this->epsilon_);
        inv_of[r] = inv;
        for (std::int64_t j = 0; j < ch; ++j) y[j] = scale ? x[j] * inv * scale[j] : x[j] * inv;
      }
    });
  }

  void backward(const OpContext<T>& c) override {
    const auto ch = features(c.in[0].shape), rows = c.in[0].size() / ch;
    const T* inv_of = c.workspace.data + rows;
    this->parameter_sums(c, [&](std::int64_t r, T* pg, T*) {
      const T* x = c.in[0].data + r * ch;
      const T* dy = c.dout.data + r * ch;
      const T inv = inv_of[r];
      for (std::int64_t j = 0; j < ch; ++j) pg[j] += dy[j] * (x[j] * inv);
    });
    if (c.din[0].empty()) return;
    const T* scale = this->has_gamma_ ? c.in[this->gamma_index()].data : nullptr;
    const T n = static_cast<T>(ch);
    kernels::for_blocks(rows, row_block(ch), [&](std::int64_t r0, std::int64_t r1) {
      for (std::int64_t r = r0; r < r1; ++r) {
        const T* x = c.in[0].data + r * ch;
        const T* dy = c.dout.data + r * ch;
        T* dx = c.din[0].data + r * ch;
        const T inv = inv_of[r];
        T sgx = 0;  // Σg·x
        for (std::int64_t j = 0; j < ch; ++j) sgx += (scale ? dy[j] * scale[j] : dy[j]) * x[j];
        const T k = inv * inv * inv * (sgx / n);
        for (std::int64_t j = 0; j < ch; ++j) {
          const T g = scale ? dy[j] * scale[j] : dy[j];
          dx[j] += inv * g - x[j] * k;
        }
      }
    });
  }
};

void check_epsilon(const char* op, double epsilon) {
  if (!(epsilon > 0.0) || !std::isfinite(epsilon)) {
    std::ostringstream msg;
    msg << op << ": epsilon must be positive, got " << epsilon;
    throw ArgumentError(msg.str());
  }
}

}  // namespace

template <class T>
NodeId layer_norm(Graph<T>& g, NodeId x, NodeId gamma, NodeId beta, double epsilon) {
  check_epsilon("layer_norm", epsilon);
  std::vector<NodeId> inputs{x};
  if (gamma >= 0) inputs.push_back(gamma);
  if (beta >= 0) inputs.push_back(beta);
  return detail::add_op<T, LayerNorm<T>>(g, std::move(inputs), epsilon, gamma >= 0, beta >= 0);
}

template <class T>
NodeId rms_norm(Graph<T>& g, NodeId x, NodeId scale, double epsilon) {
  check_epsilon("rms_norm", epsilon);
  std::vector<NodeId> inputs{x};
  if (scale >= 0) inputs.push_back(scale);
  return detail::add_op<T, RmsNorm<T>>(g, std::move(inputs), epsilon, scale >= 0);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, layer_norm, NodeId, NodeId, NodeId, double)
DTRAIN_INSTANTIATE_BUILDER(NodeId, rms_norm, NodeId, NodeId, double)

}  // namespace dtrain::graph
