// ShardReader: rank r of P reads its parts of each global batch from an HDF5 dataset.
//
//   data::ShardReader reader({.path = "data/fashion-mnist.h5", .split = "train",
//                             .global_batch = 128, .rank = r, .world_size = p, .seed = 42});
//   for (std::int64_t epoch = 0; epoch < epochs; ++epoch) {
//     reader.start_epoch(epoch);
//     while (const data::Batch* b = reader.next()) {
//       // b->x [b->size, 28, 28, 1], b->y [b->size]; divide gradient sums by b->global_size
//     }
//   }
//
// The epoch order is the permutation of the split's rows drawn from (seed, epoch)
// (data/shuffle.hpp); global batch k is positions [k*B, (k+1)*B) of it, and rank r
// takes its contiguous part (data/sharding.hpp). So a P-rank run sees the same
// global batches as a 1-rank run, and every rank has the same number of steps.
// A rank reads only the rows of its own parts, sorted, one read per run of
// consecutive rows (pread at the address HDF5 reports for uncompressed data, else
// an H5Dread hyperslab with the chunk cache off); memory is two batches plus y of
// the split (8 bytes a row). The next batch is read by a background thread while
// the caller computes.
// Errors (missing file, bad layout, NaN/Inf, labels out of range, fewer rows than
// ranks, ...) are DataError naming the file, the dataset and the row.
#pragma once

#include "dtrain/data/batch.hpp"
#include "dtrain/data/dataset.hpp"
#include "dtrain/data/sharding.hpp"
#include "dtrain/tensor.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace dtrain::data {

struct ShardReaderOptions {
  std::string path;
  std::string split = "train";    // "train", "val", "test" ("" for an unsplit file)
  std::int64_t global_batch = 32; // samples per step over all ranks
  int rank = 0;
  int world_size = 1;
  std::uint64_t seed = 0;
  bool shuffle = true;            // false: the file's order (evaluation)
  bool drop_remainder = false;    // drop a partial last global batch
  bool prefetch = true;           // read the next batch in a background thread
  // At construction, read this rank's stripe of the split, rows [r*N/P, (r+1)*N/P),
  // and check it (NaN/Inf, label range): together the ranks check the whole split
  // once, each reading 1/P of it. Every batch is checked again when read.
  bool check_stripe = true;
  // Read the rows of uncompressed data with pread at the addresses HDF5 reports
  // (H5Dget_chunk_info / H5Dget_offset): one system call per run of rows. False, or
  // a layout that does not allow it (filters, float64 x, ...): one H5Dread hyperslab
  // per run of rows.
  bool direct_reads = true;
};

class ShardReader {
 public:
  // Opens and checks the file (read_dataset_info, plus the stripe check); throws DataError.
  explicit ShardReader(const ShardReaderOptions& options);
  ~ShardReader();
  ShardReader(const ShardReader&) = delete;
  ShardReader& operator=(const ShardReader&) = delete;
  ShardReader(ShardReader&&) noexcept;
  ShardReader& operator=(ShardReader&&) noexcept;

  const DatasetInfo& dataset() const;
  const SplitInfo& split() const;
  const BatchPlan& plan() const;
  const ShardReaderOptions& options() const;
  std::int64_t steps_per_epoch() const { return plan().steps(); }
  // Samples rank `rank` takes at `step` (any rank's, for the global mean).
  std::int64_t count(std::int64_t step, int rank) const { return plan().count(step, rank); }
  std::int64_t global_count(std::int64_t step) const { return plan().global_count(step); }

  // Draws the epoch order and starts reading step first_step (first_step > 0 resumes
  // an epoch in the middle, e.g. from a checkpoint).
  void start_epoch(std::int64_t epoch, std::int64_t first_step = 0);
  // The next batch of the epoch, or nullptr after its last step. Rethrows a read
  // error (DataError naming file, dataset, row) of the background thread.
  const Batch* next();
  // True when x rows are read with pread (direct_reads and a layout that allows it).
  bool reads_directly() const;
  // The epoch order in use (positions -> file rows), for tests and checkpoints.
  std::span<const std::int64_t> epoch_order() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dtrain::data
