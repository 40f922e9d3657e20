// Weight initializers with Keras names and formulas, all seeded.
//
//   auto init = initializers::parse("glorot_uniform");
//   initializers::fill(init, kernel_view, seed_for(model_seed, "dense_1/kernel"));
//
// Fans follow Keras: a kernel [.., in, out] has receptive field = product of the
// leading dims, fan_in = receptive*in, fan_out = receptive*out (Dense [in, out],
// Conv2D [kh, kw, cin, cout]); a vector has fan_in = fan_out = its length.
// Truncated normals draw from N(0, stddev) rejecting |z| > 2 stddev, with stddev
// divided by 0.87962566103423978 as in Keras' VarianceScaling.
#pragma once

#include "dtrain/tensor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace dtrain::initializers {

struct Initializer {
  std::string name = "glorot_uniform";
  double value = 0.0;      // constant
  double mean = 0.0;       // random_normal
  double stddev = 0.05;    // random_normal
  double minval = -0.05;   // random_uniform
  double maxval = 0.05;    // random_uniform
  // LSTM unit_forget_bias (Keras): after filling, elements [u, 2u) are ones
  // (the forget gate's bias) when forget_units = u > 0.
  std::int64_t forget_units = 0;
};

// Keras names: glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_normal,
// lecun_uniform, zeros, ones, constant, random_normal, random_uniform, orthogonal
// (Keras 3 Orthogonal, gain 1: a QR of normal draws, signs fixed by R's diagonal;
// for rows < cols the rows are orthonormal, else the columns).
Initializer parse(const std::string& name);
const std::vector<std::string>& names();

template <class T>
void fill(const Initializer& init, View<T> out, std::uint64_t seed);

}  // namespace dtrain::initializers
