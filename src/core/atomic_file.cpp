#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

#include "dtrain/core/error.hpp"

namespace dtrain {
namespace {

constexpr std::size_t kRandomChars = 6;
constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";

std::string errno_text() { return std::strerror(errno); }

// Six base-36 characters from the clock, the pid and a per-call counter. Unique
// enough: a collision only makes the exclusive create fail and we try again.
std::string random_suffix(unsigned attempt) {
  const auto now = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::uint64_t z = now ^ (static_cast<std::uint64_t>(::getpid()) << 32) ^ (attempt * 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  std::string s;
  for (std::size_t i = 0; i < kRandomChars; ++i, z /= 36) s += kAlphabet[z % 36];
  return s;
}

void fsync_path(const std::filesystem::path& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    throw Error(path.string() + ": cannot open " + what + " to fsync: " + errno_text());
  }
  const int rc = ::fsync(fd);
  const std::string err = rc != 0 ? errno_text() : "";
  ::close(fd);
  if (rc != 0) throw Error(path.string() + ": fsync failed: " + err);
}

}  // namespace

bool is_temporary_name(const std::string& n) {
  constexpr std::size_t kTail = 1 + kRandomChars + 4;  // ".xxxxxx.tmp"
  if (n.size() < 2 + kTail || n[0] != '.' || !n.ends_with(".tmp")) return false;
  const std::size_t dot = n.size() - kTail;
  if (n[dot] != '.') return false;
  for (std::size_t i = dot + 1; i < dot + 1 + kRandomChars; ++i) {
    if (std::strchr(kAlphabet, n[i]) == nullptr || n[i] == '\0') return false;
  }
  return true;
}

int remove_stale_temporaries(const std::filesystem::path& dir) {
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!is_temporary_name(entry.path().filename().string())) continue;
    if (!entry.is_regular_file(ec)) continue;
    if (std::filesystem::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

TempPath TempPath::beside(const std::filesystem::path& final_path) {
  static_assert(sizeof kAlphabet == 37);
  const auto dir = final_path.parent_path();
  // Picked so that no existing file has the name; HDF5 then creates it exclusively.
  for (unsigned attempt = 0;; ++attempt) {
    auto p = dir / ("." + final_path.filename().string() + "." + random_suffix(attempt) + ".tmp");
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) return TempPath(p);
  }
}

TempPath::~TempPath() {
  if (armed_ && !path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
}

TempPath::TempPath(TempPath&& other) noexcept
    : path_(std::move(other.path_)), armed_(std::exchange(other.armed_, false)) {}

void fsync_file(const std::filesystem::path& path) { fsync_path(path, O_RDONLY, "file"); }

void fsync_directory(const std::filesystem::path& dir) {
  fsync_path(dir.empty() ? std::filesystem::path(".") : dir, O_RDONLY | O_DIRECTORY, "directory");
}

void commit(TempPath& tmp, const std::filesystem::path& final_path) {
  if (std::rename(tmp.path().c_str(), final_path.c_str()) != 0) {
    throw Error(final_path.string() + ": cannot rename " + tmp.path().string() + " into place: " +
                errno_text());
  }
  tmp.release();
  fsync_directory(final_path.parent_path());
}

}  // namespace dtrain
