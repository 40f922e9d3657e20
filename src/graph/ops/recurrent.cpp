// simple_rnn, lstm and gru: Keras 3's recurrent layers over [batch, time,
// features], one op each, with backpropagation through time in backward.
//
// Formulas (keras/src/layers/rnn/simple_rnn.py, lstm.py, gru.py), per step t,
// h_0 = 0 (and c_0 = 0), act = activation, ract = recurrent_activation:
//   SimpleRNN: h = act(x·K + b + h_{t-1}·R)
//   LSTM:      a = x·K + h_{t-1}·R + b, columns [i | f | c | o] of `units` each
//              i = ract(a_i), f = ract(a_f), g = act(a_c), o = ract(a_o)
//              c_t = f·c_{t-1} + i·g,  h = o·act(c_t)
//   GRU (reset_after=True; bias [2, 3u]: row 0 input bias, row 1 recurrent bias),
//              columns [z | r | h]:
//              xz|xr|xh = x·K + b_0,   rz|rr|rh = h_{t-1}·R + b_1
//              z = ract(xz + rz), r = ract(xr + rr), hh = act(xh + r·rh)
//              h = z·h_{t-1} + (1 - z)·hh
// The activations are tanh, sigmoid, relu or linear: each derivative is a
// function of the activation's output, so forward keeps outputs only.
//
// Work: the input projection x·K (+ b) is one GEMM over all batch*time rows; the
// recurrent product h_{t-1}·R one GEMM per step. Backward mirrors it: per step
// the gradient of the pre-activations (dA_t) and dh_{t-1} = dA_t·Rᵀ (+ GRU's
// direct z·dh); then dx = dA·Kᵀ, dK = xᵀ·dA over all rows at once, and
// dR = Σ_t h_{t-1}ᵀ·dA_t as one GEMM over the time-major [time*batch] rows.
// Elementwise work and bias sums are serial loops in a fixed order and the GEMMs
// use fixed blocks (kernels/gemm.hpp): results never depend on the thread count.
//
// Workspace (per the planned batch B, time T, units U, gate columns G*U):
//   xw   [B*T, GU]   input projection, batch-major (row b*T + t)
//   hs   [T+1, B, U] states, time-major, hs[0] = 0
//   cs   [T+1, B, U] LSTM cell states (LSTM only)
//   gate [T, B, GU]  activation outputs (LSTM i,f,g,o; GRU z,r,hh; RNN h)
//   rh   [T, B, U]   GRU's h_{t-1}·R_h + b_1h (GRU only)
//   rec  [B, GU]     the step's recurrent product
//   da   [B*T, GU]   backward: dA, batch-major (for dx, dK, input bias)
//   dar  [T, B, GU]  backward: dA on the recurrent side, time-major (for dR)
//   dh, dc [B, U]    backward: carried gradients
#include "common.hpp"

#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/gemm.hpp"

#include <algorithm>
#include <cmath>

namespace dtrain::graph {
namespace {

enum class Cell { kSimple, kLstm, kGru };

int gates(Cell c) { return c == Cell::kSimple ? 1 : c == Cell::kLstm ? 4 : 3; }

template <class T>
T apply(RecurrentActivation a, T x) {
  switch (a) {
    case RecurrentActivation::kTanh: return std::tanh(x);
    case RecurrentActivation::kSigmoid: return T(1) / (T(1) + std::exp(-x));
    case RecurrentActivation::kRelu: return x > T(0) ? x : T(0);
    case RecurrentActivation::kLinear: return x;
  }
  return x;
}

// d act / d x as a function of y = act(x).
template <class T>
T slope(RecurrentActivation a, T y) {
  switch (a) {
    case RecurrentActivation::kTanh: return T(1) - y * y;
    case RecurrentActivation::kSigmoid: return y * (T(1) - y);
    case RecurrentActivation::kRelu: return y > T(0) ? T(1) : T(0);
    case RecurrentActivation::kLinear: return T(1);
  }
  return T(1);
}

template <class T>
class Recurrent final : public Op<T> {
 public:
  Recurrent(Cell cell, RecurrentOptions o) : cell_(cell), o_(o) {}

