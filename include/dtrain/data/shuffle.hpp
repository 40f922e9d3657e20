// Deterministic shuffling: a counter-based generator and Fisher-Yates permutations.
//
//   auto perm = data::epoch_permutation(60000, /*seed=*/42, /*epoch=*/3);
//   data::CounterRng rng(42, data::stream_id(data::kStreamSplit, 0));
//   std::uint64_t k = rng.uniform_below(10);          // exact uniform in [0, 10)
//
// The output depends only on (seed, stream) — not on the standard library, the
// platform or the thread count — so every rank and every run draws the same order.
// Generator: SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014): value i = mix64(key + (i + 1) * 0x9E3779B97F4A7C15).
// Uniform draws use rejection, so they are exactly uniform (no modulo bias).
#pragma once

#include <cstdint>
#include <vector>

namespace dtrain::data {

// The SplitMix64 output function (finaliser).
std::uint64_t mix64(std::uint64_t z);

// Purposes that draw random numbers; each gets its own streams.
enum StreamKind : std::uint64_t { kStreamEpoch = 1, kStreamSplit = 2 };
// A stream id for (kind, index), e.g. (kStreamEpoch, epoch) or (kStreamSplit, class).
std::uint64_t stream_id(StreamKind kind, std::uint64_t index);

class CounterRng {
 public:
  CounterRng(std::uint64_t seed, std::uint64_t stream);
  std::uint64_t next();                            // the next 64 random bits
  std::uint64_t uniform_below(std::uint64_t n);    // uniform in [0, n); n > 0
  std::uint64_t counter() const { return counter_; }

 private:
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
};

// A uniformly random permutation of [0, n) by Fisher-Yates (Knuth, TAOCP vol. 2,
// 3.4.2 Algorithm P) driven by CounterRng(seed, stream).
std::vector<std::int64_t> random_permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream);
// Shuffles v in place the same way.
void shuffle_in_place(std::vector<std::int64_t>& v, std::uint64_t seed, std::uint64_t stream);

// The visiting order of the rows of a split in one epoch.
std::vector<std::int64_t> epoch_permutation(std::int64_t n, std::uint64_t seed, std::int64_t epoch);

}  // namespace dtrain::data
