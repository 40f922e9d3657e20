// The tree of an HDF5 file: whether a path exists, groups, and the datasets below
// a group. Paths are absolute ("/model/weights") or relative to `loc`. Private to src/.
//
//   if (hdf5::exists(file, "/train/x")) ...
//   hdf5::Group g = hdf5::create_group(file, "/optimizer/slots", errors);  // and /optimizer
//   for (const auto& p : hdf5::dataset_paths(g.get(), errors)) ...        // "dense_1/kernel/m", ...
#pragma once

#include <string>
#include <vector>

#include "hdf5/errors.hpp"
#include "hdf5/handle.hpp"

namespace dtrain::hdf5 {

// True if every link on the way exists and leads to an object ("/train/x").
bool exists(hid_t loc, const std::string& path);

// errors.fail("group <path> is missing") or errors.fail_hdf5("cannot open group <path>").
Group open_group(hid_t loc, const std::string& path, const Errors& errors);
// Creates the group and any missing groups on the way: errors.fail_hdf5("cannot create group <path>").
Group create_group(hid_t loc, const std::string& path, const Errors& errors);

// Link creation that makes the missing groups on the way ("a/b" for "a/b/c"),
// for H5Gcreate2 and H5Dcreate2.
PropList intermediate_groups();

// Paths (relative to loc) of every dataset below loc, in name order:
// errors.fail_hdf5("cannot list datasets").
std::vector<std::string> dataset_paths(hid_t loc, const Errors& errors);

}  // namespace dtrain::hdf5