  std::string name() const override {
    return cell_ == Cell::kSimple ? "simple_rnn" : cell_ == Cell::kLstm ? "lstm" : "gru";
  }

  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, o_.use_bias ? 4 : 3);
    if (in[0].rank() != 3) throw_shape_error(name(), in, "input must be [batch, time, features]");
    if (in[0][1] < 1) throw_shape_error(name(), in, "needs at least one time step");
    const auto f = in[0][2], gu = in[2][1], u = in[2][0];
    if (in[1].rank() != 2 || in[2].rank() != 2 || in[1][0] != f || in[1][1] != gu || gu != gates(cell_) * u) {
      throw_shape_error(name(), in,
                        "kernel must be [features, " + std::to_string(gates(cell_)) +
                            "*units] and recurrent_kernel [units, " + std::to_string(gates(cell_)) + "*units]");
    }
    if (o_.use_bias) {
      const bool ok = cell_ == Cell::kGru ? in[3] == Shape{2, gu} : in[3] == Shape{gu};
      if (!ok) throw_shape_error(name(), in, cell_ == Cell::kGru ? "bias must be [2, 3*units]" : "bias must match the kernel's columns");
    }
    return o_.return_sequences ? Shape{in[0][0], in[0][1], u} : Shape{in[0][0], u};
  }

  std::int64_t workspace_size(std::span<const Shape> in, const Shape&) const override {
    const Dims d = dims(in[0], in[2]);
    return layout(d).total;
  }

  void forward(const OpContext<T>& c) override {
    const Dims d = dims(c.in[0].shape, c.in[2].shape);
    const Layout L = layout(d);
    T* w = c.workspace.data;
    T* xw = w + L.xw;
    T* hs = w + L.hs;
    T* cs = w + L.cs;
    T* gate = w + L.gate;
    T* rh = w + L.rh;
    T* rec = w + L.rec;
    const auto B = d.b, Tn = d.t, U = d.u, GU = d.gu;
    const T* K = c.in[1].data;
    const T* R = c.in[2].data;
    const T* bias = o_.use_bias ? c.in[3].data : nullptr;

    kernels::gemm_nn(c.in[0].data, K, xw, B * Tn, d.f, GU, false);
    if (bias) {
      for (std::int64_t r = 0; r < B * Tn; ++r) {
        for (std::int64_t j = 0; j < GU; ++j) xw[r * GU + j] += bias[j];
      }
    }
    std::fill(hs, hs + B * U, T(0));
    if (cell_ == Cell::kLstm) std::fill(cs, cs + B * U, T(0));

    for (std::int64_t t = 0; t < Tn; ++t) {
      const T* hp = hs + t * B * U;
      T* hn = hs + (t + 1) * B * U;
      T* gt = gate + t * B * GU;
      kernels::gemm_nn(hp, R, rec, B, U, GU, false);
      for (std::int64_t b = 0; b < B; ++b) {
        const T* xr = xw + (b * Tn + t) * GU;
        const T* rr = rec + b * GU;
        T* g = gt + b * GU;
        T* h = hn + b * U;
        const T* hprev = hp + b * U;
        if (cell_ == Cell::kSimple) {
          for (std::int64_t j = 0; j < U; ++j) h[j] = g[j] = apply(o_.activation, xr[j] + rr[j]);
        } else if (cell_ == Cell::kLstm) {
          const T* cp = cs + t * B * U + b * U;
          T* cn = cs + (t + 1) * B * U + b * U;
          for (std::int64_t j = 0; j < U; ++j) {
            const T i = apply(o_.recurrent_activation, xr[j] + rr[j]);
            const T f = apply(o_.recurrent_activation, xr[U + j] + rr[U + j]);
            const T gg = apply(o_.activation, xr[2 * U + j] + rr[2 * U + j]);
            const T o = apply(o_.recurrent_activation, xr[3 * U + j] + rr[3 * U + j]);
            g[j] = i, g[U + j] = f, g[2 * U + j] = gg, g[3 * U + j] = o;
            cn[j] = f * cp[j] + i * gg;
            h[j] = o * apply(o_.activation, cn[j]);
          }
        } else {
          const T* b1 = bias ? bias + GU : nullptr;
          T* rht = rh + t * B * U + b * U;
          for (std::int64_t j = 0; j < U; ++j) {
            const T rz = rr[j] + (b1 ? b1[j] : T(0));
            const T rr_ = rr[U + j] + (b1 ? b1[U + j] : T(0));
            const T rhh = rr[2 * U + j] + (b1 ? b1[2 * U + j] : T(0));
            const T z = apply(o_.recurrent_activation, xr[j] + rz);
            const T r = apply(o_.recurrent_activation, xr[U + j] + rr_);
            const T hh = apply(o_.activation, xr[2 * U + j] + r * rhh);
            g[j] = z, g[U + j] = r, g[2 * U + j] = hh;
            rht[j] = rhh;
            h[j] = z * hprev[j] + (T(1) - z) * hh;
          }
        }
      }
    }
    // The output: every h_t ([B, T, U]) or the last one ([B, U]).
    for (std::int64_t b = 0; b < B; ++b) {
      if (o_.return_sequences) {
        for (std::int64_t t = 0; t < Tn; ++t) {
          std::copy_n(hs + (t + 1) * B * U + b * U, U, c.out.data + (b * Tn + t) * U);
        }
      } else {
        std::copy_n(hs + Tn * B * U + b * U, U, c.out.data + b * U);
      }
    }
  }

