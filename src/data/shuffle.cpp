#include "dtrain/data/shuffle.hpp"

#include "dtrain/core/error.hpp"

#include <numeric>
#include <utility>

namespace dtrain::data {
namespace {
constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ULL;  // 2^64 / golden ratio
}  // namespace

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t stream_id(StreamKind kind, std::uint64_t index) {
  return mix64(static_cast<std::uint64_t>(kind) * kGamma ^ mix64(index + kGamma));
}

CounterRng::CounterRng(std::uint64_t seed, std::uint64_t stream) : key_(mix64(seed) ^ mix64(~stream)) {}

std::uint64_t CounterRng::next() {
  ++counter_;
  return mix64(key_ + counter_ * kGamma);
}

std::uint64_t CounterRng::uniform_below(std::uint64_t n) {
  if (n == 0) throw ArgumentError("uniform_below: n must be positive");
  // Accept r only in [t, 2^64) where t = 2^64 mod n: that range holds a whole
  // number of copies of [0, n), so r mod n is exactly uniform.
  const std::uint64_t threshold = (0 - n) % n;
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) return r % n;
  }
}

void shuffle_in_place(std::vector<std::int64_t>& v, std::uint64_t seed, std::uint64_t stream) {
  CounterRng rng(seed, stream);
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.uniform_below(i));
    std::swap(v[i - 1], v[j]);
  }
}

std::vector<std::int64_t> random_permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream) {
  if (n < 0) throw ArgumentError("random_permutation: n must be >= 0, got " + std::to_string(n));
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  shuffle_in_place(v, seed, stream);
  return v;
}

std::vector<std::int64_t> epoch_permutation(std::int64_t n, std::uint64_t seed, std::int64_t epoch) {
  return random_permutation(n, seed, stream_id(kStreamEpoch, static_cast<std::uint64_t>(epoch)));
}

}  // namespace dtrain::data
