// dist_allreduce_overlap_bench: how long the all-reduce of the MLP 784-512-256-10
// gradients (535,818 floats, 2.1 MB) takes, and how much of it the
// GradientReducer hides behind compute. Not a ctest; run by hand:
//
//   mpiexec -n 2 build/tests/bench/dist_allreduce_overlap_bench [iterations] [batch per rank] [binomial]
//
// "binomial" keeps Open MPI's default non-blocking algorithm (ring_allreduce off).
//
// Every figure is the slowest rank's min and median over the iterations, ranks
// aligned by a barrier before each; one TBB thread per rank. The variants of a
// group run interleaved (one iteration of each in turn), so on a shared machine
// they all see the same background load.
//   A. the all-reduce alone: MPI_Allreduce, MPI_Iallreduce + MPI_Wait, and
//      Communicator::allreduce_sum (Iallreduce + dtrain's poll loop).
//   B. synthetic overlap: 1.5 ms of compute in 15 chunks, after_op() between
//      chunks, all buckets started before the compute (the best case).
//   C. the real MLP step: forward + backward with the reducer as observer.
// hidden = (compute then all-reduce - overlapped) / (compute then all-reduce -
// compute): the share of the all-reduce that no longer adds to the step. "wait"
// is the reducer's own measure: the time blocked in finish(); "done before
// finish" is the share of bucket all-reduces that completed during compute.
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/graph/ops.hpp"
#include "dtrain/kernels/parallel.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace dtrain;
using Clock = std::chrono::steady_clock;

struct Mlp {
  graph::Graph<float> g;
  graph::NodeId x, y, loss;
  explicit Mlp(std::int64_t batch) {
    x = g.input("x", {graph::kBatch, 784});
    y = g.input("y", {graph::kBatch, 10});
    const int sizes[] = {784, 512, 256, 10};
    std::vector<graph::NodeId> w, b;
    for (int l = 0; l < 3; ++l) {
      const std::string name = l == 0 ? "dense" : "dense_" + std::to_string(l);
      w.push_back(g.parameter(name + "/kernel", {sizes[l], sizes[l + 1]}));
      b.push_back(g.parameter(name + "/bias", {sizes[l + 1]}));
    }
    auto h = x;
    for (std::size_t l = 0; l < 3; ++l) {
      h = graph::bias_add(g, graph::matmul(g, h, w[l]), b[l]);
      if (l < 2) h = graph::relu(g, h);
    }
    loss = graph::sum(g, graph::square(g, graph::sub(g, h, y)));
    g.plan(batch);
    auto p = g.parameter_values();
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = 0.01f * std::sin(static_cast<float>(i));
    auto xv = g.value(x);
    for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = std::cos(0.001f * static_cast<float>(i));
    auto yv = g.value(y);
    for (std::int64_t i = 0; i < yv.size(); ++i) yv.data[i] = static_cast<float>(i % 10 == 3);
  }
};

// Cache-resident FMA work, about `seconds` long. Calibrated on the fastest of
// 20 trials, so a busy machine does not shorten it.
class Spin {
 public:
  explicit Spin(double seconds) {
    constexpr std::int64_t kReps = 2000;
    double best = 1e9;
    for (int trial = 0; trial < 20; ++trial) {
      const auto t0 = Clock::now();
      run(kReps);
      best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    reps_ = std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(kReps) * seconds / best));
  }
  void operator()() { run(reps_); }
  float sink() const { return a_[0]; }

 private:
  void run(std::int64_t reps) {
    for (std::int64_t r = 0; r < reps; ++r) {
      for (std::size_t i = 0; i < a_.size(); ++i) a_[i] = a_[i] * 0.999f + 0.001f;
    }
  }
  std::vector<float> a_ = std::vector<float>(256, 1.0f);
  std::int64_t reps_ = 1;
};

struct Variant {
  std::string name;
  std::function<void()> run;
  distributed::GradientReducer* reducer = nullptr;  // to collect its wait time
  std::vector<double> times, waits;
  double min = 0, median = 0, wait = 0;      // slowest rank
  std::uint64_t buckets = 0, early = 0;      // buckets reduced / done before finish(), all ranks
};

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs the variants interleaved, `iters` rounds, every rank starting together.
void measure(distributed::Communicator& comm, int iters, std::vector<Variant>& vs) {
  for (int i = 0; i < 5; ++i) {
    for (auto& v : vs) v.run();  // warm-up
  }
  for (int i = 0; i < iters; ++i) {
    for (auto& v : vs) {
      comm.barrier();
      const auto t0 = Clock::now();
      v.run();
      v.times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      if (v.reducer) {
        const auto& st = v.reducer->stats();
        v.waits.push_back(st.wait_seconds);
        v.buckets += st.bucket_done_early.size();
        v.early += static_cast<std::uint64_t>(std::count(st.bucket_done_early.begin(), st.bucket_done_early.end(), 1));
      }
    }
  }
  for (auto& v : vs) {
    std::uint64_t ns[3] = {static_cast<std::uint64_t>(*std::min_element(v.times.begin(), v.times.end()) * 1e9),
                           static_cast<std::uint64_t>(median_of(v.times) * 1e9),
                           static_cast<std::uint64_t>(median_of(v.waits) * 1e9)};
    comm.allreduce_max(std::span<std::uint64_t>(ns, 3));
    v.min = static_cast<double>(ns[0]) * 1e-9;
    v.median = static_cast<double>(ns[1]) * 1e-9;
    v.wait = static_cast<double>(ns[2]) * 1e-9;
    std::int64_t counts[2] = {static_cast<std::int64_t>(v.buckets), static_cast<std::int64_t>(v.early)};
    comm.allreduce_sum(std::span<std::int64_t>(counts, 2));
    v.buckets = static_cast<std::uint64_t>(counts[0]);
    v.early = static_cast<std::uint64_t>(counts[1]);
  }
}