  void backward(const OpContext<T>& c) override {
    const Dims d = dims(c.in[0].shape, c.in[2].shape);
    const Layout L = layout(d);
    T* w = c.workspace.data;
    const T* hs = w + L.hs;
    const T* cs = w + L.cs;
    const T* gate = w + L.gate;
    const T* rh = w + L.rh;
    T* da = w + L.da;
    T* dar = w + L.dar;
    T* dh = w + L.dh;
    T* dc = w + L.dc;
    const auto B = d.b, Tn = d.t, U = d.u, GU = d.gu;
    const T* R = c.in[2].data;
    std::fill(dh, dh + B * U, T(0));
    if (cell_ == Cell::kLstm) std::fill(dc, dc + B * U, T(0));

    for (std::int64_t t = Tn - 1; t >= 0; --t) {
      // dh: the carried gradient plus the output's gradient at step t.
      for (std::int64_t b = 0; b < B; ++b) {
        const T* dy = nullptr;
        if (o_.return_sequences) dy = c.dout.data + (b * Tn + t) * U;
        else if (t == Tn - 1) dy = c.dout.data + b * U;
        if (dy) {
          for (std::int64_t j = 0; j < U; ++j) dh[b * U + j] += dy[j];
        }
      }
      const T* gt = gate + t * B * GU;
      T* dart = dar + t * B * GU;
      for (std::int64_t b = 0; b < B; ++b) {
        const T* g = gt + b * GU;
        T* dx = da + (b * Tn + t) * GU;
        T* dr = dart + b * GU;
        T* dhb = dh + b * U;
        if (cell_ == Cell::kSimple) {
          for (std::int64_t j = 0; j < U; ++j) dx[j] = dr[j] = dhb[j] * slope(o_.activation, g[j]);
        } else if (cell_ == Cell::kLstm) {
          const T* cp = cs + t * B * U + b * U;
          const T* cn = cs + (t + 1) * B * U + b * U;
          T* dcb = dc + b * U;
          for (std::int64_t j = 0; j < U; ++j) {
            const T i = g[j], f = g[U + j], gg = g[2 * U + j], o = g[3 * U + j];
            const T tc = apply(o_.activation, cn[j]);
            const T dct = dcb[j] + dhb[j] * o * slope(o_.activation, tc);
            dx[j] = dct * gg * slope(o_.recurrent_activation, i);
            dx[U + j] = dct * cp[j] * slope(o_.recurrent_activation, f);
            dx[2 * U + j] = dct * i * slope(o_.activation, gg);
            dx[3 * U + j] = dhb[j] * tc * slope(o_.recurrent_activation, o);
            dcb[j] = dct * f;
          }
          std::copy_n(dx, GU, dr);
        } else {
          const T* hprev = hs + t * B * U + b * U;
          const T* rht = rh + t * B * U + b * U;
          for (std::int64_t j = 0; j < U; ++j) {
            const T z = g[j], r = g[U + j], hh = g[2 * U + j];
            const T dah = dhb[j] * (T(1) - z) * slope(o_.activation, hh);
            const T daz = dhb[j] * (hprev[j] - hh) * slope(o_.recurrent_activation, z);
            const T dar_ = dah * rht[j] * slope(o_.recurrent_activation, r);
            dx[j] = dr[j] = daz;
            dx[U + j] = dr[U + j] = dar_;
            dx[2 * U + j] = dah;
            dr[2 * U + j] = dah * r;
          }
        }
      }
      // dh_{t-1} = dA_t·Rᵀ (+ z·dh for the GRU's direct path).
      if (cell_ == Cell::kGru) {
        for (std::int64_t b = 0; b < B; ++b) {
          for (std::int64_t j = 0; j < U; ++j) dh[b * U + j] *= gt[b * GU + j];
        }
        kernels::gemm_nt(dart, R, dh, B, GU, U, true);
      } else {
        kernels::gemm_nt(dart, R, dh, B, GU, U, false);
      }
    }

    const T* x = c.in[0].data;
    if (!c.din[0].empty()) kernels::gemm_nt(da, c.in[1].data, c.din[0].data, B * Tn, GU, d.f, true);
    if (!c.din[1].empty()) kernels::gemm_tn(x, da, c.din[1].data, B * Tn, d.f, GU, true);
    if (!c.din[2].empty()) kernels::gemm_tn(hs, dar, c.din[2].data, Tn * B, U, GU, true);
    if (o_.use_bias && !c.din[3].empty()) {
      T* db = c.din[3].data;
      for (std::int64_t r = 0; r < B * Tn; ++r) {
        for (std::int64_t j = 0; j < GU; ++j) db[j] += da[r * GU + j];
      }
      if (cell_ == Cell::kGru) {
        for (std::int64_t r = 0; r < Tn * B; ++r) {
          for (std::int64_t j = 0; j < GU; ++j) db[GU + j] += dar[r * GU + j];
        }
      }
    }
  }

