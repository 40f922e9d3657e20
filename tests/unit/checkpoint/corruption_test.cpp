// Damaged and foreign files: every case is a CheckpointError naming the file and
// the problem, and find_resume_checkpoint falls back to the previous valid one.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>

#include "dtrain/checkpoint.hpp"
#include "test_util.hpp"

namespace dtrain::checkpoint {
namespace {

namespace fs = std::filesystem;
using ckpt_test::checkpoint_error_of;
using ckpt_test::ScratchDir;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void truncate_to_half(const std::string& path) { fs::resize_file(path, fs::file_size(path) / 2); }

// The file offset of a contiguous dataset's raw data.
haddr_t data_offset(const std::string& path, const std::string& dataset) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, dataset.c_str(), H5P_DEFAULT);
  const haddr_t at = H5Dget_offset(d);
  H5Dclose(d);
  H5Fclose(f);
  return at;
}

void flip_byte(const std::string& path, std::uint64_t at) {
  std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  io.read(&c, 1);
  c = static_cast<char>(c ^ 0x10);
  io.seekp(static_cast<std::streamoff>(at));
  io.write(&c, 1);
}

TEST(CheckpointCorruption, TruncatedFileIsAClearError) {
  ScratchDir dir;
  const std::string path = checkpoint_path(dir.path().string(), 200);
  save_checkpoint(path, ckpt_test::full_state(200));
  truncate_to_half(path);
  const auto msg = checkpoint_error_of([&] { load_checkpoint(path); });
  EXPECT_TRUE(msg.starts_with(path + ": ")) << msg;
  EXPECT_TRUE(contains(msg, "truncated")) << msg;
}

TEST(CheckpointCorruption, ResumeSkipsTheTruncatedNewestWithAWarning) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  save_checkpoint(checkpoint_path(d, 100), ckpt_test::full_state(100));
  save_checkpoint(checkpoint_path(d, 200), ckpt_test::full_state(200));
  truncate_to_half(checkpoint_path(d, 200));
  std::vector<std::string> warnings;
  const auto resume = find_resume_checkpoint(d, [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(resume.has_value());
  EXPECT_EQ(resume->path, checkpoint_path(d, 100));
  EXPECT_EQ(resume->state.progress.global_step, 100);
  ASSERT_EQ(warnings.size(), 1u);
  const auto& w = warnings[0];
  EXPECT_TRUE(w.starts_with("checkpoint " + checkpoint_path(d, 200) + " is unreadable (")) << w;
  EXPECT_TRUE(contains(w, "truncated")) << w;
  EXPECT_TRUE(w.ends_with("): skipped, resuming from ckpt-000100.h5")) << w;
}

TEST(CheckpointCorruption, NoValidCheckpointMeansAFreshStart) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  EXPECT_FALSE(find_resume_checkpoint(d).has_value());  // empty directory
  EXPECT_FALSE(find_resume_checkpoint(d + "/does-not-exist").has_value());
  save_checkpoint(checkpoint_path(d, 100), ckpt_test::full_state(100));
  truncate_to_half(checkpoint_path(d, 100));
  std::vector<std::string> warnings;
  EXPECT_FALSE(find_resume_checkpoint(d, [&](const std::string& w) { warnings.push_back(w); }));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(warnings[0].ends_with("skipped, no valid checkpoint left in " + d + ", starting fresh"))
      << warnings[0];
}

TEST(CheckpointCorruption, FlippedWeightByteIsCaughtByTheChecksum) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.h5");
  save_checkpoint(path, ckpt_test::full_state());
  // Byte 17 is inside element 4 of dense_1/kernel (an ordinary value, -0.5).
  flip_byte(path, data_offset(path, "/model/weights/dense_1/kernel") + 17);
  const auto msg = checkpoint_error_of([&] { load_checkpoint(path); });
  EXPECT_TRUE(msg.starts_with(path + ": checksum mismatch in /model/weights/dense_1/kernel (stored 0x"))
      << msg;
}

