// Helpers of the data tests: a temporary directory, an HDF5 writer for hand-made
// (also deliberately broken) dataset files, and IDX / text file writers.
//
//   TempDir dir;
//   H5Writer w(dir / "a.h5");
//   w.floats("/train/x", {4, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
//   w.ints("/train/y", {4}, {0, 1, 0, 1});
//   w.attr("/", "num_classes", std::int64_t{2});
#pragma once

#include "dtrain/data/error.hpp"
#include "support/scratch_dir.hpp"

#include <hdf5.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dtrain::data::testing {

using TempDir = ::dtrain::testing::ScratchDir;

// Writes datasets and attributes with the plain HDF5 C API (contiguous layout, as
// h5py writes by default), creating intermediate groups.
class H5Writer {
 public:
  explicit H5Writer(const std::string& path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file_ < 0) throw std::runtime_error("cannot create " + path);
  }
  ~H5Writer() { H5Fclose(file_); }
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  void floats(const std::string& name, std::vector<hsize_t> dims, const std::vector<float>& v) {
    write(name, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, v.data());
  }
  void doubles(const std::string& name, std::vector<hsize_t> dims, const std::vector<double>& v) {
    write(name, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.data());
  }
  void ints(const std::string& name, std::vector<hsize_t> dims, const std::vector<std::int64_t>& v) {
    write(name, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, v.data());
  }
  void int32s(const std::string& name, std::vector<hsize_t> dims, const std::vector<std::int32_t>& v) {
    write(name, dims, H5T_STD_I32LE, H5T_NATIVE_INT32, v.data());
  }
  void bytes(const std::string& name, std::vector<hsize_t> dims, const std::vector<std::uint8_t>& v) {
    write(name, dims, H5T_STD_U8LE, H5T_NATIVE_UINT8, v.data());
  }
  void shorts(const std::string& name, std::vector<hsize_t> dims, const std::vector<std::int16_t>& v) {
    write(name, dims, H5T_STD_I16LE, H5T_NATIVE_INT16, v.data());
  }
  void group(const std::string& name) {
    hid_t g = H5Gcreate2(file_, name.c_str(), lcpl(), H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
  }

  void attr(const std::string& object, const std::string& name, std::int64_t v) {
    attr_raw(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
  }
  void attr(const std::string& object, const std::string& name, double v) {
    attr_raw(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
  }
  void attr(const std::string& object, const std::string& name, const std::string& v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const char* p = v.c_str();
    attr_raw(object, name, t, t, &p);
    H5Tclose(t);
  }

 private:
  hid_t lcpl() {
    if (lcpl_ < 0) {
      lcpl_ = H5Pcreate(H5P_LINK_CREATE);
      H5Pset_create_intermediate_group(lcpl_, 1);
    }
    return lcpl_;
  }
  void write(const std::string& name, const std::vector<hsize_t>& dims, hid_t ftype, hid_t mtype,
             const void* data) {
    hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t d = H5Dcreate2(file_, name.c_str(), ftype, space, lcpl(), H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0) throw std::runtime_error("cannot create dataset " + name);
    hsize_t n = 1;
    for (auto v : dims) n *= v;
    if (n > 0) H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d);
    H5Sclose(space);
  }
  void attr_raw(const std::string& object, const std::string& name, hid_t ftype, hid_t mtype,
                const void* v) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate_by_name(file_, object.c_str(), name.c_str(), ftype, space, H5P_DEFAULT,
                                H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) throw std::runtime_error("cannot create attribute " + name);
    H5Awrite(a, mtype, v);
    H5Aclose(a);
    H5Sclose(space);
  }
  hid_t file_ = -1;
  hid_t lcpl_ = -1;
};

// A classification split whose x encodes the row: x[i, f] = 10 * i + f.
inline void write_counting_split(H5Writer& w, const std::string& group, std::int64_t rows,
                                 std::int64_t features, std::int64_t classes) {
  std::vector<float> x(static_cast<std::size_t>(rows * features));
  std::vector<std::int64_t> y(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t f = 0; f < features; ++f) x[static_cast<std::size_t>(i * features + f)] = static_cast<float>(10 * i + f);
    y[static_cast<std::size_t>(i)] = i % classes;
  }
  const std::string prefix = group.empty() ? "" : "/" + group;
  w.floats(prefix + "/x", {static_cast<hsize_t>(rows), static_cast<hsize_t>(features)}, x);
  w.ints(prefix + "/y", {static_cast<hsize_t>(rows)}, y);
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// An IDX file: header 00 00 <type> <ndims>, big-endian uint32 dims, then payload
// (already big-endian for multi-byte types). gzip when gz is set.
inline void write_idx(const std::string& path, std::uint8_t type, const std::vector<std::uint32_t>& dims,
                      const std::vector<unsigned char>& payload, bool gz) {
  std::vector<unsigned char> bytes = {0, 0, type, static_cast<unsigned char>(dims.size())};
  for (auto d : dims) {
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<unsigned char>(d >> s));
  }
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
  }
}

// The message of the DataError that f throws ("" and a test failure otherwise).
inline std::string data_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("(not a DataError) ") + e.what();
  }
  return "(no error)";
}

}  // namespace dtrain::data::testing
