// Splitting a dataset into train / val / test, optionally stratified by class.
//
//   data::split_dataset({.input = "all.h5", .output = "split.h5", .test_fraction = 0.2,
//                        .val_fraction = 0.1, .seed = 7, .stratify = true});
//
// The input is an unsplit file (/x, /y): its rows are cut into /train, /test and
// (val_fraction > 0) /val. Or it already has /train: then /train is re-split into
// /train + /val (and /test if it has none), and the other groups are copied.
// Counts: n_test = round(test_fraction * N), n_val = round(val_fraction * N), the
// rest is train. With stratify each class c gets floor or ceil of fraction * n_c,
// the total still exact (largest remainder, ties to the smaller class id). Which
// rows go where is a seeded Fisher-Yates draw (data/shuffle.hpp); inside each
// output group the rows keep their input order. The output is written atomically.
#pragma once

#include "dtrain/data/dataset.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dtrain::data {

struct SplitOptions {
  std::string input;
  std::string output;
  double test_fraction = 0.0;
  double val_fraction = 0.0;
  std::uint64_t seed = 0;
  bool stratify = false;
  bool force = false;
};
DatasetInfo split_dataset(const SplitOptions& options);

enum class SplitPart : std::uint8_t { kTrain = 0, kVal = 1, kTest = 2 };

// The part of each of n rows (pure; what split_dataset writes). labels: empty, or
// the class id of every row when stratifying. Throws ArgumentError on bad
// fractions or when a requested part would be empty.
std::vector<SplitPart> assign_split(std::int64_t n, std::span<const std::int64_t> labels,
                                    std::int64_t num_classes, double test_fraction,
                                    double val_fraction, std::uint64_t seed);

// Largest-remainder apportionment: total items over the classes in proportion to
// sizes, each class getting floor or ceil of its quota and at most capacity[c].
std::vector<std::int64_t> apportion(std::int64_t total, std::span<const std::int64_t> sizes,
                                    std::span<const std::int64_t> capacity);

}  // namespace dtrain::data
