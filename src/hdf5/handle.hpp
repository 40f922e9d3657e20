// RAII over HDF5's hid_t, one alias per kind of object: the handles of the
// helpers in src/hdf5 (files.hpp, groups.hpp, datasets.hpp, attributes.hpp),
// shared by src/data, src/checkpoint and the predict command. Private to src/:
// the public headers never include HDF5.
//
//   hdf5::File file(H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT));
//   hdf5::Dataset x(H5Dopen2(file.get(), "/train/x", H5P_DEFAULT));
//   if (!x) ...;                                   // closed when they go out of scope
#pragma once

#include <hdf5.h>

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

}  // namespace dtrain::hdf5
