#include "hdf5/handle.hpp"

namespace dtrain::hdf5 {
namespace {

herr_t keep_innermost(unsigned n, const H5E_error2_t* err, void* out) {
  if (n == 0 && err != nullptr && err->desc != nullptr) {
    *static_cast<std::string*>(out) = err->desc;
  }
  return 0;
}

}  // namespace

std::string innermost_error() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &msg);
  return msg;
}

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

}  // namespace dtrain::hdf5
