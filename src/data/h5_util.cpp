#include "h5_util.hpp"

#include "dtrain/data/error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace dtrain::data::h5 {
namespace {


std::string number_text(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

hsize_t to_h(std::int64_t v) { return static_cast<hsize_t>(v); }


std::int64_t element_count(hid_t attr) {
  Dataspace space(H5Aget_space(attr));
  const auto n = H5Sget_simple_extent_npoints(space.get());
  return n < 0 ? 0 : static_cast<std::int64_t>(n);
}

std::vector<std::string> read_strings(hid_t attr) {
  Datatype ftype(H5Aget_type(attr));
  Datatype mtype = hdf5::string_memtype(ftype.get());
  const auto n = static_cast<std::size_t>(element_count(attr));
  std::vector<std::string> out;
  if (H5Tis_variable_str(ftype.get()) > 0) {
    std::vector<char*> ptrs(n, nullptr);
    if (n > 0 && H5Aread(attr, mtype.get(), ptrs.data()) < 0) return {};
    for (char* p : ptrs) {
      out.emplace_back(p ? p : "");
      H5free_memory(p);
    }
  } else {
    const std::size_t size = H5Tget_size(ftype.get());
    std::vector<char> buf(n * size + 1, '\0');
    if (n > 0 && H5Aread(attr, mtype.get(), buf.data()) < 0) return {};
    for (std::size_t i = 0; i < n; ++i) {
      const char* s = buf.data() + i * size;
      out.emplace_back(s, strnlen(s, size));
    }
  }
  return out;
}

template <class T>
std::vector<T> read_numbers(hid_t attr, hid_t memtype) {
  std::vector<T> v(static_cast<std::size_t>(element_count(attr)));
  if (!v.empty() && H5Aread(attr, memtype, v.data()) < 0) return {};
  return v;
}

Attribute open_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) return Attribute();
  return Attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT));
}

Attribute create_attribute(hid_t object, const std::string& name, hid_t type, hid_t space) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
  Attribute a(H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
  if (!a) throw Error("cannot create HDF5 attribute '" + name + "': " + last_error_detail());
  return a;
}

void write_scalar(hid_t object, const std::string& name, hid_t file_type, hid_t mem_type,
                  const void* value) {
  Dataspace space(H5Screate(H5S_SCALAR));
  Attribute a = create_attribute(object, name, file_type, space.get());
  if (H5Awrite(a.get(), mem_type, value) < 0) {
    throw Error("cannot write HDF5 attribute '" + name + "': " + last_error_detail());
  }
}

bool has_hdf5_signature(const std::string& path) {
  // The superblock signature sits at byte 0, 512, 1024, 2048, ... (HDF5 file format
  // specification, section II.A).
  static constexpr char kSignature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return false;
  for (std::uintmax_t at = 0; at + 8 <= size; at = at == 0 ? 512 : at * 2) {
    char buf[8];
    in.seekg(static_cast<std::streamoff>(at));
    if (!in.read(buf, 8)) return false;
    if (std::memcmp(buf, kSignature, 8) == 0) return true;
  }
  return false;
}

}  // namespace

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string last_error_detail() {
  return hdf5::innermost_error();
}

File open_read(const std::string& path) {
  silence_errors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw DataError(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw DataError(path + ": is a directory, not a file");
  if (!has_hdf5_signature(path)) throw DataError(path + ": not an HDF5 file");
  File f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f) {
    throw DataError(path + ": cannot open HDF5 file (truncated or damaged: " + last_error_detail() +
                    ")");
  }
  return f;
}

File create(const std::string& path) {
  silence_errors();
  File f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  if (!f) throw Error(path + ": cannot create HDF5 file: " + last_error_detail());
  return f;
}

