#include "hdf5/values.hpp"

#include <cstring>

namespace dtrain::hdf5::values {
namespace {

// A memory string type matching a stored one (variable or fixed length, its
// padding and character set).
Datatype string_memtype(hid_t file_type) {
  Datatype t(H5Tcopy(H5T_C_S1));
  if (H5Tis_variable_str(file_type) > 0) {
    H5Tset_size(t.get(), H5T_VARIABLE);
  } else {
    H5Tset_size(t.get(), H5Tget_size(file_type));
    H5Tset_strpad(t.get(), H5Tget_strpad(file_type));
  }
  H5Tset_cset(t.get(), H5Tget_cset(file_type));
  return t;
}

}  // namespace

Dataspace space_for(std::span<const std::int64_t> shape) {
  if (shape.empty()) return Dataspace(H5Screate(H5S_SCALAR));
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return Dataspace(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
}

std::size_t element_count(hid_t space) {
  if (H5Sget_simple_extent_type(space) == H5S_NULL) return 0;
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

Datatype utf8_string_type() {
  Datatype t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

herr_t read_attribute_into(hid_t attribute, hid_t memtype, void* buffer) {
  return H5Aread(attribute, memtype, buffer);
}

herr_t read_dataset_into(hid_t dataset, hid_t memtype, void* buffer) {
  return H5Dread(dataset, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
}

bool read_strings(hid_t object, hid_t file_type, std::size_t n, ReadInto read,
                  std::vector<std::string>& out) {
  out.clear();
  out.reserve(n);
  if (n == 0) return true;
  Datatype mtype = string_memtype(file_type);
  if (H5Tis_variable_str(file_type) > 0) {
    std::vector<char*> ptrs(n, nullptr);
    if (read(object, mtype.get(), ptrs.data()) < 0) return false;
    for (char* p : ptrs) {
      out.emplace_back(p != nullptr ? p : "");
      H5free_memory(p);
    }
  } else {
    const std::size_t size = H5Tget_size(file_type);
    std::vector<char> buf(n * size + 1, '\0');
    if (read(object, mtype.get(), buf.data()) < 0) return false;
    for (std::size_t i = 0; i < n; ++i) {
      const char* s = buf.data() + i * size;
      out.emplace_back(s, strnlen(s, size));
    }
  }
  return true;
}

}  // namespace dtrain::hdf5::values
