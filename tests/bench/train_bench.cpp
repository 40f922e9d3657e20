// Training throughput of a whole model through the dtrain library: the C++ side of
// jobs/bench/compare.sh (jobs/bench/torch_bench.py is the PyTorch side).
//
//   build/tests/bench/train_bench --model mlp --threads 2 --steps 300
//   mpiexec -n 2 build/tests/bench/train_bench --model mlp --threads 1 --batch 256
//   build/tests/bench/train_bench --model cnn --threads 2 --epochs 2    # + test accuracy
//
// Fashion-MNIST is read once from data/fashion-mnist.h5 (data::ShardReader, one
// batch holding the whole split) and kept in memory as stored (uint8 and a scale,
// converted per batch, like torch_bench.py); every rank takes its part of
// each global batch (ArrayBatchSource), gradients are all-reduced, Adam 1e-3.
// `--warmup` steps run first, then `--steps` steps are timed (Model::fit on a
// source that ends the epoch after that many steps). The last line is
//   RESULT system=dtrain case=mlp ranks=2 threads=1 batch=128 samples_per_s=... ...
// printed by rank 0, with the per-phase split of the timed steps, peak resident
// memory of this process (the maximum over ranks) and, with --launch-ns (the launch
// time from `date +%s%N`), the seconds from launch to the end of the first step.
#include "dtrain/core/error.hpp"
#include "dtrain/data/shard_reader.hpp"
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/layers/conv.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <sstream>
#include <string>

namespace {

using namespace dtrain;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string model = "mlp";  // mlp | cnn
  std::string data = "data/fashion-mnist.h5";
  std::int64_t batch = 128;   // global
  std::int64_t steps = 200;   // timed
  std::int64_t warmup = 20;
  int threads = 1;
  std::int64_t epochs = 0;    // > 0: also train this many full epochs, then test accuracy
  bool synthetic = false;     // random data of Fashion-MNIST's shape instead of the file
  long long launch_ns = 0;    // wall-clock launch time (ns since the epoch), for start-up
  long long mpi_ready_ns = 0; // when the Communicator was up
  std::uint64_t seed = 42;
  double bucket_mib = 0;      // > 0: gradient bucket size (default: the library's)
  std::string transport = "auto";  // gradient transport: auto, mpi or shm
};

constexpr const char* kUsage =
    "usage: train_bench [--model mlp|cnn] [--data FILE.h5] [--batch B] [--steps N] [--warmup W]\n"
    "                   [--threads T] [--epochs E] [--synthetic] [--launch-ns NS] [--seed S]\n"
    "                   [--bucket-mib M] [--transport auto|mpi|shm]\n";

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "train_bench: " << problem << "\n"
            << kUsage;
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(k + " needs a value");
      return argv[++i];
    };
    if (k == "--help" || k == "-h") {
      std::cout << "train_bench: times training steps of the Fashion-MNIST MLP or CNN (one RESULT line)\n" << kUsage;
      std::exit(0);
    }
    if (k == "--model") a.model = value();
    else if (k == "--data") a.data = value();
    else if (k == "--batch") a.batch = std::stoll(value());
    else if (k == "--steps") a.steps = std::stoll(value());
    else if (k == "--warmup") a.warmup = std::stoll(value());
    else if (k == "--threads") a.threads = std::stoi(value());
    else if (k == "--epochs") a.epochs = std::stoll(value());
    else if (k == "--synthetic") a.synthetic = true;
    else if (k == "--launch-ns") a.launch_ns = std::stoll(value());
    else if (k == "--seed") a.seed = std::stoull(value());
    else if (k == "--bucket-mib") a.bucket_mib = std::stod(value());
    else if (k == "--transport") a.transport = value();
    else usage("unknown argument '" + k + "'");
  }
  if (a.model != "mlp" && a.model != "cnn") usage("--model must be mlp or cnn, got '" + a.model + "'");
  if (a.batch <= 0 || a.steps <= 0 || a.warmup < 0 || a.threads <= 0) usage("batch, steps, threads must be > 0");
  return a;
}

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double since_launch(long long launch_ns) { return static_cast<double>(now_ns() - launch_ns) * 1e-9; }

