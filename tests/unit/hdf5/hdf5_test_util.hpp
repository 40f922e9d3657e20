// Helpers of the src/hdf5 tests: an exception type of their own (so a test sees
// that a helper throws the caller's type), Errors that name a file, and the
// message of the failure a call throws.
//
//   const hdf5::Errors errors = naming(path);         // TestError "<path>: ..."
//   EXPECT_EQ(failure_of([&] { hdf5::read_int_attribute(f, "seed", errors); }),
//             path + ": attribute 'seed' is missing");
#pragma once

#include <string>

#include "dtrain/core/error.hpp"
#include "hdf5/errors.hpp"

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

}  // namespace dtrain::hdf5::test
