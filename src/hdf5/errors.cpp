#include "hdf5/errors.hpp"

#include "dtrain/core/error.hpp"

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

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

void Errors::fail(const std::string& what) const {
  const std::string message = prefix_ + what;
  raise_(message);
  throw Error(message);  // a Raise that returned
}

void Errors::fail_hdf5(const std::string& what) const { fail_hdf5(what, innermost_error()); }

void Errors::fail_hdf5(const std::string& what, const std::string& hdf5_message) const {
  const std::string_view detail = hdf5_message.empty() ? detail_.if_none : hdf5_message;
  fail(what + std::string(detail_.before) + std::string(detail) + std::string(detail_.after));
}

}  // namespace dtrain::hdf5