bool exists(hid_t file, const std::string& path) {
  std::string prefix;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto slash = std::min(path.find('/', start), path.size());
    prefix = path.substr(0, slash);
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (H5Oexists_by_name(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    start = slash + 1;
  }
  return true;
}

Dataset open_dataset(hid_t file, const std::string& file_name, const std::string& path,
                     hid_t access) {
  if (!exists(file, path)) throw DataError(file_name + ": dataset " + path + " is missing");
  H5O_info_t oinfo;
  if (H5Oget_info_by_name(file, path.c_str(), &oinfo, H5P_DEFAULT) < 0 ||
      oinfo.type != H5O_TYPE_DATASET) {
    throw DataError(file_name + ": " + path + " is not a dataset");
  }
  Dataset d(H5Dopen2(file, path.c_str(), access));
  if (!d) {
    throw DataError(file_name + ": cannot open dataset " + path + " (" + last_error_detail() + ")");
  }
  return d;
}

std::vector<std::int64_t> dims_of(hid_t dataset) {
  Dataspace space(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank <= 0) return {};
  std::vector<hsize_t> d(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  return std::vector<std::int64_t>(d.begin(), d.end());
}

bool has_attribute(hid_t object, const std::string& name) {
  return H5Aexists(object, name.c_str()) > 0;
}

std::optional<std::int64_t> read_int_attribute(hid_t object, const std::string& name) {
  Attribute a = open_attribute(object, name);
  if (!a) return std::nullopt;
  Datatype t(H5Aget_type(a.get()));
  const auto cls = H5Tget_class(t.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return std::nullopt;
  if (cls == H5T_FLOAT) {
    auto v = read_numbers<double>(a.get(), H5T_NATIVE_DOUBLE);
    if (v.size() != 1 || v[0] != static_cast<double>(static_cast<std::int64_t>(v[0]))) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v[0]);
  }
  auto v = read_numbers<std::int64_t>(a.get(), H5T_NATIVE_INT64);
  if (v.size() != 1) return std::nullopt;
  return v[0];
}

std::optional<double> read_double_attribute(hid_t object, const std::string& name) {
  Attribute a = open_attribute(object, name);
  if (!a) return std::nullopt;
  Datatype t(H5Aget_type(a.get()));
  const auto cls = H5Tget_class(t.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) return std::nullopt;
  auto v = read_numbers<double>(a.get(), H5T_NATIVE_DOUBLE);
  if (v.size() != 1) return std::nullopt;
  return v[0];
}

std::optional<std::string> read_string_attribute(hid_t object, const std::string& name) {
  Attribute a = open_attribute(object, name);
  if (!a) return std::nullopt;
  Datatype t(H5Aget_type(a.get()));
  if (H5Tget_class(t.get()) != H5T_STRING) return std::nullopt;
  auto v = read_strings(a.get());
  if (v.size() != 1) return std::nullopt;
  return v[0];
}

std::vector<std::string> read_string_array_attribute(hid_t object, const std::string& name) {
  Attribute a = open_attribute(object, name);
  if (!a) return {};
  Datatype t(H5Aget_type(a.get()));
  if (H5Tget_class(t.get()) != H5T_STRING) return {};
  return read_strings(a.get());
}

std::vector<std::string> attribute_names(hid_t object) {
  std::vector<std::string> names;
  H5O_info_t info;
  if (H5Oget_info2(object, &info, H5O_INFO_NUM_ATTRS) < 0) return names;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    char buf[256];
    const auto len = H5Aget_name_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf, sizeof buf,
                                        H5P_DEFAULT);
    if (len >= 0) names.emplace_back(buf);
  }
  return names;
}

