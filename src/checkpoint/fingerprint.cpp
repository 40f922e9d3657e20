// dataset_fingerprint: a cheap content hash of an HDF5 dataset file.
#include <cstdio>
#include <filesystem>

#include "core/xxh64.hpp"
#include "hdf5/datasets.hpp"
#include "hdf5/errors.hpp"
#include "hdf5/files.hpp"
#include "hdf5/groups.hpp"
#include "io_errors.hpp"
#include "layout.hpp"

namespace dtrain::checkpoint {
namespace {

using namespace detail;

// Type, shape and the first and last rows of one dataset into the hash.
void add_dataset(Xxh64& h, hid_t file, const std::string& path, const hdf5::Errors& errors) {
  hdf5::Dataset d = hdf5::open_dataset(file, path, errors);
  hdf5::Datatype ftype(H5Dget_type(d.get()));
  const H5T_class_t cls = H5Tget_class(ftype.get());
  const std::size_t size = H5Tget_size(ftype.get());
  const std::int64_t sign = cls == H5T_INTEGER ? H5Tget_sign(ftype.get()) : -1;
  const std::int64_t order = H5Tget_order(ftype.get());
  const auto shape = hdf5::dims_of(d.get());
  h.update(path);
  for (std::int64_t v : {static_cast<std::int64_t>(cls), static_cast<std::int64_t>(size), sign, order,
                         static_cast<std::int64_t>(shape.size())}) {
    h.update(&v, sizeof v);
  }
  for (auto dim : shape) h.update(&dim, sizeof dim);

  // Variable-length data (strings, vlen) holds pointers in memory: type and shape only.
  if (cls == H5T_VLEN || cls == H5T_REFERENCE || H5Tis_variable_str(ftype.get()) > 0) return;
  hdf5::Datatype mtype(H5Tget_native_type(ftype.get(), H5T_DIR_ASCEND));
  if (!mtype) return;
  const std::size_t msize = H5Tget_size(mtype.get());
  hdf5::Dataspace fspace(H5Dget_space(d.get()));
  if (shape.empty()) {  // scalar
    std::vector<unsigned char> buf(msize);
    if (H5Dread(d.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) >= 0) {
      h.update(buf.data(), buf.size());
    }
    return;
  }
  if (shape[0] == 0) return;
  std::vector<hsize_t> count(shape.begin(), shape.end());
  count[0] = 1;
  std::size_t row_elems = 1;
  for (std::size_t i = 1; i < count.size(); ++i) row_elems *= count[i];
  std::vector<unsigned char> buf(row_elems * msize);
  hdf5::Dataspace mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  for (std::int64_t row : {std::int64_t{0}, shape[0] - 1}) {
    std::vector<hsize_t> start(shape.size(), 0);
    start[0] = static_cast<hsize_t>(row);
    H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    if (H5Dread(d.get(), mtype.get(), mspace.get(), fspace.get(), H5P_DEFAULT, buf.data()) < 0) {
      errors.fail_hdf5("cannot read row " + std::to_string(row) + " of " + path);
    }
    h.update(buf.data(), buf.size());
  }
}

}  // namespace

std::string dataset_fingerprint(const std::string& h5_path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(h5_path, ec);
  if (ec) throw CheckpointError(h5_path + ": cannot fingerprint: " + ec.message());
  Xxh64 h;
  try {
    hdf5::QuietErrors quiet;
    const hdf5::Errors errors = hdf5_errors();
    hdf5::File f = hdf5::open_file_read(h5_path, errors, {.damaged = kDamagedFile});
    const std::uint64_t size = bytes;
    h.update(&size, sizeof size);
    hdf5::Group root(H5Gopen2(f.get(), "/", H5P_DEFAULT));
    for (const auto& path : hdf5::dataset_paths(root.get(), errors)) {
      add_dataset(h, f.get(), "/" + path, errors);
    }
  } catch (const CheckpointError& e) {
    throw CheckpointError(h5_path + ": cannot fingerprint: " + e.what());
  }
  char buf[80];
  std::snprintf(buf, sizeof buf, "xxh64:%016llx size:%llu", static_cast<unsigned long long>(h.digest()),
                static_cast<unsigned long long>(bytes));
  return buf;
}

}  // namespace dtrain::checkpoint
