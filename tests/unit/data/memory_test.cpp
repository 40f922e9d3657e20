// Peak resident memory of one rank reading a 1 GiB dataset file with P = 4.
//
// Writes x float32 [262144, 1024] (exactly 1 GiB, chunked like the importers: 128
// rows = 512 KiB a chunk) and y int64, then reads one epoch as rank 0 of 4 with a
// global batch of 256, including the stripe check at open. Passes when the peak
// resident set (VmHWM of /proc/self/status) stays below 0.5 GiB; prints the figures.
// The peak is reset (/proc/self/clear_refs) after writing, so it measures the reader.
#include "dtrain/data/shard_reader.hpp"

#include <hdf5.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr hsize_t kRows = 262144;
constexpr hsize_t kFeatures = 1024;  // 262144 * 1024 * 4 bytes = 1 GiB
constexpr hsize_t kChunkRows = 128;
constexpr hsize_t kBlockRows = 1024;

long status_kib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  }
  return -1;
}

void write_file(const std::string& path) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  const hsize_t xdims[2] = {kRows, kFeatures}, chunk[2] = {kChunkRows, kFeatures};
  H5Pset_chunk(dcpl, 2, chunk);
  hid_t xspace = H5Screate_simple(2, xdims, nullptr);
  hid_t g = H5Gcreate2(file, "/train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t x = H5Dcreate2(g, "x", H5T_IEEE_F32LE, xspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  std::vector<float> block(kBlockRows * kFeatures);
  for (hsize_t at = 0; at < kRows; at += kBlockRows) {
    for (hsize_t i = 0; i < kBlockRows; ++i) {
      for (hsize_t f = 0; f < kFeatures; ++f) {
        block[i * kFeatures + f] = static_cast<float>((at + i) % 1000) + static_cast<float>(f) * 0.001f;
      }
    }
    const hsize_t start[2] = {at, 0}, count[2] = {kBlockRows, kFeatures};
    hid_t fs = H5Dget_space(x);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, nullptr, count, nullptr);
    hid_t ms = H5Screate_simple(2, count, nullptr);
    H5Dwrite(x, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, block.data());
    H5Sclose(ms);
    H5Sclose(fs);
  }
  std::vector<std::int64_t> y(kRows);
  for (hsize_t i = 0; i < kRows; ++i) y[i] = static_cast<std::int64_t>(i % 10);
  const hsize_t ydims[1] = {kRows};
  hid_t yspace = H5Screate_simple(1, ydims, nullptr);
  hid_t yd = H5Dcreate2(g, "y", H5T_STD_I64LE, yspace, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(yd, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, y.data());
  hid_t aspace = H5Screate(H5S_SCALAR);
  const std::int64_t classes = 10;
  hid_t a = H5Acreate2(file, "num_classes", H5T_STD_I64LE, aspace, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT64, &classes);
  H5Aclose(a);
  H5Sclose(aspace);
  H5Dclose(yd);
  H5Sclose(yspace);
  H5Dclose(x);
  H5Gclose(g);
  H5Sclose(xspace);
  H5Pclose(dcpl);
  H5Fclose(file);
}

}  // namespace

int main() {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string path = (dir / ("dtrain-memory-" + std::to_string(::getpid()) + ".h5")).string();
  int rc = 0;
  try {
    write_file(path);
    std::printf("wrote %s: %.3f GiB\n", path.c_str(),
                static_cast<double>(std::filesystem::file_size(path)) / (1 << 30));
    const long after_write = status_kib("VmHWM:");
    const bool reset = static_cast<bool>(std::ofstream("/proc/self/clear_refs") << "5");
    const long baseline = status_kib("VmRSS:");

    dtrain::data::ShardReaderOptions o;
    o.path = path;
    o.global_batch = 256;
    o.rank = 0;
    o.world_size = 4;
    o.seed = 5;
    const auto t0 = std::chrono::steady_clock::now();
    dtrain::data::ShardReader reader(o);
    reader.start_epoch(0);
    std::int64_t samples = 0;
    bool values_ok = true;
    while (const auto* b = reader.next()) {
      samples += b->size;
      for (std::int64_t i = 0; i < b->size; ++i) {
        const auto row = b->rows[static_cast<std::size_t>(i)];
        values_ok &= b->x.data[i * static_cast<std::int64_t>(kFeatures)] == static_cast<float>(row % 1000);
        values_ok &= b->y.data[i] == static_cast<float>(row % 10);
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const long peak = status_kib("VmHWM:");
    std::printf("rank 0 of 4 read %lld rows (%.0f MiB of x) in %.2f s (open + stripe check of 256 MiB + epoch)\n",
                static_cast<long long>(samples), static_cast<double>(samples) * kFeatures * 4 / (1 << 20), secs);
    std::printf("VmHWM after writing the file: %.1f MiB; RSS before reading: %.1f MiB\n", after_write / 1024.0,
                baseline / 1024.0);
    std::printf("peak resident memory while reading (VmHWM%s): %.1f MiB (limit 512 MiB)\n",
                reset ? ", reset after writing" : ", since process start", peak / 1024.0);
    if (samples != static_cast<std::int64_t>(kRows / 4)) {
      std::printf("FAIL: expected %llu rows\n", static_cast<unsigned long long>(kRows / 4));
      rc = 1;
    }
    if (!values_ok) {
      std::printf("FAIL: rows read with wrong values\n");
      rc = 1;
    }
    if (peak <= 0 || peak >= 512 * 1024) {
      std::printf("FAIL: peak resident memory %ld KiB >= 0.5 GiB\n", peak);
      rc = 1;
    }
  } catch (const std::exception& e) {
    std::printf("FAIL: %s\n", e.what());
    rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return rc;
}
