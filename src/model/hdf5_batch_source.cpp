#include "dtrain/model/hdf5_batch_source.hpp"

#include "dtrain/core/error.hpp"

#include <algorithm>

namespace dtrain {

Hdf5BatchSource::Hdf5BatchSource(const data::ShardReaderOptions& options) : reader_(options) {}

std::int64_t Hdf5BatchSource::max_local_batch() const {
  std::int64_t most = 1;
  const auto rank = reader_.options().rank;
  for (std::int64_t s = 0; s < std::min<std::int64_t>(2, reader_.steps_per_epoch()); ++s) {
    most = std::max(most, reader_.count(s, rank));
  }
  return most;
}

Shape Hdf5BatchSource::y_sample_shape() const {
  const auto& s = reader_.split();
  if (s.task == data::Task::kRegression || s.y_rank == 2) return Shape{s.targets};  // [k] targets, [t] ids
  return Shape{};
}

void Hdf5BatchSource::start_epoch(std::int64_t epoch, std::int64_t first_step) {
  reader_.start_epoch(epoch, first_step);
}

const Batch& Hdf5BatchSource::next() {
  const Batch* b = reader_.next();
  if (!b) throw Error("Hdf5BatchSource: next() after the last step of the epoch");
  return *b;
}

}  // namespace dtrain
