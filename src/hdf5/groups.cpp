#include "hdf5/groups.hpp"

#include <algorithm>

namespace dtrain::hdf5 {

bool exists(hid_t loc, const std::string& path) {
  std::size_t start = path.starts_with('/') ? 1 : 0;
  while (start < path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string prefix = path.substr(0, slash);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (H5Oexists_by_name(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;  // a dangling soft link
    start = slash + 1;
  }
  return true;
}

Group open_group(hid_t loc, const std::string& path, const Errors& errors) {
  if (!exists(loc, path)) errors.fail("group " + path + " is missing");
  Group g(H5Gopen2(loc, path.c_str(), H5P_DEFAULT));
  if (!g) errors.fail_hdf5("cannot open group " + path);
  return g;
}

PropList intermediate_groups() {
  PropList lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  return lcpl;
}

Group create_group(hid_t loc, const std::string& path, const Errors& errors) {
  PropList lcpl = intermediate_groups();
  Group g(H5Gcreate2(loc, path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!g) errors.fail_hdf5("cannot create group " + path);
  return g;
}

std::vector<std::string> dataset_paths(hid_t loc, const Errors& errors) {
  std::vector<std::string> paths;
  auto visit = [](hid_t group, const char* name, const H5L_info_t* info, void* out) -> herr_t {
    if (info->type != H5L_TYPE_HARD) return 0;
    Object o(H5Oopen(group, name, H5P_DEFAULT));
    if (o && H5Iget_type(o.get()) == H5I_DATASET) {
      static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    }
    return 0;
  };
  if (H5Lvisit(loc, H5_INDEX_NAME, H5_ITER_INC, visit, &paths) < 0) errors.fail_hdf5("cannot list datasets");
  return paths;
}

}  // namespace dtrain::hdf5