 private:
  struct Dims {
    std::int64_t b, t, f, u, gu;
  };
  struct Layout {
    std::int64_t xw, hs, cs, gate, rh, rec, da, dar, dh, dc, total;
  };

  Dims dims(const Shape& x, const Shape& r) const { return {x[0], x[1], x[2], r[0], r[1]}; }

  Layout layout(const Dims& d) const {
    Layout L{};
    std::int64_t at = 0;
    const auto take = [&](std::int64_t n) {
      const auto p = at;
      at += n;
      return p;
    };
    L.xw = take(d.b * d.t * d.gu);
    L.hs = take((d.t + 1) * d.b * d.u);
    L.cs = take(cell_ == Cell::kLstm ? (d.t + 1) * d.b * d.u : 0);
    L.gate = take(d.t * d.b * d.gu);
    L.rh = take(cell_ == Cell::kGru ? d.t * d.b * d.u : 0);
    L.rec = take(d.b * d.gu);
    L.da = take(d.b * d.t * d.gu);
    L.dar = take(d.t * d.b * d.gu);
    L.dh = take(d.b * d.u);
    L.dc = take(cell_ == Cell::kLstm ? d.b * d.u : 0);
    L.total = at;
    return L;
  }

  Cell cell_;
  RecurrentOptions o_;
};

template <class T>
NodeId add_recurrent(Graph<T>& g, Cell cell, NodeId x, NodeId kernel, NodeId recurrent_kernel, NodeId bias,
                     RecurrentOptions o) {
  o.use_bias = bias >= 0;
  std::vector<NodeId> inputs{x, kernel, recurrent_kernel};
  if (bias >= 0) inputs.push_back(bias);
  return detail::add_op<T, Recurrent<T>>(g, std::move(inputs), cell, o);
}

}  // namespace

RecurrentActivation parse_recurrent_activation(const std::string& name) {
  if (name == "tanh") return RecurrentActivation::kTanh;
  if (name == "sigmoid") return RecurrentActivation::kSigmoid;
  if (name == "relu") return RecurrentActivation::kRelu;
  if (name == "linear" || name.empty()) return RecurrentActivation::kLinear;
  throw ArgumentError("recurrent layers support the activations tanh, sigmoid, relu and linear, got '" + name + "'");
}

template <class T>
NodeId simple_rnn(Graph<T>& g, NodeId x, NodeId kernel, NodeId recurrent_kernel, NodeId bias, RecurrentOptions o) {
  return add_recurrent(g, Cell::kSimple, x, kernel, recurrent_kernel, bias, o);
}
template <class T>
NodeId lstm(Graph<T>& g, NodeId x, NodeId kernel, NodeId recurrent_kernel, NodeId bias, RecurrentOptions o) {
  return add_recurrent(g, Cell::kLstm, x, kernel, recurrent_kernel, bias, o);
}
template <class T>
NodeId gru(Graph<T>& g, NodeId x, NodeId kernel, NodeId recurrent_kernel, NodeId bias, RecurrentOptions o) {
  return add_recurrent(g, Cell::kGru, x, kernel, recurrent_kernel, bias, o);
}

DTRAIN_INSTANTIATE_BUILDER(NodeId, simple_rnn, NodeId, NodeId, NodeId, NodeId, RecurrentOptions)
DTRAIN_INSTANTIATE_BUILDER(NodeId, lstm, NodeId, NodeId, NodeId, NodeId, RecurrentOptions)
DTRAIN_INSTANTIATE_BUILDER(NodeId, gru, NodeId, NodeId, NodeId, NodeId, RecurrentOptions)

}  // namespace dtrain::graph
