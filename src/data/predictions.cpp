#include "dtrain/data/predictions.hpp"

#include "core/atomic_file.hpp"
#include "hdf5/datasets.hpp"
#include "hdf5/errors.hpp"
#include "hdf5/files.hpp"

#include "dtrain/core/error.hpp"

#include <filesystem>
#include <vector>

namespace dtrain::data {

void write_predictions(const std::string& path, const Tensor& p, bool force) {
  namespace fs = std::filesystem;
  if (fs::exists(path) && !force) throw ArgumentError(path + ": exists (pass --force to replace it)");
  TempPath tmp = TempPath::beside(path);
  {
    hdf5::QuietErrors quiet;
    const hdf5::Errors errors(&hdf5::throw_as<Error>, path + ": ");
    hdf5::File file = hdf5::create_file(tmp.path().string(), hdf5::IfExists::kFail, errors);
    std::vector<std::int64_t> dims;
    for (int i = 0; i < p.shape().rank(); ++i) dims.push_back(p.shape()[i]);
    hdf5::write_floats(file.get(), "predictions", dims,
                       std::span(p.data(), static_cast<std::size_t>(p.size())), errors);
    if (!file.close()) errors.fail_hdf5("writing the predictions failed");
  }
  fsync_file(tmp.path());
  commit(tmp, path);
}

}  // namespace dtrain::data
