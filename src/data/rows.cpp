#include "rows.hpp"

#include "dtrain/core/error.hpp"
#include "hdf5/datasets.hpp"
#include "hdf5/errors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace dtrain::data::rows {
namespace {

hsize_t to_h(std::int64_t v) { return static_cast<hsize_t>(v); }

}  // namespace

void read_block(hid_t dataset, std::int64_t begin, std::int64_t count, hid_t memtype, void* out) {
  const Run run{begin, count};
  read_runs(dataset, std::span<const Run>(&run, 1), memtype, out);
}

void read_runs(hid_t dataset, std::span<const Run> runs, hid_t memtype, void* out) {
  // One H5Dread per run, the memory selection the same shape as the file block: HDF5
  // 1.10 then maps chunks by hyperslab. (A union of runs against a flat memory space
  // makes it walk every element: 30x slower.)
  hdf5::Dataspace fspace(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(fspace.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(fspace.get(), dims.data(), nullptr);
  hsize_t total = 0;
  for (const Run& r : runs) total += to_h(std::max<std::int64_t>(r.count, 0));
  if (total == 0) return;
  std::vector<hsize_t> mdims(dims);
  mdims[0] = total;
  hdf5::Dataspace mspace(H5Screate_simple(rank, mdims.data(), nullptr));
  std::vector<hsize_t> fstart(dims.size(), 0), mstart(dims.size(), 0), count(dims);
  for (const Run& r : runs) {
    if (r.count <= 0) continue;
    fstart[0] = to_h(r.first);
    count[0] = to_h(r.count);
    if (H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, fstart.data(), nullptr, count.data(),
                            nullptr) < 0 ||
        H5Sselect_hyperslab(mspace.get(), H5S_SELECT_SET, mstart.data(), nullptr, count.data(),
                            nullptr) < 0) {
      throw Error("HDF5 hyperslab selection failed: " + hdf5::innermost_error());
    }
    if (H5Dread(dataset, memtype, mspace.get(), fspace.get(), H5P_DEFAULT, out) < 0) {
      throw Error(hdf5::innermost_error());
    }
    mstart[0] += count[0];
  }
}

std::unique_ptr<DirectRows> DirectRows::open(const std::string& path, hid_t file, hid_t dataset,
                                             hid_t memtype) {
  hdf5::PropList fcpl(H5Fget_create_plist(file));
  hsize_t userblock = 0;
  if (!fcpl || H5Pget_userblock(fcpl.get(), &userblock) < 0 || userblock != 0) return nullptr;
  hdf5::Datatype ftype(H5Dget_type(dataset));
  if (H5Tequal(ftype.get(), memtype) <= 0) return nullptr;
  hdf5::PropList dcpl(H5Dget_create_plist(dataset));
  if (!dcpl || H5Pget_nfilters(dcpl.get()) != 0) return nullptr;
  const auto dims = hdf5::dims_of(dataset);
  if (dims.empty() || dims[0] == 0) return nullptr;
  std::unique_ptr<DirectRows> d(new DirectRows());
  d->rows_ = dims[0];
  d->row_bytes_ = static_cast<std::int64_t>(H5Tget_size(ftype.get()));
  for (std::size_t i = 1; i < dims.size(); ++i) d->row_bytes_ *= dims[i];
  const auto layout = H5Pget_layout(dcpl.get());
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t addr = H5Dget_offset(dataset);
    if (addr == HADDR_UNDEF) return nullptr;
    d->address_.push_back(addr);
  } else if (layout == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(dims.size());
    if (H5Pget_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()) != static_cast<int>(dims.size())) {
      return nullptr;
    }
    for (std::size_t i = 1; i < dims.size(); ++i) {
      if (chunk[i] != to_h(dims[i])) return nullptr;  // a chunk must hold whole rows
    }
    d->chunk_rows_ = static_cast<std::int64_t>(chunk[0]);
    std::vector<hsize_t> offset(dims.size(), 0);
    for (std::int64_t first = 0; first < d->rows_; first += d->chunk_rows_) {
      offset[0] = to_h(first);
      unsigned mask = 0;
      haddr_t addr = HADDR_UNDEF;
      hsize_t size = 0;
      if (H5Dget_chunk_info_by_coord(dataset, offset.data(), &mask, &addr, &size) < 0 ||
          addr == HADDR_UNDEF || size == 0) {
        return nullptr;
      }
      d->address_.push_back(addr);
    }
  } else {
    return nullptr;
  }
  d->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (d->fd_ < 0) return nullptr;
  // Probe: the first and the last row must read the same both ways.
  for (const std::int64_t row : {std::int64_t{0}, d->rows_ - 1}) {
    std::vector<unsigned char> a(static_cast<std::size_t>(d->row_bytes_)), b(a.size());
    const Run run{row, 1};
    try {
      read_runs(dataset, std::span<const Run>(&run, 1), memtype, a.data());
      d->read(std::span<const Run>(&run, 1), b.data());
    } catch (const Error&) {
      return nullptr;
    }
    if (a != b) return nullptr;
  }
  return d;
}

