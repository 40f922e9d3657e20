#include "hdf5_files.hpp"

#include "dtrain/data/error.hpp"
#include "hdf5/files.hpp"

namespace dtrain::data {

hdf5::Errors read_errors(const std::string& path) {
  return hdf5::Errors(&hdf5::throw_as<DataError>, path + ": ");
}

hdf5::Errors write_errors() { return hdf5::Errors(&hdf5::throw_as<Error>, "", {": ", "", ""}); }

hdf5::File open_read(const std::string& path) {
  hdf5::silence_errors();
  return hdf5::open_file_read(
      path, hdf5::Errors(&hdf5::throw_as<DataError>, path + ": ", {" (truncated or damaged: ", ")", ""}));
}

hdf5::File create(const std::string& path) {
  hdf5::silence_errors();
  return hdf5::create_file(path, hdf5::IfExists::kReplace,
                           hdf5::Errors(&hdf5::throw_as<Error>, path + ": ", {": ", "", ""}));
}

}  // namespace dtrain::data
