#include "hdf5/files.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace dtrain::hdf5 {

bool has_hdf5_signature(const std::string& path) {
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

File open_file_read(const std::string& path, const Errors& errors, const ReadFailureWords& words) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) errors.fail("no such file");
  if (std::filesystem::is_directory(path, ec)) errors.fail(std::string(words.directory));
  if (!has_hdf5_signature(path)) errors.fail("not an HDF5 file");
  File f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!f) errors.fail_hdf5(std::string(words.damaged));
  return f;
}

File create_file(const std::string& path, IfExists if_exists, const Errors& errors) {
  PropList fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI);
  const unsigned flags = if_exists == IfExists::kReplace ? H5F_ACC_TRUNC : H5F_ACC_EXCL;
  File f(H5Fcreate(path.c_str(), flags, H5P_DEFAULT, fapl.get()));
  if (!f) errors.fail_hdf5("cannot create HDF5 file");
  return f;
}

}  // namespace dtrain::hdf5
