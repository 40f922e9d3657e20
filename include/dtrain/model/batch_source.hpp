// Where fit/evaluate get their batches: global-batch semantics over MPI ranks.
//
//   ArrayBatchSource train(x, y, {.batch_size = 128, .shuffle = true, .seed = 1,
//                                 .rank = comm.rank(), .world_size = comm.size()});
//   train.start_epoch(0);
//   for (std::int64_t s = 0; s < train.steps_per_epoch(); ++s) {
//     const Batch& b = train.next();   // this rank's rows of global batch s
//   }
//
// Global batch s of an epoch is rows perm[s*B, (s+1)*B) of the epoch's
// permutation (data::epoch_permutation(rows, seed, epoch): the same order as an
// HDF5 source with the same seed); rank r takes its contiguous part of it
// (data::rank_part: B/P rows, the remainder spread over the first ranks). Every
// rank computes the same number of steps and knows the global count of each step.
#pragma once

#include "dtrain/data/batch.hpp"
#include "dtrain/tensor.hpp"

#include <cstdint>
#include <vector>

namespace dtrain {

// The batch type of every source is data::Batch (data/batch.hpp).
using data::Batch;

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual std::int64_t steps_per_epoch() const = 0;
  virtual std::int64_t batch_size() const = 0;  // global
  virtual std::int64_t max_local_batch() const = 0;
  virtual std::int64_t rows() const = 0;        // samples per epoch, all ranks
  virtual Shape x_sample_shape() const = 0;
  virtual Shape y_sample_shape() const = 0;     // [] for class ids
  // Starts epoch `epoch` (0-based) at global step `first_step` within it.
  virtual void start_epoch(std::int64_t epoch, std::int64_t first_step = 0) = 0;
  // The next batch of the epoch (Error after its last step). Sources fill every
  // field of Batch, rows included.
  virtual const Batch& next() = 0;
};

struct ArrayBatchOptions {
  std::int64_t batch_size = 32;
  bool shuffle = true;
  std::uint64_t seed = 0;
  int rank = 0;
  int world_size = 1;
};

// In-memory x [N, ...] and y [N, ...] (e.g. [N], [N, k], or [N, time] class ids for
// [N, time, vocab] predictions; each rank may hold the whole arrays).
// x is float, or uint8 with a scale (value = float(stored) * scale, as dtrain's
// HDF5 files keep images): a quarter of the memory, converted per batch.
// The arrays must outlive the source.
class ArrayBatchSource final : public BatchSource {
 public:
  ArrayBatchSource(const Tensor& x, const Tensor& y, ArrayBatchOptions o);
  ArrayBatchSource(const BasicTensor<std::uint8_t>& x, float scale, const Tensor& y, ArrayBatchOptions o);
  std::int64_t steps_per_epoch() const override;
  std::int64_t batch_size() const override { return o_.batch_size; }
  std::int64_t max_local_batch() const override;
  std::int64_t rows() const override { return x_shape_[0]; }
  Shape x_sample_shape() const override;
  Shape y_sample_shape() const override;
  void start_epoch(std::int64_t epoch, std::int64_t first_step = 0) override;
  const Batch& next() override;

 private:
  ArrayBatchSource(const Shape& x_shape, const float* x_float, const std::uint8_t* x_bytes, float scale,
                   const Tensor& y, ArrayBatchOptions o);

  Shape x_shape_;
  const float* x_float_;         // float x, or
  const std::uint8_t* x_bytes_;  // uint8 x times scale_
  float scale_;
  const Tensor& y_;
  ArrayBatchOptions o_;
  std::vector<std::int64_t> order_;
  std::int64_t epoch_ = 0;
  std::int64_t step_ = 0;
  Tensor x_rows_, y_rows_;  // this rank's rows of the current step
  Batch batch_;
};

}  // namespace dtrain