DirectRows::~DirectRows() {
  if (fd_ >= 0) ::close(fd_);
}

void DirectRows::read(std::span<const Run> runs, void* out) const {
  auto* dst = static_cast<unsigned char*>(out);
  for (const Run& r : runs) {
    std::int64_t row = r.first;
    const std::int64_t end = r.first + r.count;
    while (row < end) {
      std::uint64_t at = 0;
      std::int64_t n = end - row;
      if (chunk_rows_ == 0) {
        at = address_[0] + static_cast<std::uint64_t>(row * row_bytes_);
      } else {
        const auto c = row / chunk_rows_;
        n = std::min(n, (c + 1) * chunk_rows_ - row);  // stay inside the chunk
        at = address_[static_cast<std::size_t>(c)] +
             static_cast<std::uint64_t>((row - c * chunk_rows_) * row_bytes_);
      }
      auto want = static_cast<std::size_t>(n * row_bytes_);
      auto off = static_cast<off_t>(at);
      while (want > 0) {
        const auto got = ::pread(fd_, dst, want, off);
        if (got <= 0) {
          throw Error("short read at byte " + std::to_string(off) + " (file truncated?)");
        }
        dst += got;
        off += got;
        want -= static_cast<std::size_t>(got);
      }
      row += n;
    }
  }
}

std::int64_t chunk_rows_for(std::int64_t row_bytes) {
  constexpr std::int64_t kChunkBytes = 512 * 1024;
  return std::max<std::int64_t>(1, kChunkBytes / std::max<std::int64_t>(1, row_bytes));
}

Appender::Appender(hid_t parent, const std::string& name, hid_t file_type, const Shape& sample_shape)
    : name_(name) {
  dims_.push_back(0);
  for (int i = 0; i < sample_shape.rank(); ++i) dims_.push_back(to_h(sample_shape[i]));
  std::vector<hsize_t> maxdims(dims_);
  maxdims[0] = H5S_UNLIMITED;
  const auto row_bytes = sample_shape.numel() * static_cast<std::int64_t>(H5Tget_size(file_type));
  std::vector<hsize_t> chunk(dims_);
  chunk[0] = to_h(chunk_rows_for(row_bytes));
  hdf5::Dataspace space(H5Screate_simple(static_cast<int>(dims_.size()), dims_.data(), maxdims.data()));
  hdf5::PropList dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
  dataset_ = hdf5::Dataset(
      H5Dcreate2(parent, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
  if (!dataset_) throw Error("cannot create dataset " + name + ": " + hdf5::innermost_error());
}

void Appender::append(const void* data, std::int64_t rows, hid_t memtype) {
  if (rows <= 0) return;
  std::vector<hsize_t> start(dims_.size(), 0), count(dims_);
  start[0] = to_h(rows_);
  count[0] = to_h(rows);
  dims_[0] = to_h(rows_ + rows);
  if (H5Dset_extent(dataset_.get(), dims_.data()) < 0) {
    throw Error("cannot extend dataset " + name_ + ": " + hdf5::innermost_error());
  }
  hdf5::Dataspace fspace(H5Dget_space(dataset_.get()));
  H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  hdf5::Dataspace mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  if (H5Dwrite(dataset_.get(), memtype, mspace.get(), fspace.get(), H5P_DEFAULT, data) < 0) {
    throw Error("cannot write dataset " + name_ + ": " + hdf5::innermost_error());
  }
  rows_ += rows;
}

}  // namespace dtrain::data::rows
