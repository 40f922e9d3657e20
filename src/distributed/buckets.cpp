// assign_buckets: the pure function that cuts the gradient arena into buckets.
#include "dtrain/distributed/gradient_reducer.hpp"

#include <algorithm>
#include <string>

namespace dtrain::distributed {

namespace {

void check_layout(std::span<const graph::ParameterInfo> params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    if (p.offset < 0) {
      throw ArgumentError("assign_buckets: parameter " + std::to_string(i) + " ('" + p.name +
                          "') has a negative offset " + std::to_string(p.offset));
    }
    if (i > 0) {
      const auto& q = params[i - 1];
      if (q.offset + q.shape.numel() > p.offset) {
        throw ArgumentError("assign_buckets: parameter " + std::to_string(i) + " ('" + p.name +
                            "') at offset " + std::to_string(p.offset) + " overlaps or precedes '" +
                            q.name + "' (offset " + std::to_string(q.offset) + ", " +
                            std::to_string(q.shape.numel()) + " elements): offsets must increase");
      }
    }
  }
}

}  // namespace

std::vector<Bucket> assign_buckets(std::span<const graph::ParameterInfo> params,
                                   std::size_t bucket_bytes, std::size_t element_bytes) {
  if (bucket_bytes == 0 || bucket_bytes > kMaxBucketBytes) {
    throw ArgumentError("assign_buckets: bucket_bytes=" + std::to_string(bucket_bytes) +
                        " outside [1, " + std::to_string(kMaxBucketBytes) +
                        "] (Open MPI's all-reduce slows down ~10x above 32 MiB)");
  }
  if (element_bytes == 0) throw ArgumentError("assign_buckets: element_bytes must be positive");
  check_layout(params);

  std::vector<Bucket> buckets;
  Bucket current;
  std::int64_t end = 0;  // one past the last element of the current bucket
  auto close = [&] {
    if (!current.parameters.empty()) buckets.push_back(std::move(current));
    current = Bucket{};
  };
  const auto piece = std::max<std::int64_t>(1, static_cast<std::int64_t>(bucket_bytes / element_bytes));
  // Last parameter first: that is the order in which backward finishes them.
  for (std::size_t k = params.size(); k-- > 0;) {
    const auto& p = params[k];
    const std::int64_t numel = p.shape.numel();
    if (!p.trainable) {
      close();
      continue;
    }
    if (numel > piece) {
      // Pieces in ascending order: the order an op finishes prefixes in.
      close();
      for (std::int64_t b = 0; b < numel; b += piece) {
        const auto e = std::min(numel, b + piece);
        buckets.push_back(Bucket{{k}, p.offset + b, e - b, e});
      }
      continue;
    }
    const std::int64_t p_end = p.offset + numel;
    if (!current.parameters.empty()) {
      const auto span_bytes = static_cast<std::size_t>(end - p.offset) * element_bytes;
      if (span_bytes > bucket_bytes) close();
    }
    if (current.parameters.empty()) end = p_end;
    current.parameters.push_back(k);
    current.offset = p.offset;
    current.size = end - p.offset;
  }
  close();
  return buckets;
}

}  // namespace dtrain::distributed
