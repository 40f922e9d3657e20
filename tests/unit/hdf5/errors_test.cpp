// hdf5::Errors: the caller's exception type, prefix and way of adding HDF5's own
// message; QuietErrors restores HDF5's error printing.
#include "hdf5/errors.hpp"

#include <gtest/gtest.h>

#include "hdf5_test_util.hpp"
#include "support/scratch_dir.hpp"

namespace dtrain::hdf5 {
namespace {

using test::failure_of;

TEST(Hdf5Errors, FailPutsThePrefixFirstAndThrowsTheCallersType) {
  const Errors errors(&throw_as<test::TestError>, "in.h5: ");
  EXPECT_EQ(failure_of([&] { errors.fail("dataset /x is missing"); }), "in.h5: dataset /x is missing");
}

TEST(Hdf5Errors, FailHdf5AddsHdf5sInnermostMessageInTheCallersStyle) {
  const std::string hdf5_message = test::message_of_a_failed_open();
  ASSERT_FALSE(hdf5_message.empty());

  const Errors plain(&throw_as<test::TestError>, "");
  EXPECT_EQ(failure_of([&] { plain.fail_hdf5("cannot open", hdf5_message); }),
            "cannot open (" + hdf5_message + ")");
  const Errors styled(&throw_as<test::TestError>, "p: ", {" (HDF5: ", ")", "no detail"});
  EXPECT_EQ(failure_of([&] { styled.fail_hdf5("cannot open", hdf5_message); }),
            "p: cannot open (HDF5: " + hdf5_message + ")");
  EXPECT_EQ(failure_of([&] { styled.fail_hdf5("cannot open", ""); }), "p: cannot open (HDF5: no detail)");
  const Errors colon(&throw_as<test::TestError>, "", {": ", "", ""});
  EXPECT_EQ(failure_of([&] { colon.fail_hdf5("cannot write", "why"); }), "cannot write: why");
}

TEST(Hdf5Errors, FailHdf5ReadsTheStackOfTheCallThatJustFailed) {
  dtrain::testing::ScratchDir dir;
  QuietErrors quiet;
  ASSERT_LT(H5Fopen(dir.file("missing.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), 0);
  const std::string expected = innermost_error();  // read, and left on the stack
  EXPECT_EQ(failure_of([&] { test::naming("f").fail_hdf5("cannot open"); }),
            "f: cannot open (" + expected + ")");
}

TEST(Hdf5Errors, QuietErrorsRestoresThePrintingItFound) {
  H5E_auto2_t before = nullptr;
  void* before_data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &before, &before_data);
  {
    QuietErrors quiet;
    H5E_auto2_t inside = nullptr;
    void* inside_data = nullptr;
    H5Eget_auto2(H5E_DEFAULT, &inside, &inside_data);
    EXPECT_EQ(inside, nullptr);
  }
  H5E_auto2_t after = nullptr;
  void* after_data = nullptr;
  H5Eget_auto2(H5E_DEFAULT, &after, &after_data);
  EXPECT_EQ(after, before);
  EXPECT_EQ(after_data, before_data);
}

}  // namespace
}  // namespace dtrain::hdf5
