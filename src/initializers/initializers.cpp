#include "dtrain/initializers.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/core/random.hpp"

#include <Eigen/QR>

#include <algorithm>
#include <cmath>

namespace dtrain::initializers {
namespace {

struct Fans {
  double in, out;
};

Fans fans(const Shape& s) {
  if (s.rank() == 0) return {1, 1};
  if (s.rank() == 1) return {static_cast<double>(s[0]), static_cast<double>(s[0])};
  double receptive = 1;
  for (int i = 0; i + 2 < s.rank(); ++i) receptive *= static_cast<double>(s[i]);
  return {receptive * static_cast<double>(s[s.rank() - 2]), receptive * static_cast<double>(s[s.rank() - 1])};
}

// Keras VarianceScaling: scale / fan, uniform or truncated normal.
template <class T>
void variance_scaling(View<T> out, double scale, double fan, bool uniform, Rng& rng) {
  const double var = scale / std::max(1.0, fan);
  if (uniform) {
    const double limit = std::sqrt(3.0 * var);
    for (std::int64_t i = 0; i < out.size(); ++i) out.data[i] = static_cast<T>(rng.uniform(-limit, limit));
    return;
  }
  const double stddev = std::sqrt(var) / 0.87962566103423978;
  for (std::int64_t i = 0; i < out.size(); ++i) {
    double z;
    do {
      z = rng.normal();
    } while (std::abs(z) > 2.0);
    out.data[i] = static_cast<T>(z * stddev);
  }
}

// Keras 3 Orthogonal(gain=1): a [max(rows, cols), min(rows, cols)] matrix of
// N(0, 1) draws (rows = product of all dims but the last), its QR factorisation,
// Q's columns multiplied by the signs of R's diagonal (so Q does not depend on
// the QR algorithm's sign convention), transposed when rows < cols.
template <class T>
void orthogonal(View<T> out, Rng& rng) {
  const auto& s = out.shape;
  const std::int64_t cols = s.rank() == 0 ? 1 : s[s.rank() - 1];
  const std::int64_t rows = cols == 0 ? 0 : out.size() / cols;
  if (rows == 0 || cols == 0) return;
  const auto m = std::max(rows, cols), n = std::min(rows, cols);
  Eigen::MatrixXd a(m, n);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) a(i, j) = rng.normal();
  }
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(a);
  Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(m, n);
  const Eigen::MatrixXd r = qr.matrixQR().topRows(n).template triangularView<Eigen::Upper>();
  for (std::int64_t j = 0; j < n; ++j) {
    if (r(j, j) < 0) q.col(j) *= -1.0;
  }
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < cols; ++j) out.data[i * cols + j] = static_cast<T>(rows < cols ? q(j, i) : q(i, j));
  }
}

}  // namespace

const std::vector<std::string>& names() {
  static const std::vector<std::string> kNames = {
      "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal", "lecun_uniform",
      "zeros",          "ones",          "constant",   "random_normal", "random_uniform", "orthogonal"};
  return kNames;
}

Initializer parse(const std::string& name) {
  // Keras' short aliases (keras.initializers.get): "uniform" is RandomUniform(-0.05,
  // 0.05), Embedding's default; "normal" is RandomNormal(0, 0.05).
  if (name == "uniform") return parse("random_uniform");
  if (name == "normal") return parse("random_normal");
  const auto& all = names();
  if (std::find(all.begin(), all.end(), name) == all.end()) {
    std::string list;
    for (const auto& n : all) list += (list.empty() ? "" : ", ") + n;
    throw ArgumentError("unknown initializer '" + name + "' (valid: " + list + ")");
  }
  Initializer init;
  init.name = name;
  return init;
}

template <class T>
void fill(const Initializer& init, View<T> out, std::uint64_t seed) {
  Rng rng(seed);
  const auto [fan_in, fan_out] = fans(out.shape);
  const auto& n = init.name;
  if (n == "zeros" || n == "ones" || n == "constant") {
    const double v = n == "zeros" ? 0.0 : n == "ones" ? 1.0 : init.value;
    std::fill_n(out.data, out.size(), static_cast<T>(v));
  } else if (n == "glorot_uniform") {
    variance_scaling(out, 1.0, (fan_in + fan_out) / 2, true, rng);
  } else if (n == "glorot_normal") {
    variance_scaling(out, 1.0, (fan_in + fan_out) / 2, false, rng);
  } else if (n == "he_uniform") {
    variance_scaling(out, 2.0, fan_in, true, rng);
  } else if (n == "he_normal") {
    variance_scaling(out, 2.0, fan_in, false, rng);
  } else if (n == "lecun_normal") {
    variance_scaling(out, 1.0, fan_in, false, rng);
  } else if (n == "lecun_uniform") {
    variance_scaling(out, 1.0, fan_in, true, rng);
  } else if (n == "random_normal") {
    for (std::int64_t i = 0; i < out.size(); ++i) out.data[i] = static_cast<T>(init.mean + init.stddev * rng.normal());
  } else if (n == "random_uniform") {
    for (std::int64_t i = 0; i < out.size(); ++i) out.data[i] = static_cast<T>(rng.uniform(init.minval, init.maxval));
  } else if (n == "orthogonal") {
    orthogonal(out, rng);
  } else {
    throw ArgumentError("unknown initializer '" + n + "'");
  }
  if (init.forget_units > 0) {
    const auto end = std::min<std::int64_t>(out.size(), 2 * init.forget_units);
    std::fill(out.data + std::min<std::int64_t>(out.size(), init.forget_units), out.data + end, T(1));
  }
}

template void fill<float>(const Initializer&, View<float>, std::uint64_t);
template void fill<double>(const Initializer&, View<double>, std::uint64_t);

}  // namespace dtrain::initializers
