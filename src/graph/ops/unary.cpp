// Elementwise unary ops: each is a rule (forward value, local derivative) plugged
// into one Unary<T, Rule> op. The derivative may use the input x, the output y,
// or both; `a` is the rule's parameter (alpha, scale factor).
#include "common.hpp"

#include "dtrain/graph/ops.hpp"

#include <cmath>

namespace dtrain::graph {
namespace {

template <class T>
using Arr = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using CArr = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// Each rule: name; y = f(x); dx += dy * f'(x, y).
struct ScaleRule {
  static constexpr const char* kName = "scale";
  template <class T> static void f(CArr<T> x, Arr<T> y, T a) { y = x * a; }
  template <class T> static void df(CArr<T>, CArr<T>, CArr<T> dy, Arr<T> dx, T a) { dx += dy * a; }
};
struct ReluRule {
  static constexpr const char* kName = "relu";
  template <class T> static void f(CArr<T> x, Arr<T> y, T) { y = x.max(T(0)); }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T) {
    dx += (x > T(0)).select(dy, T(0));
  }
};
struct LeakyReluRule {
  static constexpr const char* kName = "leaky_relu";
  template <class T> static void f(CArr<T> x, Arr<T> y, T a) { y = (x > T(0)).select(x, x * a); }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T a) {
    dx += (x > T(0)).select(dy, dy * a);
  }
};
struct EluRule {
  static constexpr const char* kName = "elu";
  template <class T> static void f(CArr<T> x, Arr<T> y, T a) {
    y = (x > T(0)).select(x, a * (x.min(T(0)).exp() - T(1)));
  }
  template <class T> static void df(CArr<T> x, CArr<T> y, CArr<T> dy, Arr<T> dx, T a) {
    dx += (x > T(0)).select(dy, dy * (y + a));
  }
};
// x·Φ(x), Φ the standard normal CDF (Keras approximate=False). Keras writes
// Φ(x) = 0.5·(1 + erf(x/√2)); 0.5·erfc(-x/√2) is the same function without the
// cancellation in 1 + erf for x ≪ 0 (gelu(-10) is -7.6e-23, not 0).
// f' = Φ(x) + x·φ(x), φ the standard normal density.
struct GeluRule {
  static constexpr const char* kName = "gelu";
  static constexpr double kInvSqrt2 = 0.7071067811865476;
  static constexpr double kInvSqrt2Pi = 0.3989422804014327;
  template <class T> static void f(CArr<T> x, Arr<T> y, T) {
    y = x.unaryExpr([](T v) { return T(0.5) * v * std::erfc(-v * T(kInvSqrt2)); });
  }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T) {
    dx += dy * x.unaryExpr([](T v) {
      return T(0.5) * std::erfc(-v * T(kInvSqrt2)) + v * T(kInvSqrt2Pi) * std::exp(T(-0.5) * v * v);
    });
  }
};
// 0.5·x·(1 + tanh(u)), u = sqrt(2/π)·(x + 0.044715·x³) (Keras approximate=True).
// f' = 0.5·(1 + t) + 0.5·x·(1 - t²)·sqrt(2/π)·(1 + 3·0.044715·x²); the second term
// is taken as 0 once tanh has saturated (1 - t² == 0), so x² overflowing in float
// cannot turn 0·inf into NaN.
struct GeluTanhRule {
  static constexpr const char* kName = "gelu_approximate";
  static constexpr double kC = 0.7978845608028654;  // sqrt(2/π)
  static constexpr double kK = 0.044715;
  template <class T> static void f(CArr<T> x, Arr<T> y, T) {
    y = x.unaryExpr([](T v) { return T(0.5) * v * (T(1) + std::tanh(T(kC) * (v + T(kK) * v * v * v))); });
  }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T) {
    dx += dy * x.unaryExpr([](T v) {
      const T t = std::tanh(T(kC) * (v + T(kK) * v * v * v));
      const T s = T(1) - t * t;
      const T tail = s == T(0) ? T(0) : T(0.5) * v * s * T(kC) * (T(1) + T(3 * kK) * v * v);
      return T(0.5) * (T(1) + t) + tail;
    });
  }
};
// x·σ(x) (Keras silu, alias swish), f' = σ·(1 + x·(1 - σ)). σ uses std::exp, which
// overflows to inf (σ = 0, y = -0) for x ≪ 0; Eigen's vectorised exp clamps its
// argument near 88 in float, and x / (1 + e^88) is not small once |x| ~ 1e38.
struct SiluRule {
  static constexpr const char* kName = "silu";
  template <class T> static T sigma(T v) { return T(1) / (T(1) + std::exp(-v)); }
  template <class T> static void f(CArr<T> x, Arr<T> y, T) {
    y = x.unaryExpr([](T v) { return v * sigma(v); });
  }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T) {
    dx += dy * x.unaryExpr([](T v) {
      const T s = sigma(v);
      return s * (T(1) + v * (T(1) - s));
    });
  }
};
struct SigmoidRule {
  static constexpr const char* kName = "sigmoid";
  template <class T> static void f(CArr<T> x, Arr<T> y, T) { y = T(1) / (T(1) + (-x).exp()); }
  template <class T> static void df(CArr<T>, CArr<T> y, CArr<T> dy, Arr<T> dx, T) { dx += dy * y * (T(1) - y); }
};
struct TanhRule {
  static constexpr const char* kName = "tanh";
  template <class T> static void f(CArr<T> x, Arr<T> y, T) { y = x.tanh(); }
  template <class T> static void df(CArr<T>, CArr<T> y, CArr<T> dy, Arr<T> dx, T) { dx += dy * (T(1) - y * y); }
};
struct SoftplusRule {  // log(1 + e^x), stable: max(x, 0) + log1p(e^-|x|)
  static constexpr const char* kName = "softplus";
  template <class T> static void f(CArr<T> x, Arr<T> y, T) { y = x.max(T(0)) + (-x.abs()).exp().log1p(); }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T) {
    dx += dy / (T(1) + (-x).exp());
  }
};
struct AbsRule {
  static constexpr const char* kName = "abs";
  template <class T> static void f(CArr<T> x, Arr<T> y, T) { y = x.abs(); }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T) {
    dx += (x > T(0)).select(dy, (x < T(0)).select(-dy, T(0)));
  }
};
struct SquareRule {
  static constexpr const char* kName = "square";
  template <class T> static void f(CArr<T> x, Arr<T> y, T) { y = x.square(); }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T) { dx += T(2) * x * dy; }
};
struct ExpRule {
  static constexpr const char* kName = "exp";
  template <class T> static void f(CArr<T> x, Arr<T> y, T) { y = x.exp(); }
  template <class T> static void df(CArr<T>, CArr<T> y, CArr<T> dy, Arr<T> dx, T) { dx += dy * y; }
};
struct LogRule {
  static constexpr const char* kName = "log";
  template <class T> static void f(CArr<T> x, Arr<T> y, T) { y = x.log(); }
  template <class T> static void df(CArr<T> x, CArr<T>, CArr<T> dy, Arr<T> dx, T) { dx += dy / x; }
};

