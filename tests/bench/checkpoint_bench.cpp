// Write and read time of a checkpoint of a 10M-parameter model with Adam slots
// (m and v: 30M floats, 120 MB in all), median of 3. The write includes the fsync
// of the file and of the directory; the read includes every checksum check.
//
//   checkpoint_bench [dir]      (default: $TMPDIR)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "dtrain/checkpoint.hpp"

using namespace dtrain::checkpoint;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Four kernels of 10,000,000 weights in all, each with Adam's m and v.
CheckpointState big_state() {
  CheckpointState s;
  s.model.name = "bench";
  const std::vector<std::pair<std::int64_t, std::int64_t>> layers = {
      {2000, 2000}, {2000, 2000}, {1500, 1000}, {500, 1000}};  // 4M + 4M + 1.5M + 0.5M = 10M
  std::size_t i = 0;
  for (const auto& [in, out] : layers) {
    const std::string name = "dense_" + std::to_string(++i) + "/kernel";
    std::vector<float> w(static_cast<std::size_t>(in * out));
    for (std::size_t k = 0; k < w.size(); ++k) w[k] = static_cast<float>(k % 1000) * 1e-3f;
    s.model.weights.push_back({name, {in, out}, w, true});
    s.optimizer.slots.push_back({name + "/m", {in, out}, w});
    s.optimizer.slots.push_back({name + "/v", {in, out}, w});
  }
  s.optimizer.name = "adam";
  s.optimizer.iterations = 1000;
  s.progress.global_step = 1000;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir =
      argc > 1 ? argv[1] : std::filesystem::temp_directory_path() / "dtrain-ckpt-bench";
  std::filesystem::create_directories(dir);
  const auto state = big_state();
  std::size_t floats = 0;
  for (const auto& w : state.model.weights) floats += w.data.size();
  const std::size_t params = floats;
  for (const auto& s : state.optimizer.slots) floats += s.data.size();
  const std::string path = (dir / "ckpt-bench.h5").string();

  std::vector<double> writes, reads, data_written, fsynced;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    double last_dataset = 0, flushed = 0;
    SaveHooks hooks{[&](std::string_view stage) {
      if (stage.starts_with("dataset:")) last_dataset = seconds_since(t0);
      if (stage == "flushed") flushed = seconds_since(t0);
    }};
    save_checkpoint(path, state, hooks);
    writes.push_back(seconds_since(t0));
    data_written.push_back(last_dataset);
    fsynced.push_back(flushed);
    t0 = std::chrono::steady_clock::now();
    const auto loaded = load_checkpoint(path);
    reads.push_back(seconds_since(t0));
    if (loaded.model.weights.size() != state.model.weights.size()) return 1;
  }
  const double mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
  std::printf("parameters %zu, floats stored %zu, file %.1f MB\n", params, floats, mb);
  std::printf("write+fsync: median %.3f s (%.2f GB/s)  [%.3f %.3f %.3f]\n", median(writes),
              mb / 1e3 / median(writes), writes[0], writes[1], writes[2]);
  std::printf(
      "  of which: arrays hashed and handed to HDF5 %.3f s, + close and fsync of the file %.3f s,"
      " + rename and fsync of the directory %.3f s (medians)\n",
      median(data_written), median(fsynced) - median(data_written), median(writes) - median(fsynced));
  std::printf("read+verify: median %.3f s (%.2f GB/s)  [%.3f %.3f %.3f]\n", median(reads),
              mb / 1e3 / median(reads), reads[0], reads[1], reads[2]);
  std::filesystem::remove_all(dir);
  return 0;
}