// Images as stored (uint8, value = stored * scale), as torch_bench.py holds them
// too: a quarter of the memory of float32, converted per batch.
struct Split {
  BasicTensor<std::uint8_t> x;
  float scale = 1.0f;
  Tensor y;
};

// x's shape for the model: [N, 784] for the MLP (PyTorch's x.view(-1, 784)).
Shape model_x_shape(const std::string& model, std::int64_t rows, const Shape& sample) {
  if (model == "mlp") return {rows, sample.numel()};
  Shape s{rows};
  for (int i = 0; i < sample.rank(); ++i) s.push_back(sample[i]);
  return s;
}

// The whole split in memory, read in file order by data::ShardReader in pieces of
// 4096 rows (so the peak memory is the arrays plus one piece). The reader gives
// float(stored) * scale; stored comes back exactly as round(value / scale).
Split read_split(const std::string& path, const std::string& split, const std::string& model) {
  const auto info = data::read_dataset_info(path);
  const auto& si = info.split(split);
  if (si.x_type != data::StorageType::kUint8) throw Error("train_bench: " + path + " /" + split + "/x must be uint8");
  constexpr std::int64_t kPiece = 4096;
  data::ShardReader reader({.path = path, .split = split, .global_batch = kPiece, .shuffle = false,
                            .prefetch = false, .check_stripe = false});
  Split s{BasicTensor<std::uint8_t>(model_x_shape(model, si.rows, si.sample_shape)), si.scale, Tensor(Shape{si.rows})};
  reader.start_epoch(0);
  std::int64_t at = 0;
  while (const data::Batch* b = reader.next()) {
    if (b->y.size() != b->size) throw Error("train_bench: " + path + " /" + split + " y must hold class ids");
    std::uint8_t* dst = s.x.data() + at * si.features();
    const float inverse = 1.0f / si.scale;
    bool exact = true;
    const std::int64_t n = b->x.size();
    for (std::int64_t i = 0; i < n; ++i) {
      dst[i] = static_cast<std::uint8_t>(b->x.data[i] * inverse + 0.5f);
      exact &= static_cast<float>(dst[i]) * si.scale == b->x.data[i];
    }
    if (!exact) throw Error("train_bench: " + path + " /" + split + ": uint8 values do not round-trip");
    std::memcpy(s.y.data() + at, b->y.data, static_cast<std::size_t>(b->size) * sizeof(float));
    at += b->size;
  }
  if (at != si.rows) throw Error("train_bench: read " + std::to_string(at) + " of " + std::to_string(si.rows) + " rows of " + path);
  return s;
}

Split synthetic_split(std::int64_t rows, std::uint64_t seed, const std::string& model) {
  Split s{BasicTensor<std::uint8_t>(model_x_shape(model, rows, {28, 28, 1})), 1.0f / 255.0f, Tensor({rows})};
  std::mt19937_64 rng(seed);
  for (std::int64_t i = 0; i < s.x.size(); ++i) s.x[i] = static_cast<std::uint8_t>(rng() & 0xff);
  for (std::int64_t i = 0; i < rows; ++i) s.y[i] = static_cast<float>(rng() % 10);
  return s;
}

