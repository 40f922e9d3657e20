// The HDF5 C API pieces that both src/data and src/checkpoint need: RAII over
// hid_t (one alias per kind of object), the innermost message of the error
// stack, and a memory type for reading stored strings. Private to src/: the
// public headers never include HDF5.
//
//   hdf5::File file(H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT));
//   hdf5::Dataset x(H5Dopen2(file.get(), "/train/x", H5P_DEFAULT));
//   if (!x) throw SomeError("cannot open /train/x: " + hdf5::innermost_error());
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

namespace dtrain::hdf5 {

template <herr_t (*Close)(hid_t)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
    }
    return *this;
  }

  hid_t get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }  // an invalid id (< 0) is "empty"
  void reset() {
    if (id_ >= 0) Close(id_);
    id_ = H5I_INVALID_HID;
  }
  // Closes now and reports whether HDF5 succeeded (a file's close writes metadata).
  bool close() {
    const bool ok = id_ < 0 || Close(id_) >= 0;
    id_ = H5I_INVALID_HID;
    return ok;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using Attribute = Handle<H5Aclose>;
using PropList = Handle<H5Pclose>;
using Object = Handle<H5Oclose>;

// The innermost message on the calling thread's HDF5 error stack ("truncated
// file: eof = 1024, ..."), or "" if there is none.
std::string innermost_error();

// A memory string type matching a stored one (variable or fixed length, its
// padding and character set), for reading attributes and datasets of text.
Datatype string_memtype(hid_t file_type);

}  // namespace dtrain::hdf5
