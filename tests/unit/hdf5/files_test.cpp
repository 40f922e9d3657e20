// hdf5::open_file_read / create_file on real files: each way a file cannot be
// read is named, in the caller's words where it has its own.
#include "hdf5/files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hdf5/groups.hpp"
#include "hdf5_test_util.hpp"
#include "support/scratch_dir.hpp"

namespace dtrain::hdf5 {
namespace {

namespace fs = std::filesystem;
using test::failure_of;
using test::naming;

// A small valid file: one group with a float dataset of `n` values.
void write_small_file(const std::string& path, hsize_t n = 4096) {
  QuietErrors quiet;
  File f = create_file(path, IfExists::kReplace, naming(path));
  Group g = create_group(f.get(), "/g", naming(path));
  Dataspace space(H5Screate_simple(1, &n, nullptr));
  Dataset d(H5Dcreate2(g.get(), "x", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  std::vector<float> v(n, 1.5f);
  ASSERT_GE(H5Dwrite(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
}

TEST(Hdf5Files, CreatedFileOpensForReading) {
  dtrain::testing::ScratchDir dir;
  const std::string path = dir.file("a.h5");
  write_small_file(path);
  EXPECT_TRUE(has_hdf5_signature(path));
  QuietErrors quiet;
  File f = open_file_read(path, naming(path));
  EXPECT_TRUE(f);
  EXPECT_TRUE(exists(f.get(), "/g/x"));
}

TEST(Hdf5Files, CreateRefusesAnExistingFileUnlessAskedToReplaceIt) {
  dtrain::testing::ScratchDir dir;
  const std::string path = dir.file("a.h5");
  write_small_file(path);
  QuietErrors quiet;
  const auto msg = failure_of([&] { create_file(path, IfExists::kFail, naming(path)); });
  EXPECT_TRUE(msg.starts_with(path + ": cannot create HDF5 file (")) << msg;
  File f = create_file(path, IfExists::kReplace, naming(path));
  ASSERT_TRUE(f.close());
  File again = open_file_read(path, naming(path));
  EXPECT_FALSE(exists(again.get(), "/g")) << "replaced by an empty file";
}

TEST(Hdf5Files, CloseFailsWhileAnObjectIsStillOpen) {
  dtrain::testing::ScratchDir dir;
  const std::string path = dir.file("a.h5");
  QuietErrors quiet;
  File f = create_file(path, IfExists::kFail, naming(path));
  Group g = create_group(f.get(), "/g", naming(path));
  const hid_t id = f.get();
  EXPECT_FALSE(f.close()) << "H5F_CLOSE_SEMI: the group is open";
  g.reset();
  EXPECT_GE(H5Fclose(id), 0) << "the file closes once the group is closed";
}

TEST(Hdf5Files, MissingFileAndDirectoryAreNamed) {
  dtrain::testing::ScratchDir dir;
  const std::string missing = dir.file("missing.h5");
  EXPECT_EQ(failure_of([&] { open_file_read(missing, naming(missing)); }), missing + ": no such file");
  const std::string d = dir.path().string();
  EXPECT_EQ(failure_of([&] { open_file_read(d, naming(d)); }), d + ": is a directory, not a file");
  EXPECT_EQ(
      failure_of([&] { open_file_read(d, naming(d), {.directory = "is a directory, not a checkpoint"}); }),
      d + ": is a directory, not a checkpoint");
}

TEST(Hdf5Files, NonHdf5FileIsNamed) {
  dtrain::testing::ScratchDir dir;
  const std::string text = dir.file("notes.h5");
  std::ofstream(text) << "this is not HDF5, even if it is long enough to hold a signature\n";
  EXPECT_FALSE(has_hdf5_signature(text));
  EXPECT_EQ(failure_of([&] { open_file_read(text, naming(text)); }), text + ": not an HDF5 file");
  const std::string empty = dir.file("empty.h5");
  std::ofstream{empty};
  EXPECT_EQ(failure_of([&] { open_file_read(empty, naming(empty)); }), empty + ": not an HDF5 file");
}

TEST(Hdf5Files, SignatureAfterAUserBlockIsFound) {
  dtrain::testing::ScratchDir dir;
  const std::string path = dir.file("ub.h5");
  PropList fcpl(H5Pcreate(H5P_FILE_CREATE));
  H5Pset_userblock(fcpl.get(), 512);
  File f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT));
  ASSERT_TRUE(f.close());
  EXPECT_TRUE(has_hdf5_signature(path));
  QuietErrors quiet;
  EXPECT_TRUE(open_file_read(path, naming(path)));
}

TEST(Hdf5Files, TruncatedFileIsDamagedInTheCallersWords) {
  dtrain::testing::ScratchDir dir;
  const std::string path = dir.file("cut.h5");
  write_small_file(path);
  fs::resize_file(path, fs::file_size(path) / 2);
  QuietErrors quiet;
  const auto msg = failure_of([&] { open_file_read(path, naming(path)); });
  EXPECT_TRUE(msg.starts_with(path + ": cannot open HDF5 file (")) << msg;
  EXPECT_GT(msg.size(), (path + ": cannot open HDF5 file ()").size()) << "HDF5's message is included";
  const Errors errors(&throw_as<test::TestError>, "", {" (HDF5: ", ")", "no detail"});
  const auto worded =
      failure_of([&] { open_file_read(path, errors, {.damaged = "truncated or corrupt HDF5 file"}); });
  EXPECT_TRUE(worded.starts_with("truncated or corrupt HDF5 file (HDF5: ")) << worded;
}

}  // namespace
}  // namespace dtrain::hdf5