Model make_model(const std::string& kind, std::uint64_t seed) {
  if (kind == "mlp") {
    // Input [784]: the data is reshaped to [N, 784] (PyTorch's x.view(-1, 784)).
    return Sequential({784}, {layers::Dense({.units = 512, .activation = "relu"}),
                              layers::Dense({.units = 256, .activation = "relu"}), layers::Dense({.units = 10})},
                      "mlp", seed);
  }
  return Sequential({28, 28, 1},
                    {layers::Conv2D({.filters = 32, .kernel_size = {3, 3}, .activation = "relu"}),
                     layers::MaxPooling2D({.pool_size = {2, 2}}),
                     layers::Conv2D({.filters = 64, .kernel_size = {3, 3}, .activation = "relu"}),
                     layers::MaxPooling2D({.pool_size = {2, 2}}), layers::Flatten(),
                     layers::Dense({.units = 128, .activation = "relu"}), layers::Dense({.units = 10})},
                    "cnn", seed);
}

// Ends each epoch of `inner` after `steps` steps (warm-up and timed runs).
class FirstSteps final : public BatchSource {
 public:
  FirstSteps(BatchSource& inner, std::int64_t steps) : inner_(inner), steps_(std::min(steps, inner.steps_per_epoch())) {}
  std::int64_t steps_per_epoch() const override { return steps_; }
  std::int64_t batch_size() const override { return inner_.batch_size(); }
  std::int64_t max_local_batch() const override { return inner_.max_local_batch(); }
  std::int64_t rows() const override { return steps_ * inner_.batch_size(); }
  Shape x_sample_shape() const override { return inner_.x_sample_shape(); }
  Shape y_sample_shape() const override { return inner_.y_sample_shape(); }
  void start_epoch(std::int64_t epoch, std::int64_t first_step) override { inner_.start_epoch(epoch, first_step); }
  const Batch& next() override { return inner_.next(); }

 private:
  BatchSource& inner_;
  std::int64_t steps_;
};

// Notes the seconds from launch to the end of the first training step.
class FirstStepClock final : public Callback {
 public:
  explicit FirstStepClock(long long launch_ns) : launch_ns_(launch_ns) {}
  void on_train_batch_end(std::int64_t, const Logs&) override {
    if (seconds_ < 0) seconds_ = since_launch(launch_ns_);
  }
  std::string name() const override { return "FirstStepClock"; }
  double seconds() const { return seconds_; }

 private:
  long long launch_ns_;
  double seconds_ = -1;
};

// CPU seconds of this process (all threads): a figure that a busy machine inflates
// less than wall time.
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

