// HDF5 errors as dtrain exceptions: HDF5's own message, turning off its printing
// of the error stack, and how each caller words and throws a failure. Private to src/.
//
//   hdf5::QuietErrors quiet;                        // no error stack on stderr here
//   const hdf5::Errors errors(&hdf5::throw_as<DataError>, "in.h5: ");
//   hdf5::Dataset x = hdf5::open_dataset(file, "/train/x", errors);
//   // DataError "in.h5: dataset /train/x is missing" or "in.h5: cannot open dataset /train/x (...)"
#pragma once

#include <hdf5.h>

#include <string>
#include <string_view>
#include <utility>

namespace dtrain::hdf5 {

// The innermost message on the calling thread's HDF5 error stack ("truncated
// file: eof = 1024, ..."), or "" if there is none. Read it right after the call
// that failed: the next call into HDF5 clears the stack.
std::string innermost_error();

// Turns off HDF5's automatic printing of its error stack for the calling thread,
// for good (each TBB worker that reads calls it once).
void silence_errors();

// Turns HDF5's automatic error printing off for its lifetime (restored after).
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// How the helpers of src/hdf5 report a failure in the caller's words: its
// exception type, a prefix (data names the file: "in.h5: "; checkpoint adds the
// file name higher up) and how HDF5's own message follows what failed
// ("cannot read /x (HDF5: ...)" or "cannot read /x: ...").
class Errors {
 public:
  // Throws the caller's exception with the finished message.
  using Raise = void (*)(const std::string& message);
  // HDF5's message comes between `before` and `after`; `if_none` stands for an
  // empty error stack.
  struct Detail {
    std::string_view before;
    std::string_view after;
    std::string_view if_none;
  };

  Errors(Raise raise, std::string prefix, Detail detail = {" (", ")", ""})
      : raise_(raise), prefix_(std::move(prefix)), detail_(detail) {}

  // A fact about the file: "attribute 'seed' is missing".
  [[noreturn]] void fail(const std::string& what) const;
  // An HDF5 call that failed: `what`, then HDF5's innermost message.
  [[noreturn]] void fail_hdf5(const std::string& what) const;
  // The same with a message read earlier (before the handles closed).
  [[noreturn]] void fail_hdf5(const std::string& what, const std::string& hdf5_message) const;

 private:
  Raise raise_;
  std::string prefix_;
  Detail detail_;
};

// An Errors::Raise for the exception type E: `Errors(&throw_as<CheckpointError>, "")`.
template <class E>
void throw_as(const std::string& message) {
  throw E(message);
}

}  // namespace dtrain::hdf5