// Issue 20 item 3: a checkpoint whose header reads but whose checksum fails was
// counted as a slot and deleted by retention; now it is moved to corrupt/.
TEST(CheckpointCorruption, RetentionMovesAChecksumFailureToCorruptInsteadOfDeletingIt) {
  ScratchDir dir;
  const std::string d = dir.path().string();
  const std::string p100 = checkpoint_path(d, 100);
  save_checkpoint(p100, ckpt_test::full_state(100));
  flip_byte(p100, data_offset(p100, "/model/weights/dense_1/kernel") + 17);
  std::vector<std::string> warnings;
  CheckpointManager runs({.dir = d, .keep_last = 1, .warn = [&](const std::string& w) { warnings.push_back(w); }});
  runs.save(ckpt_test::full_state(200));
  runs.save(ckpt_test::full_state(300));
  const auto listed = list_checkpoints(d);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].step, 300);
  EXPECT_TRUE(fs::exists(d + "/corrupt/ckpt-000100.h5"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], "checksum mismatch")) << warnings[0];
}

TEST(CheckpointCorruption, ChangedMetadataIsCaughtByTheStateChecksum) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.h5");
  save_checkpoint(path, ckpt_test::full_state());
  {  // Rewrite /optimizer's `iterations` attribute: 120 -> 121.
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t g = H5Gopen2(f, "/optimizer", H5P_DEFAULT);
    const hid_t a = H5Aopen(g, "iterations", H5P_DEFAULT);
    const std::int64_t v = 121;
    ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT64, &v), 0);
    H5Aclose(a);
    H5Gclose(g);
    H5Fclose(f);
  }
  const auto msg = checkpoint_error_of([&] { load_checkpoint(path); });
  EXPECT_TRUE(contains(msg, "checksum mismatch of the checkpoint state")) << msg;
}

TEST(CheckpointCorruption, ARemovedRunConfigIsCaughtByTheStateChecksum) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.h5");
  save_checkpoint(path, ckpt_test::full_state());  // with a run config
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(H5Ldelete(f, "/run_config", H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  const auto msg = checkpoint_error_of([&] { load_checkpoint(path); });
  EXPECT_TRUE(contains(msg, "checksum mismatch of the checkpoint state")) << msg;
}

TEST(CheckpointCorruption, ForeignFilesAreNamed) {
  ScratchDir dir;
  const std::string text = dir.file("notes.h5");
  std::ofstream(text) << "this is not HDF5\n";
  EXPECT_EQ(checkpoint_error_of([&] { load_checkpoint(text); }), text + ": not an HDF5 file");

  const std::string missing = dir.file("missing.h5");
  EXPECT_EQ(checkpoint_error_of([&] { load_checkpoint(missing); }), missing + ": no such file");

  // A valid HDF5 file without the format attribute, and one of another format.
  const std::string plain = dir.file("plain.h5");
  const std::string dataset = dir.file("dataset.h5");
  for (const auto& p : {plain, dataset}) {
    const hid_t f = H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (p == dataset) {
      const hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, 14);
      const hid_t s = H5Screate(H5S_SCALAR);
      const hid_t a = H5Acreate2(f, "format", t, s, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(a, t, "dtrain-dataset");
      H5Aclose(a);
      H5Sclose(s);
      H5Tclose(t);
    }
    H5Fclose(f);
  }
  EXPECT_EQ(checkpoint_error_of([&] { load_checkpoint(plain); }),
            plain + ": not a dtrain checkpoint (no root attribute 'format')");
  EXPECT_EQ(checkpoint_error_of([&] { load_checkpoint(dataset); }),
            dataset +
                ": not a dtrain checkpoint (root attribute format = 'dtrain-dataset', expected "
                "'dtrain-checkpoint')");
}

TEST(CheckpointCorruption, NewerFormatVersionIsRefused) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.h5");
  save_checkpoint(path, ckpt_test::full_state());
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    const std::int64_t v = 99;
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    H5Fclose(f);
  }
  EXPECT_EQ(checkpoint_error_of([&] { load_checkpoint(path); }),
            path + ": format_version 99 is not supported (this dtrain reads 1..1)");
}

TEST(CheckpointCorruption, MissingDatasetIsNamed) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.h5");
  save_checkpoint(path, ckpt_test::full_state());
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "/optimizer/slots/dense_2/kernel/v", H5P_DEFAULT);
    H5Fclose(f);
  }
  const auto msg = checkpoint_error_of([&] { load_checkpoint(path); });
  EXPECT_TRUE(contains(msg, "dataset /optimizer/slots/dense_2/kernel/v is missing")) << msg;
}

}  // namespace
}  // namespace dtrain::checkpoint