int run(const Args& a, distributed::Communicator& comm) {
  const bool root = comm.rank() == 0;
  Split train = a.synthetic ? synthetic_split(55000, a.seed, a.model) : read_split(a.data, "train", a.model);
  const double data_ready_s = since_launch(a.launch_ns);

  Model model = make_model(a.model, a.seed);
  auto loss = losses::parse_loss("sparse_categorical_crossentropy");
  loss.from_logits = true;
  model.compile({.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 1e-3}, {"epsilon", 1e-7}}),
                 .loss = loss,
                 .metrics = {}});
  model.set_threads(a.threads);
  if (comm.size() > 1) model.set_communicator(&comm);
  if (a.bucket_mib > 0) model.set_bucket_bytes(static_cast<std::size_t>(a.bucket_mib * (1 << 20)));
  if (a.transport != "auto") {
    model.set_reduce_transport(a.transport == "mpi" ? distributed::ReduceTransport::mpi : distributed::ReduceTransport::shared_memory);
  }

  ArrayBatchSource source(train.x, train.scale, train.y,
                          {.batch_size = a.batch, .shuffle = true, .seed = a.seed, .rank = comm.rank(),
                           .world_size = comm.size()});
  auto clock = std::make_shared<FirstStepClock>(a.launch_ns);
  if (a.warmup > 0) {
    FirstSteps warm(source, a.warmup);
    FitOptions fo;
    fo.epochs = 1;
    fo.verbose = 0;
    fo.callbacks = {clock};
    model.fit(warm, fo);
  }
  FirstSteps timed(source, a.steps);
  FitOptions fo;
  fo.initial_epoch = 1;
  fo.epochs = 2;
  fo.verbose = 0;
  if (a.warmup == 0) fo.callbacks = {clock};
  comm.barrier("start of the timed steps");
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds();
  model.fit(timed, fo);
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const auto p = model.last_epoch_profile();
  const double first_step_s = a.launch_ns > 0 ? clock->seconds() : -1;
  const double samples = static_cast<double>(p.samples);
  const double rate = samples / wall;

  double accuracy = -1;
  if (a.epochs > 0) {
    // A fresh model trained a whole number of epochs (same seed), then the test split.
    Model fresh = make_model(a.model, a.seed);
    fresh.compile({.optimizer = optimizers::make_optimizer<float>("adam", {{"learning_rate", 1e-3}, {"epsilon", 1e-7}}),
                   .loss = loss,
                   .metrics = {"accuracy"}});
    fresh.set_threads(a.threads);
    if (comm.size() > 1) fresh.set_communicator(&comm);
    FitOptions all;
    all.epochs = a.epochs;
    all.verbose = 0;
    fresh.fit(source, all);
    Split test = a.synthetic ? synthetic_split(10000, a.seed + 1, a.model) : read_split(a.data, "test", a.model);
    ArrayBatchSource test_source(test.x, test.scale, test.y,
                                 {.batch_size = 1000, .shuffle = false, .seed = 0, .rank = comm.rank(),
                                  .world_size = comm.size()});
    accuracy = fresh.evaluate(test_source).get("accuracy");
  }

  const auto rss_kib = static_cast<std::uint64_t>(peak_rss_mib() * 1024.0);
  const double peak_mib = static_cast<double>(comm.allreduce_max(rss_kib, "peak RSS")) / 1024.0;
  if (root) {
    // 2·B·(784·512 + 512·256 + 256·10) per product; forward, dW and dX for each
    // layer, minus dX of the first layer (the input needs no gradient).
    const double mlp_flops = 2.0 * static_cast<double>(a.batch) *
                             (3.0 * (784 * 512 + 512 * 256 + 256 * 10) - 784.0 * 512.0);
    const double steps = static_cast<double>(p.steps);
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(1);
    out << "RESULT system=dtrain case=" << a.model << " ranks=" << comm.size() << " threads=" << a.threads
        << " batch=" << a.batch << " steps=" << p.steps << " samples_per_s=" << rate;
    out.precision(4);
    out << " step_ms=" << 1e3 * wall / steps << " cpu_ms_per_step=" << 1e3 * cpu / steps;
    if (a.model == "mlp") {
      out.precision(1);
      out << " gflops=" << mlp_flops * steps / wall / 1e9;
    }
    out.precision(1);
    auto pct = [&](double x) { return 100.0 * x / wall; };
    out << " pct_data=" << pct(p.data) << " pct_forward=" << pct(p.forward) << " pct_backward=" << pct(p.backward)
        << " pct_allreduce_wait=" << pct(p.allreduce_wait) << " pct_optimizer=" << pct(p.optimizer)
        << " pct_other=" << pct(wall - p.data - p.forward - p.backward - p.allreduce_wait - p.optimizer);
    out << " peak_rss_mib=" << peak_mib;
    out.precision(3);
    if (first_step_s >= 0) {
      out << " first_step_s=" << first_step_s << " mpi_ready_s=" << static_cast<double>(a.mpi_ready_ns - a.launch_ns) * 1e-9
          << " data_ready_s=" << data_ready_s;
    }
    if (accuracy >= 0) {
      out.precision(4);
      out << " epochs=" << a.epochs << " test_accuracy=" << accuracy;
    }
    out << " data=" << (a.synthetic ? "synthetic" : "fashion-mnist");
    std::cout << out.str() << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dtrain::distributed::Communicator comm(argc, argv);
  Args args = parse(argc, argv);
  args.mpi_ready_ns = now_ns();
  try {
    return run(args, comm);
  } catch (const std::exception& e) {
    comm.abort(std::string("train_bench: ") + e.what(), 1);
  }
}
