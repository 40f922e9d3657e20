// Writing dataset files: an output path written through a temporary file, and
// appendable split groups.
//
//   AtomicOutput out("fm.h5", force);              // refuses an existing file unless force
//   {
//     hdf5::File f = create(out.temp_path());
//     SplitWriter train(f.get(), "train", StorageType::kUint8, Shape{28, 28, 1}, 1 / 255.f,
//                       Task::kClassification, 1);
//     train.append(x_bytes, labels, rows);
//     write_root_attributes(f.get(), attrs);
//   }                                              // close the file before commit
//   out.commit();                                  // rename; else the destructor removes it
//
// Private to src/data.
#pragma once

#include "hdf5/handle.hpp"
#include "rows.hpp"

#include "dtrain/data/dataset.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dtrain::data {

class AtomicOutput {
 public:
  AtomicOutput(std::string path, bool force);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  const std::string& temp_path() const { return temp_; }
  const std::string& path() const { return path_; }
  void commit();

 private:
  std::string path_;
  std::string temp_;
  bool committed_ = false;
};

// One group (/train, ...; "" for the root of an unsplit file) being written.
// x is appended in its storage type (uint8 or float32), y as int64 class ids or
// float32 targets [rows, targets]; class ids [rows] (targets 1) or [rows, targets] per token.
class SplitWriter {
 public:
  SplitWriter(hid_t file, const std::string& name, StorageType x_type, const Shape& sample_shape,
              float scale, Task task, std::int64_t targets);
  void append(const void* x, const void* y, std::int64_t rows);
  std::int64_t rows() const { return x_.rows(); }

 private:
  static hdf5::Group make_group(hid_t file, const std::string& name);
  hdf5::Group group_;
  StorageType x_type_;
  Task task_;
  rows::Appender x_;
  rows::Appender y_;
};

struct RootAttributes {
  Task task = Task::kClassification;
  std::int64_t num_classes = 0;
  std::string source;
  std::optional<SplitRecord> split;
  std::vector<std::string> class_names;
  std::vector<std::string> feature_names;
};
void write_root_attributes(hid_t file, const RootAttributes& attrs);

// Closes the file (flushing it) and reports a failure as dtrain::Error.
void close_file(hdf5::File& file, const std::string& path);

}  // namespace dtrain::data
