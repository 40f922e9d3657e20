// Portable, counter-based random numbers: the same bits on every compiler,
// standard library, thread count and rank.
//
//   Rng rng(seed_for(model_seed, "dense_1/kernel"));
//   float u = rng.uniform();                 // [0, 1)
//   double z = rng.normal();                 // N(0, 1), Box-Muller
//   std::uint64_t r = random_bits(seed, step, i);   // stateless: element i of step
//
// std:: distributions are not used: their output differs between libraries.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace dtrain {

// SplitMix64 finaliser: a strong 64-bit mix (Steele et al., "Fast splittable PRNGs").
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Stateless bits for (seed, a, b): e.g. (dropout seed, step, element index).
constexpr std::uint64_t random_bits(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return mix64(mix64(mix64(seed) ^ a) ^ b);
}

// A seed derived from a root seed and a stable name (FNV-1a of the name).
constexpr std::uint64_t seed_for(std::uint64_t root, std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return mix64(root ^ h);
}

// Uniform double in [0, 1) from the top 53 bits.
constexpr double to_unit(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return mix64(state_++); }
  double uniform() { return to_unit(next()); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n) without modulo bias (Lemire's method, simplified
  // to rejection on the top bits).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
    std::uint64_t r;
    do {
      r = next();
    } while (r >= limit);
    return r % n;
  }
  double normal() {
    // Box-Muller; 1 - u keeps the log argument in (0, 1].
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  std::uint64_t state() const { return state_; }
  void set_state(std::uint64_t s) { state_ = s; }

 private:
  std::uint64_t state_;
};

}  // namespace dtrain
