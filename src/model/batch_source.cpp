#include "dtrain/model/batch_source.hpp"

#include "dtrain/core/error.hpp"
#include "dtrain/data/sharding.hpp"
#include "dtrain/data/shuffle.hpp"

#include <cmath>
#include <cstring>
#include <numeric>

namespace dtrain {

ArrayBatchSource::ArrayBatchSource(const Tensor& x, const Tensor& y, ArrayBatchOptions o)
    : ArrayBatchSource(x.shape(), x.data(), nullptr, 1.0f, y, o) {}

ArrayBatchSource::ArrayBatchSource(const BasicTensor<std::uint8_t>& x, float scale, const Tensor& y,
                                   ArrayBatchOptions o)
    : ArrayBatchSource(x.shape(), nullptr, x.data(), scale, y, o) {}

ArrayBatchSource::ArrayBatchSource(const Shape& x_shape, const float* x_float, const std::uint8_t* x_bytes,
                                   float scale, const Tensor& y, ArrayBatchOptions o)
    : x_shape_(x_shape), x_float_(x_float), x_bytes_(x_bytes), scale_(scale), y_(y), o_(o) {
  if (o_.batch_size <= 0) throw ArgumentError("batch_size must be positive, got " + std::to_string(o_.batch_size));
  if (x_shape.rank() < 1 || y.shape().rank() < 1 || x_shape[0] != y.shape()[0]) {
    throw ShapeError("x " + x_shape.str() + " and y " + y.shape().str() + " must have the same number of rows");
  }
  if (x_shape[0] == 0) throw ArgumentError("no samples: x has 0 rows");
  if (!std::isfinite(scale)) throw ArgumentError("the scale of uint8 x must be finite");
  if (o_.world_size < 1 || o_.rank < 0 || o_.rank >= o_.world_size) throw ArgumentError("bad rank/world size");
  Shape xs = x_shape, ys = y.shape();
  xs[0] = max_local_batch();
  ys[0] = max_local_batch();
  x_rows_ = Tensor(xs);
  y_rows_ = Tensor(ys);
}

std::int64_t ArrayBatchSource::steps_per_epoch() const { return (rows() + o_.batch_size - 1) / o_.batch_size; }

std::int64_t ArrayBatchSource::max_local_batch() const {
  return std::max<std::int64_t>(1, data::rank_part(std::min(o_.batch_size, rows()), 0, o_.world_size).count);
}

Shape ArrayBatchSource::x_sample_shape() const {
  Shape s;
  for (int i = 1; i < x_shape_.rank(); ++i) s.push_back(x_shape_[i]);
  return s;
}

Shape ArrayBatchSource::y_sample_shape() const {
  Shape s;
  for (int i = 1; i < y_.shape().rank(); ++i) s.push_back(y_.shape()[i]);
  return s;
}

void ArrayBatchSource::start_epoch(std::int64_t epoch, std::int64_t first_step) {
  if (o_.shuffle) {
    order_ = data::epoch_permutation(rows(), o_.seed, epoch);
  } else {
    order_.resize(static_cast<std::size_t>(rows()));
    std::iota(order_.begin(), order_.end(), 0);
  }
  epoch_ = epoch;
  step_ = first_step;
}

const Batch& ArrayBatchSource::next() {
  if (step_ >= steps_per_epoch()) throw Error("ArrayBatchSource: next() after the last step of the epoch");
  const std::int64_t begin = step_ * o_.batch_size;
  const std::int64_t global = std::min(o_.batch_size, rows() - begin);
  const auto mine = data::rank_part(global, o_.rank, o_.world_size);
  const auto xi = x_shape_.inner(), yi = y_.shape().inner();
  batch_.size = mine.count;
  batch_.global_size = global;
  batch_.offset = mine.offset;
  batch_.epoch = epoch_;
  batch_.step = step_;
  batch_.rows = std::span<const std::int64_t>(order_).subspan(static_cast<std::size_t>(begin + mine.offset),
                                                              static_cast<std::size_t>(mine.count));
  const float scale = scale_;  // a local: stores to dst cannot change it, so the loop vectorises
  for (std::int64_t i = 0; i < batch_.size; ++i) {
    const auto row = batch_.rows[static_cast<std::size_t>(i)];
    float* dst = x_rows_.data() + i * xi;
    if (x_float_ != nullptr) {
      std::memcpy(dst, x_float_ + row * xi, static_cast<std::size_t>(xi) * sizeof(float));
    } else {
      const std::uint8_t* src = x_bytes_ + row * xi;
      for (std::int64_t j = 0; j < xi; ++j) dst[j] = static_cast<float>(src[j]) * scale;
    }
    std::memcpy(y_rows_.data() + i * yi, y_.data() + row * yi, static_cast<std::size_t>(yi) * sizeof(float));
  }
  Shape xs = x_shape_, ys = y_.shape();
  xs[0] = ys[0] = batch_.size;
  batch_.x = {x_rows_.data(), xs};
  batch_.y = {y_rows_.data(), ys};
  ++step_;
  return batch_;
}

}  // namespace dtrain
