// Batches from an HDF5 dataset split, read by data::ShardReader (each rank reads
// only its rows, the next batch in the background).
//
//   Hdf5BatchSource train({.path = "data/fashion-mnist.h5", .split = "train",
//                          .global_batch = 128, .rank = r, .world_size = p, .seed = 1});
//   model.fit(train, {.epochs = 10});
#pragma once

#include "dtrain/data/shard_reader.hpp"
#include "dtrain/model/batch_source.hpp"

namespace dtrain {

class Hdf5BatchSource final : public BatchSource {
 public:
  explicit Hdf5BatchSource(const data::ShardReaderOptions& options);
  std::int64_t steps_per_epoch() const override { return reader_.steps_per_epoch(); }
  std::int64_t batch_size() const override { return reader_.options().global_batch; }
  std::int64_t max_local_batch() const override;
  std::int64_t rows() const override { return reader_.split().rows; }
  Shape x_sample_shape() const override { return reader_.split().sample_shape; }
  Shape y_sample_shape() const override;
  void start_epoch(std::int64_t epoch, std::int64_t first_step = 0) override;
  const Batch& next() override;
  const data::ShardReader& reader() const { return reader_; }

 private:
  data::ShardReader reader_;
};

}  // namespace dtrain