template <class T, class Rule>
class Unary final : public Op<T> {
 public:
  explicit Unary(T a = T(0)) : a_(a) {}
  std::string name() const override { return Rule::kName; }
  Shape output_shape(std::span<const Shape> in) const override {
    detail::expect_inputs(name(), in, 1);
    return in[0];
  }
  void forward(const OpContext<T>& c) override {
    detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
      Rule::template f<T>(CArr<T>(c.in[0].data + b, e - b), Arr<T>(c.out.data + b, e - b), a_);
    });
  }
  void backward(const OpContext<T>& c) override {
    if (c.din[0].empty()) return;
    detail::for_elements(c.out.size(), [&](std::int64_t b, std::int64_t e) {
      const auto n = e - b;
      Rule::template df<T>(CArr<T>(c.in[0].data + b, n), CArr<T>(c.out.data + b, n),
                           CArr<T>(c.dout.data + b, n), Arr<T>(c.din[0].data + b, n), a_);
    });
  }

 private:
  T a_;
};

template <class Rule, class T>
NodeId unary(Graph<T>& g, NodeId x, double a = 0.0) {
  return detail::add_op<T, Unary<T, Rule>>(g, {x}, static_cast<T>(a));
}

}  // namespace

template <class T> NodeId scale(Graph<T>& g, NodeId x, double f) { return unary<ScaleRule>(g, x, f); }
template <class T> NodeId relu(Graph<T>& g, NodeId x) { return unary<ReluRule>(g, x); }
template <class T> NodeId leaky_relu(Graph<T>& g, NodeId x, double a) { return unary<LeakyReluRule>(g, x, a); }
template <class T> NodeId elu(Graph<T>& g, NodeId x, double a) { return unary<EluRule>(g, x, a); }
template <class T> NodeId gelu(Graph<T>& g, NodeId x, bool approximate) {
  return approximate ? unary<GeluTanhRule>(g, x) : unary<GeluRule>(g, x);
}
template <class T> NodeId silu(Graph<T>& g, NodeId x) { return unary<SiluRule>(g, x); }
template <class T> NodeId sigmoid(Graph<T>& g, NodeId x) { return unary<SigmoidRule>(g, x); }
template <class T> NodeId tanh(Graph<T>& g, NodeId x) { return unary<TanhRule>(g, x); }
template <class T> NodeId softplus(Graph<T>& g, NodeId x) { return unary<SoftplusRule>(g, x); }
template <class T> NodeId abs(Graph<T>& g, NodeId x) { return unary<AbsRule>(g, x); }
template <class T> NodeId square(Graph<T>& g, NodeId x) { return unary<SquareRule>(g, x); }
template <class T> NodeId exp(Graph<T>& g, NodeId x) { return unary<ExpRule>(g, x); }
template <class T> NodeId log(Graph<T>& g, NodeId x) { return unary<LogRule>(g, x); }

DTRAIN_INSTANTIATE_BUILDER(NodeId, scale, NodeId, double)
DTRAIN_INSTANTIATE_BUILDER(NodeId, relu, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, leaky_relu, NodeId, double)
DTRAIN_INSTANTIATE_BUILDER(NodeId, elu, NodeId, double)
DTRAIN_INSTANTIATE_BUILDER(NodeId, gelu, NodeId, bool)
DTRAIN_INSTANTIATE_BUILDER(NodeId, silu, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, sigmoid, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, tanh, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, softplus, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, abs, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, square, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, exp, NodeId)
DTRAIN_INSTANTIATE_BUILDER(NodeId, log, NodeId)

}  // namespace dtrain::graph
