// Crash-safe replacement of a file: write a temporary beside it, fsync, rename,
// fsync the directory (POSIX rename(2) is atomic within a file system).
//
//   remove_stale_temporaries(dir);
//   TempPath tmp = TempPath::beside(final_path);   // ".ckpt-000200.h5.k3x9q1.tmp"
//   ... write tmp.path() ...
//   fsync_file(tmp.path());
//   commit(tmp, final_path);                         // rename + fsync(dir)
//
// Errors are dtrain::Error naming the path. Private to src/ (checkpoints, the
// predict command's output).
#pragma once

#include <filesystem>
#include <string>

namespace dtrain {

// True for ".<name>.<6 of [0-9a-z]>.tmp", the temporaries this module makes.
bool is_temporary_name(const std::string& file_name);

// Removes the temporaries in `dir` left by saves that crashed (one writer per
// directory: a temporary that exists when a save starts is stale). Returns the count.
int remove_stale_temporaries(const std::filesystem::path& dir);

// A temporary path beside the final one; removed on destruction unless committed.
class TempPath {
 public:
  static TempPath beside(const std::filesystem::path& final_path);  // not created
  ~TempPath();
  TempPath(TempPath&& other) noexcept;
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  TempPath& operator=(TempPath&&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void release() { armed_ = false; }

 private:
  explicit TempPath(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
  bool armed_ = true;
};

// fsync(2) of a file's data and metadata.
void fsync_file(const std::filesystem::path& path);
// fsync(2) of a directory, making a rename or unlink inside it durable.
void fsync_directory(const std::filesystem::path& dir);
// rename(2) tmp over final_path, then fsync the directory.
void commit(TempPath& tmp, const std::filesystem::path& final_path);

}  // namespace dtrain
