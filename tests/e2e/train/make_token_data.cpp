// Writes a tiny token dataset for the e2e tests (no h5py here): /train and /val,
// x int32 token ids [N, time], y int64 next-token labels [N, time] (the id that
// follows, the last one wraps to the row's first), root attribute num_classes =
// vocab.
//
//   make_token_data OUT.h5 ROWS TIME VOCAB [BAD_ROW BAD_ID]
//
// With BAD_ROW and BAD_ID, x[BAD_ROW, 1] of /train is BAD_ID (e.g. >= vocab).
#include <hdf5.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void write(hid_t file, const std::string& name, hid_t ftype, hid_t mtype, std::int64_t rows,
           std::int64_t time, const void* data) {
  const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(time)};
  const hid_t space = H5Screate_simple(2, dims, nullptr);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t d = H5Dcreate2(file, name.c_str(), ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  if (d < 0 || H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    std::fprintf(stderr, "make_token_data: cannot write %s\n", name.c_str());
    std::exit(1);
  }
  H5Dclose(d);
  H5Pclose(lcpl);
  H5Sclose(space);
}

void split(hid_t file, const std::string& group, std::int64_t rows, std::int64_t time, std::int64_t vocab,
           std::uint64_t seed, std::int64_t bad_row, std::int32_t bad_id) {
  std::vector<std::int32_t> x(static_cast<std::size_t>(rows * time));
  std::vector<std::int64_t> y(x.size());
  std::uint64_t s = seed;
  for (std::int64_t i = 0; i < rows; ++i) {
    // A learnable pattern: each row counts up by a row-dependent stride.
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto start = static_cast<std::int64_t>((s >> 33) % static_cast<std::uint64_t>(vocab));
    const std::int64_t stride = 1 + i % 3;
    for (std::int64_t t = 0; t < time; ++t)
      x[static_cast<std::size_t>(i * time + t)] = static_cast<std::int32_t>((start + stride * t) % vocab);
  }
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t t = 0; t < time; ++t)
      y[static_cast<std::size_t>(i * time + t)] = x[static_cast<std::size_t>(i * time + (t + 1) % time)];
  }
  if (bad_row >= 0) x[static_cast<std::size_t>(bad_row * time + 1)] = bad_id;
  write(file, group + "/x", H5T_STD_I32LE, H5T_NATIVE_INT32, rows, time, x.data());
  write(file, group + "/y", H5T_STD_I64LE, H5T_NATIVE_INT64, rows, time, y.data());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 7) {
    std::fprintf(stderr, "usage: make_token_data OUT.h5 ROWS TIME VOCAB [BAD_ROW BAD_ID]\n");
    return 2;
  }
  const std::int64_t rows = std::atoll(argv[2]), time = std::atoll(argv[3]), vocab = std::atoll(argv[4]);
  const std::int64_t bad_row = argc == 7 ? std::atoll(argv[5]) : -1;
  const auto bad_id = static_cast<std::int32_t>(argc == 7 ? std::atoll(argv[6]) : 0);
  const hid_t file = H5Fcreate(argv[1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) return 1;
  split(file, "/train", rows, time, vocab, 1, bad_row, bad_id);
  split(file, "/val", rows / 4 + 1, time, vocab, 2, -1, 0);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(file, "num_classes", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT64, &vocab);
  H5Aclose(a);
  H5Sclose(space);
  H5Fclose(file);
  return 0;
}
