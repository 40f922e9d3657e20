// Portable, counter-based random numbers: the same bits on every compiler,
// standard library, thread count and rank. dtrain has one generator, SplitMix64
// (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA
// 2014; Vigna's splitmix64.c): state += 0x9E3779B97F4A7C15; output mix64(state).
//
//   Rng rng(seed_for(model_seed, "dense_1/kernel"));
//   double u = rng.uniform();                        // [0, 1)
//   double z = rng.normal();                         // N(0, 1), Box-Muller
//   std::uint64_t k = rng.below(10);                 // exactly uniform in [0, 10)
//   Rng other(seed, /*stream=*/3);                   // another stream of the same seed
//   auto perm = random_permutation(60000, other);    // Fisher-Yates over the generator
//   std::uint64_t r = random_bits(seed, step, i);    // stateless: element i of step
//
// std:: distributions are not used: their output differs between libraries.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace dtrain {

// SplitMix64's increment: 2^64 / golden ratio.
inline constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

// The SplitMix64 output function (finaliser): a strong 64-bit mix.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The first output of SplitMix64 started at state z (= Rng(z).next()).
constexpr std::uint64_t splitmix64(std::uint64_t z) { return mix64(z + kGoldenGamma); }

// Stateless bits for (seed, a, b): e.g. (dropout seed, step, element index).
constexpr std::uint64_t random_bits(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  return splitmix64(splitmix64(splitmix64(seed) ^ a) ^ b);
}

// A seed derived from a root seed and a stable name (FNV-1a of the name).
constexpr std::uint64_t seed_for(std::uint64_t root, std::string_view name) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return splitmix64(root ^ h);
}

// Uniform double in [0, 1) from the top 53 bits.
constexpr double to_unit(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  // Stream `stream` of `seed` (e.g. one per epoch): streams of one seed do not
  // overlap in practice, and each depends only on (seed, stream).
  Rng(std::uint64_t seed, std::uint64_t stream) : state_(mix64(seed) ^ mix64(~stream)) {}

  std::uint64_t next() {
    state_ += kGoldenGamma;
    return mix64(state_);
  }
  double uniform() { return to_unit(next()); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Exactly uniform in [0, n), n > 0 (ArgumentError otherwise): r is accepted only
  // in [2^64 mod n, 2^64), which holds a whole number of copies of [0, n).
  std::uint64_t below(std::uint64_t n);
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

// Shuffles v by Fisher-Yates (Knuth, TAOCP vol. 2, 3.4.2 Algorithm P): for i from
// the end, swap v[i] with v[rng.below(i + 1)]. Every order is equally likely.
void shuffle(std::span<std::int64_t> v, Rng& rng);
// A uniformly random permutation of [0, n): shuffle() of 0, 1, ..., n - 1.
std::vector<std::int64_t> random_permutation(std::int64_t n, Rng& rng);

}  // namespace dtrain
