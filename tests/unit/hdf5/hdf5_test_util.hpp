// Helpers of the src/hdf5 tests: an exception type of their own (so a test sees
// that a helper throws the caller's type), Errors that name a file, the message
// of the failure a call throws, and a fixture with a fresh file.
//
//   class Hdf5Things : public test::FreshFile {};
//   TEST_F(Hdf5Things, MissingSeed) {
//     EXPECT_EQ(failure_of([&] { read_int_attribute(file(), "seed", errors()); }),
//               path() + ": attribute 'seed' is missing");
//   }
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "dtrain/core/error.hpp"
#include "hdf5/errors.hpp"
#include "hdf5/files.hpp"
#include "support/scratch_dir.hpp"

namespace dtrain::hdf5::test {

class TestError : public Error {
 public:
  using Error::Error;
};

// TestError "<file>: <what> (<HDF5's message>)", the default way of adding HDF5's message.
inline Errors naming(const std::string& file) { return Errors(&throw_as<TestError>, file + ": "); }

// The message of the TestError that f throws; "(no error)" or "(another exception) ..." otherwise.
template <class F>
std::string failure_of(F&& f) {
  try {
    f();
  } catch (const TestError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("(another exception) ") + e.what();
  }
  return "(no error)";
}

// A new HDF5 file in a scratch directory, HDF5's error printing off; errors()
// throw TestError "<path>: ...".
class FreshFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("test.h5");
    file_ = create_file(path_, IfExists::kFail, errors());
  }
  const std::string& path() const { return path_; }
  hid_t file() const { return file_.get(); }
  Errors errors() const { return naming(path_); }

 private:
  dtrain::testing::ScratchDir dir_;
  QuietErrors quiet_;
  std::string path_;
  File file_;
};

// HDF5's innermost message after a call that failed (opening a missing file).
inline std::string message_of_a_failed_open() {
  dtrain::testing::ScratchDir dir;
  QuietErrors quiet;
  const hid_t f = H5Fopen(dir.file("missing.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_LT(f, 0);
  return innermost_error();
}

}  // namespace dtrain::hdf5::test
