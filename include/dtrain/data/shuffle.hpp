// The order in which an epoch visits the rows of a split, and the random streams
// of the data concern (over dtrain's one generator, core/random.hpp).
//
//   auto perm = data::epoch_permutation(60000, /*seed=*/42, /*epoch=*/3);
//   Rng rng(42, data::stream_id(data::kStreamSplit, 0));   // the split of class 0
//
// The output depends only on (seed, epoch) — not on the standard library, the
// platform, the thread count or where the rows come from — so every rank, every run
// and every batch source (HDF5 ShardReader, in-memory ArrayBatchSource) draws the
// same order.
#pragma once

#include "dtrain/core/random.hpp"

#include <cstdint>
#include <vector>

namespace dtrain::data {

// Purposes that draw random numbers; each gets its own streams.
enum StreamKind : std::uint64_t { kStreamEpoch = 1, kStreamSplit = 2 };
// A stream id for (kind, index), e.g. (kStreamEpoch, epoch) or (kStreamSplit, class).
std::uint64_t stream_id(StreamKind kind, std::uint64_t index);

// The visiting order of the rows [0, n) in epoch `epoch`:
// random_permutation(n, Rng(seed, stream_id(kStreamEpoch, epoch))).
std::vector<std::int64_t> epoch_permutation(std::int64_t n, std::uint64_t seed, std::int64_t epoch);

}  // namespace dtrain::data
