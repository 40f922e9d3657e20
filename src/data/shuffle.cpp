#include "dtrain/data/shuffle.hpp"

namespace dtrain::data {

std::uint64_t stream_id(StreamKind kind, std::uint64_t index) {
  return mix64(static_cast<std::uint64_t>(kind) * kGoldenGamma ^ splitmix64(index));
}

std::vector<std::int64_t> epoch_permutation(std::int64_t n, std::uint64_t seed, std::int64_t epoch) {
  Rng rng(seed, stream_id(kStreamEpoch, static_cast<std::uint64_t>(epoch)));
  return random_permutation(n, rng);
}

}  // namespace dtrain::data