std::string attribute_text(hid_t object, const std::string& name) {
  Attribute a = open_attribute(object, name);
  if (!a) return "";
  Datatype t(H5Aget_type(a.get()));
  std::vector<std::string> items;
  switch (H5Tget_class(t.get())) {
    case H5T_INTEGER:
      for (auto v : read_numbers<std::int64_t>(a.get(), H5T_NATIVE_INT64)) {
        items.push_back(std::to_string(v));
      }
      break;
    case H5T_FLOAT:
      for (auto v : read_numbers<double>(a.get(), H5T_NATIVE_DOUBLE)) items.push_back(number_text(v));
      break;
    case H5T_STRING:
      for (auto& s : read_strings(a.get())) items.push_back('"' + s + '"');
      break;
    default:
      return "(unsupported attribute type)";
  }
  Dataspace space(H5Aget_space(a.get()));
  if (H5Sget_simple_extent_type(space.get()) == H5S_SCALAR && items.size() == 1) return items[0];
  std::string out = "[";
  const std::size_t shown = std::min<std::size_t>(items.size(), 12);
  for (std::size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + items[i];
  if (shown < items.size()) out += ", ... (" + std::to_string(items.size()) + " values)";
  return out + "]";
}

void write_attribute(hid_t object, const std::string& name, std::int64_t value) {
  write_scalar(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

void write_attribute(hid_t object, const std::string& name, double value) {
  write_scalar(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void write_attribute(hid_t object, const std::string& name, float value) {
  write_scalar(object, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &value);
}

void write_attribute(hid_t object, const std::string& name, const std::string& value) {
  Datatype t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  const char* p = value.c_str();
  write_scalar(object, name, t.get(), t.get(), &p);
}

void write_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values) {
  Datatype t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  const hsize_t n = values.size();
  Dataspace space(H5Screate_simple(1, &n, nullptr));
  Attribute a = create_attribute(object, name, t.get(), space.get());
  std::vector<const char*> ptrs;
  for (const auto& s : values) ptrs.push_back(s.c_str());
  if (n > 0 && H5Awrite(a.get(), t.get(), ptrs.data()) < 0) {
    throw Error("cannot write HDF5 attribute '" + name + "': " + last_error_detail());
  }
}

void read_block(hid_t dataset, std::int64_t begin, std::int64_t count, hid_t memtype, void* out) {
  const Run run{begin, count};
  read_runs(dataset, std::span<const Run>(&run, 1), memtype, out);
}

void read_runs(hid_t dataset, std::span<const Run> runs, hid_t memtype, void* out) {
  // One H5Dread per run, the memory selection the same shape as the file block: HDF5
  // 1.10 then maps chunks by hyperslab. (A union of runs against a flat memory space
  // makes it walk every element: 30x slower.)
  Dataspace fspace(H5Dget_space(dataset));
  const int rank = H5Sget_simple_extent_ndims(fspace.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(fspace.get(), dims.data(), nullptr);
  hsize_t total = 0;
  for (const Run& r : runs) total += to_h(std::max<std::int64_t>(r.count, 0));
  if (total == 0) return;
  std::vector<hsize_t> mdims(dims);
  mdims[0] = total;
  Dataspace mspace(H5Screate_simple(rank, mdims.data(), nullptr));
  std::vector<hsize_t> fstart(dims.size(), 0), mstart(dims.size(), 0), count(dims);
  for (const Run& r : runs) {
    if (r.count <= 0) continue;
    fstart[0] = to_h(r.first);
    count[0] = to_h(r.count);
    if (H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, fstart.data(), nullptr, count.data(),
                            nullptr) < 0 ||
        H5Sselect_hyperslab(mspace.get(), H5S_SELECT_SET, mstart.data(), nullptr, count.data(),
                            nullptr) < 0) {
      throw Error("HDF5 hyperslab selection failed: " + last_error_detail());
    }
    if (H5Dread(dataset, memtype, mspace.get(), fspace.get(), H5P_DEFAULT, out) < 0) {
      throw Error(last_error_detail());
    }
    mstart[0] += count[0];
  }
}

std::unique_ptr<DirectRows> DirectRows::open(const std::string& path, hid_t file, hid_t dataset,
                                             hid_t memtype) {
  PropList fcpl(H5Fget_create_plist(file));
  hsize_t userblock = 0;
  if (!fcpl || H5Pget_userblock(fcpl.get(), &userblock) < 0 || userblock != 0) return nullptr;
  Datatype ftype(H5Dget_type(dataset));
  if (H5Tequal(ftype.get(), memtype) <= 0) return nullptr;
  PropList dcpl(H5Dget_create_plist(dataset));
  if (!dcpl || H5Pget_nfilters(dcpl.get()) != 0) return nullptr;
  const auto dims = dims_of(dataset);
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
  Dataspace space(H5Screate_simple(static_cast<int>(dims_.size()), dims_.data(), maxdims.data()));
  PropList dcpl(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
  dataset_ = Dataset(H5Dcreate2(parent, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                dcpl.get(), H5P_DEFAULT));
  if (!dataset_) throw Error("cannot create dataset " + name + ": " + last_error_detail());
}

void Appender::append(const void* data, std::int64_t rows, hid_t memtype) {
  if (rows <= 0) return;
  std::vector<hsize_t> start(dims_.size(), 0), count(dims_);
  start[0] = to_h(rows_);
  count[0] = to_h(rows);
  dims_[0] = to_h(rows_ + rows);
  if (H5Dset_extent(dataset_.get(), dims_.data()) < 0) {
    throw Error("cannot extend dataset " + name_ + ": " + last_error_detail());
  }
  Dataspace fspace(H5Dget_space(dataset_.get()));
  H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  Dataspace mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  if (H5Dwrite(dataset_.get(), memtype, mspace.get(), fspace.get(), H5P_DEFAULT, data) < 0) {
    throw Error("cannot write dataset " + name_ + ": " + last_error_detail());
  }
  rows_ += rows;
}

std::string dims_text(const std::vector<std::int64_t>& dims) {
  std::string s = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string dtype_text(hid_t dataset) {
  h5::Datatype t(H5Dget_type(dataset));
  const auto bits = std::to_string(8 * H5Tget_size(t.get()));
  switch (H5Tget_class(t.get())) {
    case H5T_INTEGER:
      return (H5Tget_sign(t.get()) == H5T_SGN_NONE ? "uint" : "int") + bits;
    case H5T_FLOAT:
      return "float" + bits;
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    default:
      return "an unsupported type";
  }
}

}  // namespace dtrain::data::h5
