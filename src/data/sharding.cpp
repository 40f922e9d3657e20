#include "dtrain/data/sharding.hpp"

#include "dtrain/core/error.hpp"

#include <algorithm>
#include <string>

namespace dtrain::data {

BatchPart rank_part(std::int64_t count, int rank, int world_size) {
  const std::int64_t base = count / world_size;
  const std::int64_t extra = count % world_size;
  const std::int64_t r = rank;
  return {r * base + std::min(r, extra), base + (r < extra ? 1 : 0)};
}

BatchPlan::BatchPlan(std::int64_t rows, std::int64_t global_batch, int world_size, bool drop_remainder)
    : rows_(rows), global_batch_(global_batch), world_size_(world_size) {
  if (world_size < 1) {
    throw ArgumentError("world_size must be at least 1, got " + std::to_string(world_size));
  }
  if (global_batch < world_size) {
    throw ArgumentError("batch_size " + std::to_string(global_batch) +
                        " is smaller than the number of ranks " + std::to_string(world_size) +
                        " (batch_size is global: every rank needs at least one sample)");
  }
  if (rows < world_size) {
    throw ArgumentError(std::to_string(rows) + " rows are fewer than the number of ranks " +
                        std::to_string(world_size));
  }
  steps_ = (rows + global_batch - 1) / global_batch;
  if (drop_remainder && rows % global_batch != 0 && rows > global_batch) --steps_;
}

std::int64_t BatchPlan::samples_per_epoch() const {
  return std::min(rows_, steps_ * global_batch_);
}

void BatchPlan::check_step(std::int64_t step) const {
  if (step < 0 || step >= steps_) {
    throw ArgumentError("step " + std::to_string(step) + " outside [0, " + std::to_string(steps_) + ")");
  }
}

std::int64_t BatchPlan::global_count(std::int64_t step) const {
  check_step(step);
  return std::min(global_batch_, rows_ - step * global_batch_);
}

BatchPart BatchPlan::part(std::int64_t step, int rank) const {
  if (rank < 0 || rank >= world_size_) {
    throw ArgumentError("rank " + std::to_string(rank) + " outside [0, " + std::to_string(world_size_) +
                        ")");
  }
  BatchPart p = rank_part(global_count(step), rank, world_size_);
  p.offset += step * global_batch_;
  return p;
}

std::int64_t BatchPlan::max_part() const {
  return rank_part(std::min(global_batch_, rows_), 0, world_size_).count;  // ceil(B / P)
}

}  // namespace dtrain::data
