// BatchPlan: which samples of an epoch each rank takes at each step (pure arithmetic).
//
//   data::BatchPlan plan(/*rows=*/60000, /*global_batch=*/128, /*world_size=*/3);
//   plan.steps();              // 469 = ceil(60000 / 128), the same on every rank
//   plan.global_count(468);    // 96: the last global batch is partial
//   auto p = plan.part(468, 2);   // {offset 59936, count 32}: rank 2's slice of it
//
// Global batch k is positions [k*B, min((k+1)*B, N)) of the epoch order (the
// permutation drawn from (seed, epoch)); its G samples are cut into P contiguous
// parts, rank r taking G/P + (r < G%P ? 1 : 0) of them, ranks in order. The
// union over ranks of one step is therefore the same set of samples whatever P
// is: P-rank training sees the same global batches as 1-rank training. Every rank
// can compute every other rank's count, so the gradient sum can be divided by the
// global count; a rank whose part is empty (last step, G < P) still takes part in
// the step, so no rank waits forever.
#pragma once

#include <cstdint>

namespace dtrain::data {

struct BatchPart {
  std::int64_t offset = 0;  // first position in the epoch order
  std::int64_t count = 0;   // samples (0 is possible on the last step)
};

// Rank `rank`'s contiguous part when `count` samples are cut over `world_size`
// ranks: count/P each, one more for each of the first count%P ranks, ranks in
// order. offset is relative to the first of the `count` samples. The one formula
// of a rank's share of a global batch (BatchPlan::part, ArrayBatchSource).
BatchPart rank_part(std::int64_t count, int rank, int world_size);

class BatchPlan {
 public:
  // Throws ArgumentError unless rows >= world_size >= 1 and global_batch >= world_size.
  // drop_remainder: leave out the last global batch when it is partial (Keras
  // drop_remainder); it is never dropped if it would leave no step at all.
  BatchPlan(std::int64_t rows, std::int64_t global_batch, int world_size, bool drop_remainder = false);

  std::int64_t rows() const { return rows_; }
  std::int64_t global_batch() const { return global_batch_; }
  int world_size() const { return world_size_; }
  std::int64_t steps() const { return steps_; }
  // Samples visited per epoch (rows, or fewer with drop_remainder).
  std::int64_t samples_per_epoch() const;

  std::int64_t global_count(std::int64_t step) const;     // samples in global batch `step`
  BatchPart part(std::int64_t step, int rank) const;      // rank's contiguous slice of it
  std::int64_t count(std::int64_t step, int rank) const { return part(step, rank).count; }
  std::int64_t max_part() const;                          // ceil(B / P): a rank's largest part

 private:
  void check_step(std::int64_t step) const;
  std::int64_t rows_;
  std::int64_t global_batch_;
  int world_size_;
  std::int64_t steps_;
};

}  // namespace dtrain::data
