#include "dtrain/core/random.hpp"

#include "dtrain/core/error.hpp"

#include <numeric>
#include <string>
#include <utility>

namespace dtrain {

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) throw ArgumentError("Rng::below: n must be positive");
  const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) return r % n;
  }
}

void shuffle(std::span<std::int64_t> v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.below(i));
    std::swap(v[i - 1], v[j]);
  }
}

std::vector<std::int64_t> random_permutation(std::int64_t n, Rng& rng) {
  if (n < 0) throw ArgumentError("random_permutation: n must be >= 0, got " + std::to_string(n));
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), std::int64_t{0});
  shuffle(v, rng);
  return v;
}

}  // namespace dtrain
