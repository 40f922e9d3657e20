// What an HDF5 file is, and a readable summary of a dataset file.
//
//   switch (data::detect_file_kind(path)) {
//     case data::FileKind::kDataset: data::describe_dataset(data::read_dataset_info(path), std::cout);
//     ...
//   }
//
// The kind comes from the root attribute `format` ("dtrain-dataset",
// "dtrain-checkpoint"); a file without it is a dataset if it has /train or /x.
// `dtrain inspect` dispatches on the kind through one table (src/cli/inspect_command.cpp),
// so another kind of file gets its own summary by adding a row there.
#pragma once

#include "dtrain/data/dataset.hpp"

#include <iosfwd>
#include <string>

namespace dtrain::data {

inline constexpr const char* kCheckpointFormat = "dtrain-checkpoint";

enum class FileKind { kDataset, kCheckpoint, kOtherHdf5 };
const char* file_kind_name(FileKind kind);  // "dataset", "checkpoint", "HDF5 file"

// Throws DataError for a missing, non-HDF5 or damaged file.
FileKind detect_file_kind(const std::string& path);

// Groups, shapes, dtypes, attributes and the class histogram of each split
// (streams y; a label out of range throws DataError after the lines before it).
void describe_dataset(const DatasetInfo& info, std::ostream& out);

// Any HDF5 file: root attributes and the tree of groups and datasets with their
// shapes, dtypes and attributes.
void describe_hdf5(const std::string& path, std::ostream& out);

}  // namespace dtrain::data
