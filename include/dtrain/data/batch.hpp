// Batch: one rank's part of one global batch — what data::ShardReader and every
// BatchSource (model/batch_source.hpp) hand to a training or evaluation step.
//
//   const Batch& b = source.next();
//   // b.x [b.size, sample...], b.y [b.size] or [b.size, k];
//   // divide gradient sums by b.global_size, the samples of this step over all ranks
//
// The views stay valid until the next call to next() or start_epoch() of whatever
// produced the batch.
#pragma once

#include "dtrain/tensor.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace dtrain::data {

struct Batch {
  View<const float> x;           // [size, sample_shape...]
  View<const float> y;           // [size] or [size, t] class ids as floats, or [size, k] targets
  std::int64_t size = 0;         // samples on this rank (0 is possible, e.g. on the last step)
  std::int64_t global_size = 0;  // samples in this step over all ranks
  std::int64_t offset = 0;       // where this rank's samples start in the global batch
  std::int64_t epoch = 0;
  std::int64_t step = 0;               // 0-based, within the epoch
  std::span<const std::int64_t> rows;  // the source's rows (file or array rows), in batch order
  std::string_view labels;             // where y was read, e.g. "data.h5 /train/y"; "" for arrays
};

}  // namespace dtrain::data
