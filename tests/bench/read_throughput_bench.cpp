// Reading throughput of the ShardReader, in samples/s (no training: only reading).
//
//   data_read_throughput FILE.h5 [batch=128] [world_size=1] [epochs=3] [compute_us=0]
//
// Rank 0 of world_size reads `epochs` epochs of /train. Reported: the time to open
// (including the stripe check), then samples/s with the background prefetch and
// without it. compute_us > 0 spins that long per step (a stand-in for the training
// step) to show the prefetch hiding the reads.
#include "dtrain/data/shard_reader.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void spin(double us) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double, std::micro>(us);
  while (std::chrono::steady_clock::now() < until) {
  }
}

double run(const dtrain::data::ShardReaderOptions& o, int epochs, double compute_us, double* open_s) {
  const auto t0 = std::chrono::steady_clock::now();
  dtrain::data::ShardReader reader(o);
  *open_s = seconds_since(t0);
  std::int64_t samples = 0;
  double checksum = 0;
  const auto t1 = std::chrono::steady_clock::now();
  for (int e = 0; e < epochs; ++e) {
    reader.start_epoch(e);
    while (const auto* b = reader.next()) {
      samples += b->size;
      checksum += b->x.data[0] + b->y.data[0];
      if (compute_us > 0) spin(compute_us);
    }
  }
  const double s = seconds_since(t1);
  std::printf("  (checksum %g)\n", checksum);
  return static_cast<double>(samples) / s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.h5 [batch=128] [world_size=1] [epochs=3] [compute_us=0]\n", argv[0]);
    return 2;
  }
  dtrain::data::ShardReaderOptions o;
  o.path = argv[1];
  o.global_batch = argc > 2 ? std::atoll(argv[2]) : 128;
  o.world_size = argc > 3 ? std::atoi(argv[3]) : 1;
  const int epochs = argc > 4 ? std::atoi(argv[4]) : 3;
  const double compute_us = argc > 5 ? std::atof(argv[5]) : 0.0;
  o.seed = 1;
  try {
    for (bool prefetch : {true, false}) {
      o.prefetch = prefetch;
      double open_s = 0;
      const double rate = run(o, epochs, compute_us, &open_s);
      std::printf("%s: batch %lld, rank 0 of %d, compute %.0f us/step, prefetch %s: open %.3f s, %.0f samples/s\n",
                  o.path.c_str(), static_cast<long long>(o.global_batch), o.world_size, compute_us,
                  prefetch ? "on " : "off", open_s, rate);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