// vs[0] = compute only, vs[1] = compute then all-reduce, the rest overlapped.
void report_overlap(const std::vector<Variant>& vs) {
  const double allreduce = vs[1].median - vs[0].median;
  for (std::size_t i = 0; i < vs.size(); ++i) {
    const auto& v = vs[i];
    std::printf("  %-44s min %7.3f ms  median %7.3f ms", v.name.c_str(), v.min * 1e3, v.median * 1e3);
    if (i >= 2) {
      std::printf("  hidden %4.0f%%  wait in finish %.3f ms  done before finish %3.0f%%",
                  100 * (vs[1].median - v.median) / allreduce, v.wait * 1e3,
                  100.0 * static_cast<double>(v.early) / static_cast<double>(std::max<std::uint64_t>(v.buckets, 1)));
    }
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool binomial = argc > 3 && std::string(argv[3]) == "binomial";
  distributed::Communicator comm(argc, argv, {.ring_allreduce = !binomial});
  const int iters = argc > 1 ? std::atoi(argv[1]) : 200;
  const std::int64_t batch = argc > 2 ? std::atoll(argv[2]) : 64;
  const bool root = comm.rank() == 0;
  kernels::ThreadScope threads(1);
  threads.run([&] {
    Mlp m(batch);
    auto grads = m.g.parameter_grads();
    const std::size_t n = 535818;  // the parameters, without the arena's tail padding
    std::vector<float> buf(n, 1e-3f);
    const double mb = static_cast<double>(n * sizeof(float)) / 1e6;
    std::vector<std::unique_ptr<distributed::GradientReducer>> reducers;
    auto reducer = [&](std::size_t bytes, bool poll) {
      reducers.push_back(std::make_unique<distributed::GradientReducer>(
          comm, m.g, distributed::ReducerOptions{.bucket_bytes = bytes, .poll_during_backward = poll}));
      return reducers.back().get();
    };
    std::uint64_t step = 0;

    // A. The all-reduce alone.
    std::vector<Variant> a;
    a.push_back({"MPI_Allreduce (blocking)", [&] {
      MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }});
    a.push_back({"MPI_Iallreduce + MPI_Wait (same algorithm)", [&] {
      MPI_Request r;
      MPI_Iallreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r);
      MPI_Wait(&r, MPI_STATUS_IGNORE);
    }});
    a.push_back({"Communicator::allreduce_sum", [&] { comm.allreduce_sum(std::span<float>(buf)); }});
    measure(comm, iters, a);
    if (root) {
      std::printf("%d ranks, %.2f MB of gradients, %d iterations, non-blocking all-reduce: %s\nA. all-reduce alone\n",
                  comm.size(), mb, iters, binomial ? "Open MPI's default (binomial)" : "ring");
      for (const auto& v : a) {
        std::printf("  %-44s min %7.3f ms  median %7.3f ms  (%.1f GB/s at the min)\n", v.name.c_str(), v.min * 1e3,
                    v.median * 1e3, mb / 1e3 / v.min);
      }
    }

    // B. Synthetic: every bucket starts, then 15 chunks of compute with after_op between.
    Spin chunk(1.5e-3 / 15);
    auto compute = [&](graph::BackwardObserver* obs) {
      for (int c = 0; c < 15; ++c) {
        chunk();
        if (obs) obs->after_op();
      }
    };
    std::vector<Variant> b;
    b.push_back({"compute only", [&] { compute(nullptr); }});
    b.push_back({"compute, then all-reduce", [&] {
      compute(nullptr);
      comm.allreduce_sum(grads.first(n));
    }});
    for (std::size_t bytes : {std::size_t{512} << 10, distributed::kDefaultBucketBytes}) {
      for (bool poll : {true, false}) {
        auto* r = reducer(bytes, poll);
        b.push_back({"reducer " + std::to_string(bytes >> 10) + " KiB (" + std::to_string(r->buckets().size()) +
                         " buckets), " + (poll ? "polls" : "no polls"),
                     [&, r] {
                       r->begin_step(step++, batch);
                       for (std::size_t k = m.g.parameters().size(); k-- > 0;) r->parameter_ready(k);
                       compute(r);
                       r->finish();
                     },
                     r});
      }
    }
    measure(comm, iters, b);
    if (root) {
      std::printf("B. synthetic compute (1.5 ms in 15 chunks) overlapped with the all-reduce\n");
      report_overlap(b);
    }

    // C. The real MLP step.
    std::vector<Variant> c;
    c.push_back({"forward + backward", [&] {
      m.g.forward();
      m.g.backward(m.loss);
    }});
    c.push_back({"forward + backward, then all-reduce", [&] {
      m.g.forward();
      m.g.backward(m.loss);
      comm.allreduce_sum(grads.first(n));
    }});
    for (std::size_t bytes : {std::size_t{512} << 10, distributed::kDefaultBucketBytes}) {
      for (bool poll : {true, false}) {
        auto* r = reducer(bytes, poll);
        c.push_back({"reducer " + std::to_string(bytes >> 10) + " KiB (" + std::to_string(r->buckets().size()) +
                         " buckets), " + (poll ? "polls" : "no polls"),
                     [&, r] {
                       r->begin_step(step++, batch);
                       m.g.forward();
                       m.g.backward(m.loss, r);
                       r->finish();
                     },
                     r});
      }
    }
    measure(comm, iters, c);
    if (root) {
      std::printf("C. MLP 784-512-256-10 step, batch %lld per rank\n", static_cast<long long>(batch));
      report_overlap(c);
    }
    if (root && chunk.sink() == 12345.f) std::printf("\n");
  });
  return 0;
}
