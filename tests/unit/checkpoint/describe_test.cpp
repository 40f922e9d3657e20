// describe_checkpoint (what `dtrain inspect CKPT.h5` prints) and dataset_fingerprint.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <regex>

#include "dtrain/checkpoint.hpp"
#include "test_util.hpp"

namespace dtrain::checkpoint {
namespace {

using ckpt_test::ScratchDir;

TEST(DescribeCheckpoint, SummarisesEveryPart) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt-000120.h5");
  save_checkpoint(path, ckpt_test::full_state());
  const std::string text = describe_checkpoint(path);
  // Parameters: 12 + 3 + 6 + 2 + 1 = 24, trainable without dense_2/bias: 22.
  // Slot values: 2 * 22 = 44 (m and v of each trainable weight).
  for (const char* line :
       {"dtrain checkpoint ",
        "  format: dtrain-checkpoint v1, written by dtrain 0.1.0 at 2024-05-01T12:00:00Z; checksums ok\n",
        "  progress: global step 120, epoch 2, step 20 within the epoch, seed 42\n",
        "  rng: dropout_seed=-7 shuffle_stream=3\n", "  saved by: 4 ranks, 2 threads per rank\n",
        "  dataset: data/fashion-mnist.h5, xxh64:0123456789abcdef size:1000\n", "  monitor: val_loss = 0.5\n",
        "  history: 2 rows; last: epoch=1 loss=0.55 accuracy=0.79 val_loss=0.5\n",
        "  metric states of the interrupted epoch: accuracy[37, 50] loss[12.5, 50] val/auc[]\n",
        "  callbacks: EarlyStopping, ReduceLROnPlateau\n",
        "  model: mlp, seed 18369548392226230836, 5 weights, 24 parameters (22 trainable)\n",
        "    dense_1/kernel  [4, 3]\n", "    dense_2/bias    [2]  non-trainable\n",
        "    scale           []\n", "  optimizer: nadam, iterations 120, learning rate 0.002\n",
        "    slots: 8 (m, v per variable), 44 values\n", "    global nadam/u_product [] = 0.8\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing: " << line << "\nin:\n" << text;
  }
}

TEST(DescribeCheckpoint, ADamagedFileIsAnError) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.h5");
  save_checkpoint(path, ckpt_test::full_state());
  std::filesystem::resize_file(path, 1000);
  EXPECT_THROW(describe_checkpoint(path), CheckpointError);
}

// A dataset file like the data concern writes: /train/x float32 [rows, 3], /train/y int64 [rows].
void write_dataset(const std::string& path, int rows, float last_x, float middle_x = 0.0f) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t g = H5Gcreate2(f, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  std::vector<float> x(static_cast<std::size_t>(rows) * 3, 1.0f);
  x[static_cast<std::size_t>(rows / 2) * 3] = middle_x;
  x.back() = last_x;
  std::vector<std::int64_t> y(static_cast<std::size_t>(rows), 7);
  const hsize_t xdims[2] = {static_cast<hsize_t>(rows), 3};
  const hsize_t ydims[1] = {static_cast<hsize_t>(rows)};
  const hid_t xs = H5Screate_simple(2, xdims, nullptr);
  const hid_t ys = H5Screate_simple(1, ydims, nullptr);
  const hid_t xd = H5Dcreate2(g, "x", H5T_IEEE_F32LE, xs, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t yd = H5Dcreate2(g, "y", H5T_STD_I64LE, ys, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(xd, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x.data());
  H5Dwrite(yd, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y.data());
  H5Dclose(xd), H5Dclose(yd), H5Sclose(xs), H5Sclose(ys), H5Gclose(g), H5Fclose(f);
}

TEST(DatasetFingerprint, DependsOnContentNotOnThePath) {
  ScratchDir dir;
  const std::string a = dir.file("a.h5"), copy = dir.file("copy/a.h5"), last = dir.file("last.h5"),
                    middle = dir.file("middle.h5"), longer = dir.file("longer.h5");
  write_dataset(a, 10, 5.0f);
  std::filesystem::create_directory(dir.file("copy"));
  std::filesystem::copy_file(a, copy);
  write_dataset(last, 10, 6.0f);          // the last row differs
  write_dataset(middle, 10, 5.0f, 9.0f);  // only row 5 differs: not looked at (cheap by design)
  write_dataset(longer, 11, 5.0f);        // one more row
  const std::string fa = dataset_fingerprint(a);
  EXPECT_TRUE(std::regex_match(fa, std::regex("xxh64:[0-9a-f]{16} size:[0-9]+"))) << fa;
  EXPECT_EQ(fa, dataset_fingerprint(a));
  EXPECT_EQ(fa, dataset_fingerprint(copy));
  EXPECT_EQ(fa, dataset_fingerprint(middle));
  EXPECT_NE(fa, dataset_fingerprint(last));
  EXPECT_NE(fa, dataset_fingerprint(longer));
  EXPECT_THROW(dataset_fingerprint(dir.file("missing.h5")), CheckpointError);
}

}  // namespace
}  // namespace dtrain::checkpoint
