// GradientReducer on 1..4 ranks: exact global means with uneven local batches,
// bitwise-equal results on every rank, buckets that start while backward still
// runs, and agreement with a single full-batch backward.
#include "mpi_test_env.hpp"

#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/distributed/replica_check.hpp"
#include "dtrain/graph/ops.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace dtrain::distributed {
namespace {

using dtrain::testing::mpi_comm;

// Parameters a[3,4] b[4] frozen[5] c[2,2] d[1]: offsets 0, 16, 32, 48, 64 (16-float
// alignment). With 64-byte buckets, from the last parameter back: {d}; c would
// make it span 65-48 = 17 floats = 68 B > 64, so {c}; frozen closes it; {b};
// a would span 20 floats = 80 B, so {a}. Four buckets.
struct SmallLayout {
  graph::Graph<float> g;
  SmallLayout() {
    g.parameter("a", {3, 4});
    g.parameter("b", {4});
    g.parameter("frozen", {5}, /*trainable=*/false);
    g.parameter("c", {2, 2});
    g.parameter("d", {1});
    (void)g.parameter_grads();
  }
};

// Per-sample gradient of element i for global sample s: a multiple of 1/4 in
// [-5, 5.75], so sums of up to a few dozen samples are exact in float and the
// all-reduce order cannot matter.
float sample_grad(std::int64_t s, std::int64_t i) {
  return static_cast<float>((s * 7 + i) % 11 - 5) + 0.25f * static_cast<float>(s % 4);
}

// Drives the reducer by hand, as backward would: fills the local-sum gradients
// of samples [first, first + n), reports parameters last to first.
std::int64_t reduce_step(GradientReducer& reducer, graph::Graph<float>& g, std::uint64_t step,
                         std::int64_t first, std::int64_t n) {
  reducer.begin_step(step, n);
  auto grads = g.parameter_grads();
  const auto& params = g.parameters();
  for (const auto& p : params) {
    for (std::int64_t i = p.offset; i < p.offset + p.shape.numel(); ++i) {
      if (!p.trainable) {
        grads[static_cast<std::size_t>(i)] = 42.0f;  // must come back untouched
        continue;
      }
      float sum = 0;
      for (std::int64_t s = first; s < first + n; ++s) sum += sample_grad(s, i);
      grads[static_cast<std::size_t>(i)] = sum;
    }
  }
  for (std::size_t k = params.size(); k-- > 0;) {
    if (params[k].trainable) reducer.parameter_ready(k);
    reducer.after_op();
  }
  return reducer.finish();
}

// Hashes the reduced ranges (the buckets), not padding or frozen gradients.
void expect_same_bits_on_every_rank(const GradientReducer& reducer, std::span<const float> grads) {
  auto& comm = mpi_comm();
  std::uint64_t h = 0;
  for (const auto& b : reducer.buckets()) {
    h = h * 31 + checksum(grads.subspan(static_cast<std::size_t>(b.offset), static_cast<std::size_t>(b.size)));
  }
  EXPECT_EQ(comm.allreduce_min(h), comm.allreduce_max(h)) << "gradients differ across ranks";
}

// Every behavioural test runs over both transports (on one rank both are plain
// local copies: nothing travels).
class Reducer : public ::testing::TestWithParam<ReduceTransport> {
 protected:
  ReducerOptions options(std::size_t bucket_bytes = kDefaultBucketBytes) const {
    return {.bucket_bytes = bucket_bytes, .transport = GetParam()};
  }
};

std::string transport_name(const ::testing::TestParamInfo<ReduceTransport>& p) {
  return p.param == ReduceTransport::mpi ? "Mpi" : "SharedMemory";
}

INSTANTIATE_TEST_SUITE_P(Transports, Reducer,
                         ::testing::Values(ReduceTransport::mpi, ReduceTransport::shared_memory),
                         transport_name);

TEST_P(Reducer, UsesTheTransportAskedFor) {
  auto& comm = mpi_comm();
  SmallLayout L;
  GradientReducer reducer(comm, L.g, options(64));
  const bool shared = GetParam() == ReduceTransport::shared_memory && comm.size() > 1;
  EXPECT_EQ(reducer.transport(), shared ? ReduceTransport::shared_memory : ReduceTransport::mpi);
  // automatic: every rank of these tests runs on this host.
  GradientReducer automatic(comm, L.g, {.bucket_bytes = 64});
  EXPECT_EQ(automatic.transport(), comm.size() > 1 ? ReduceTransport::shared_memory : ReduceTransport::mpi);
}

TEST_P(Reducer, UnevenLocalBatchesGiveTheExactGlobalMean) {
  auto& comm = mpi_comm();
  const int p = comm.size();
  const int r = comm.rank();
  SmallLayout L;
  GradientReducer reducer(comm, L.g, options(64));
  ASSERT_EQ(reducer.buckets().size(), 4u);
  // Two steps, two uneven splits: n_r = r + 1, then n_r = 2 (P - r).
  for (int step = 0; step < 2; ++step) {
    std::vector<std::int64_t> n(static_cast<std::size_t>(p));
    for (int q = 0; q < p; ++q) n[static_cast<std::size_t>(q)] = step == 0 ? q + 1 : 2 * (p - q);
    const auto first = std::accumulate(n.begin(), n.begin() + r, std::int64_t{0});
    const auto total = std::accumulate(n.begin(), n.end(), std::int64_t{0});
    const auto global = reduce_step(reducer, L.g, static_cast<std::uint64_t>(step), first,
                                    n[static_cast<std::size_t>(r)]);
    EXPECT_EQ(global, total);
    EXPECT_EQ(reducer.stats().global_samples, total);
    // Expected: (sum over all N global samples) / N, the sum exact, one float division.
    const auto grads = L.g.parameter_grads();
    for (const auto& prm : L.g.parameters()) {
      for (std::int64_t i = prm.offset; i < prm.offset + prm.shape.numel(); ++i) {
        float expected = 42.0f;
        if (prm.trainable) {
          float sum = 0;
          for (std::int64_t s = 0; s < total; ++s) sum += sample_grad(s, i);
          expected = sum / static_cast<float>(total);
        }
        EXPECT_EQ(grads[static_cast<std::size_t>(i)], expected) << prm.name << " element " << i;
      }
    }
    expect_same_bits_on_every_rank(reducer, grads);
  }
  EXPECT_EQ(reducer.stats().steps, 2u);
}

TEST_P(Reducer, RanksWithoutSamplesContributeZero) {
  auto& comm = mpi_comm();
  const int p = comm.size();
  SmallLayout L;
  GradientReducer reducer(comm, L.g, options(64));
  // No rank has samples: every rank learns it from the same sum and throws.
  reducer.begin_step(0, 0);
  reducer.contribute_zero();
  EXPECT_THROW(reducer.finish(), Error);
  if (p == 1) return;
  // The last rank has none, the others 3 each: the mean over the others' samples.
  const bool empty = comm.rank() == p - 1;
  auto grads = L.g.parameter_grads();
  std::fill(grads.begin(), grads.end(), 42.0f);  // stale values the zeroing must remove
  std::int64_t global = 0;
  if (empty) {
    reducer.begin_step(1, 0);
    reducer.contribute_zero();
    global = reducer.finish();
  } else {
    global = reduce_step(reducer, L.g, 1, 3 * comm.rank(), 3);
  }
  const std::int64_t total = 3 * (p - 1);
  EXPECT_EQ(global, total);
  for (const auto& prm : L.g.parameters()) {
    if (!prm.trainable) continue;
    for (std::int64_t i = prm.offset; i < prm.offset + prm.shape.numel(); ++i) {
      float sum = 0;
      for (std::int64_t s = 0; s < total; ++s) sum += sample_grad(s, i);
      EXPECT_EQ(grads[static_cast<std::size_t>(i)], sum / static_cast<float>(total)) << prm.name << i;
    }
  }
  expect_same_bits_on_every_rank(reducer, grads);
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

TEST_P(Reducer, InexactSumsAreBitwiseEqualOnEveryRankAndEveryRun) {
  // MLP 784-512-256-10 layout (2.1 MB, 7 buckets, 4 of them pieces of the first
  // kernel), values in [-1, 1) that do
  // not add exactly: the bits still agree on every rank and between two runs.
  auto& comm = mpi_comm();
  const int p = comm.size();
  graph::Graph<float> g;
  g.parameter("dense/kernel", {784, 512});
  g.parameter("dense/bias", {512});
  g.parameter("dense_1/kernel", {512, 256});
  g.parameter("dense_1/bias", {256});
  g.parameter("dense_2/kernel", {256, 10});
  g.parameter("dense_2/bias", {10});
  GradientReducer reducer(comm, g, options());
  auto grads = g.parameter_grads();
  EXPECT_EQ(reducer.buckets().size(), 7u);
  auto value = [](int rank, std::size_t i) {
    return static_cast<float>(static_cast<double>(splitmix(static_cast<std::uint64_t>(rank) << 32 | i) >> 11) *
                                  0x1.0p-52 - 1.0);
  };
  std::vector<float> first_run;
  for (int run = 0; run < 2; ++run) {
    reducer.begin_step(static_cast<std::uint64_t>(run), 16);
    for (std::size_t i = 0; i < grads.size(); ++i) grads[i] = value(comm.rank(), i);
    for (std::size_t k = g.parameters().size(); k-- > 0;) {
      reducer.parameter_ready(k);
      reducer.after_op();
    }
    EXPECT_EQ(reducer.finish(), 16 * p);
    if (run == 0) {
      first_run.assign(grads.begin(), grads.end());
    } else {
      EXPECT_TRUE(std::equal(grads.begin(), grads.end(), first_run.begin())) << "run-to-run bits differ";
    }
    expect_same_bits_on_every_rank(reducer, grads);
  }
  double worst = 0;
  for (const auto& b : reducer.buckets()) {
    for (auto i = static_cast<std::size_t>(b.offset); i < static_cast<std::size_t>(b.offset + b.size); i += 97) {
      double ref = 0;
      for (int q = 0; q < p; ++q) ref += value(q, i);
      worst = std::max(worst, std::abs(grads[i] - ref / (16.0 * p)));
    }
  }
  EXPECT_LT(worst, 1e-7);  // P float roundings of values <= P, divided by 16P
}

// x[b,in] -> dense(hidden) tanh -> dense(3) -> sum((out - y)^2): the SUM over
// samples, as the reducer's contract asks. Node ids: x 0, y 1, w1 2, b1 3, w2 4,
// b2 5, matmul 6, bias_add 7, tanh 8, matmul 9, bias_add 10, sub 11, square 12, sum 13.
struct TinyMlp {
  graph::Graph<float> g;
  graph::NodeId x, y, loss;
  std::int64_t in;
  explicit TinyMlp(double loss_scale, std::int64_t in_features = 5, std::int64_t hidden = 6) : in(in_features) {
    x = g.input("x", {graph::kBatch, in});
    y = g.input("y", {graph::kBatch, 3});
    const auto w1 = g.parameter("dense/kernel", {in, hidden});
    const auto b1 = g.parameter("dense/bias", {hidden});
    const auto w2 = g.parameter("dense_1/kernel", {hidden, 3});
    const auto b2 = g.parameter("dense_1/bias", {3});
    const auto h = graph::tanh(g, graph::bias_add(g, graph::matmul(g, x, w1), b1));
    const auto out = graph::bias_add(g, graph::matmul(g, h, w2), b2);
    loss = graph::sum(g, graph::square(g, graph::sub(g, out, y)));
    if (loss_scale != 1.0) loss = graph::scale(g, loss, loss_scale);
    auto w = g.parameter_values();
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * static_cast<float>(static_cast<int>(i * 37 % 19) - 9);
  }
  // Rows [first, first + n) of the global data set.
  void feed(std::int64_t first, std::int64_t n) {
    g.set_batch(n);
    auto xv = g.value(x);
    auto yv = g.value(y);
    for (std::int64_t s = 0; s < n; ++s) {
      for (std::int64_t j = 0; j < in; ++j) {
        xv.data[s * in + j] = static_cast<float>(std::sin(0.3 * static_cast<double>(first + s) + 0.7 * static_cast<double>(j)));
      }
      for (int k = 0; k < 3; ++k) yv.data[s * 3 + k] = static_cast<float>(std::cos(0.2 * (first + s) + k));
    }
  }
};

// The same model's gradient over all `total` samples with loss = sum / total, on
// one rank: what the reduced gradients must match.
std::vector<float> full_batch_gradient(std::int64_t total, std::int64_t in_features, std::int64_t hidden) {
  TinyMlp full(1.0 / static_cast<double>(total), in_features, hidden);
  full.g.plan(total);
  full.feed(0, total);
  full.g.forward();
  full.g.backward(full.loss);
  const auto grads = full.g.parameter_grads();
  return {grads.begin(), grads.end()};
}

// Forwards to the reducer and records, after each op, how many buckets had started.
class Tracer : public graph::BackwardObserver {
 public:
  explicit Tracer(GradientReducer& r) : reducer_(r) {}
  void parameter_ready(std::size_t i) override { reducer_.parameter_ready(i); }
  void parameter_prefix_ready(std::size_t i, std::int64_t elements) override {
    reducer_.parameter_prefix_ready(i, elements);
    prefixes.push_back(elements);
    started_at_prefix.push_back(reducer_.started_buckets());
  }
  void after_op() override {
    reducer_.after_op();
    started.push_back(reducer_.started_buckets());
  }
  std::vector<std::size_t> started;
  std::vector<std::int64_t> prefixes;
  std::vector<std::size_t> started_at_prefix;

 private:
  GradientReducer& reducer_;
};

TEST_P(Reducer, BucketsStartWhileBackwardRunsAndMatchTheFullBatchGradient) {
  auto& comm = mpi_comm();
  const int p = comm.size();
  const int r = comm.rank();
  const std::int64_t n = r + 2;  // uneven: 2, 3, 4, 5
  const std::int64_t first = r * (r + 3) / 2;  // sum_{q<r} (q + 2)
  const std::int64_t total = p * (p + 3) / 2;
  TinyMlp local(1.0);
  local.g.plan(5);
  local.feed(first, n);
  local.g.forward();
  // 30 floats (dense/kernel's size): one parameter per bucket, no pieces.
  GradientReducer reducer(comm, local.g, options(30 * sizeof(float)));
  ASSERT_EQ(reducer.buckets().size(), 4u);
  Tracer tracer(reducer);
  reducer.begin_step(0, n);
  local.g.backward(local.loss, &tracer);
  EXPECT_EQ(reducer.finish(), total);

  // backward visits nodes 13..0 and calls after_op after each. b2 is final after
  // node 10 (3 after_op calls so far), w2 after node 9 (4), b1 after node 7 (6),
  // w1 after node 6 (7). So three of the four all-reduces are in flight before
  // the first layer's matmul backward (node 6) runs.
  EXPECT_EQ(tracer.started, (std::vector<std::size_t>{0, 0, 0, 1, 2, 2, 3, 4, 4, 4, 4, 4, 4, 4}));
  EXPECT_EQ(reducer.stats().bucket_start_op, (std::vector<std::int64_t>{3, 4, 6, 7}));
  EXPECT_EQ(reducer.stats().after_ops, 14);

  const auto got = local.g.parameter_grads();
  const auto want = full_batch_gradient(total, 5, 6);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-5 * std::max(1.0f, std::abs(want[i]))) << i;
  }
  expect_same_bits_on_every_rank(reducer, got);

  // With the default 512 KiB every parameter shares one bucket: it can only start
  // when the first layer's kernel is final.
  GradientReducer whole(comm, local.g, options());
  ASSERT_EQ(whole.buckets().size(), 1u);
  whole.begin_step(1, n);
  local.g.backward(local.loss, &whole);
  EXPECT_EQ(whole.finish(), total);
  EXPECT_EQ(whole.stats().bucket_start_op, (std::vector<std::int64_t>{7}));
}

TEST_P(Reducer, PiecesOfTheFirstKernelStartWhileItsMatmulComputesTheRest) {
  // dense/kernel [784, 512] (401408 floats) is cut into 4 pieces of the default
  // 512 KiB; the three small parameters share the first bucket. The matmul
  // finishes the kernel's gradient in chunks of 256 rows (131072 floats).
  auto& comm = mpi_comm();
  const int p = comm.size();
  const int r = comm.rank();
  const std::int64_t n = r + 2;
  const std::int64_t first = r * (r + 3) / 2;
  const std::int64_t total = p * (p + 3) / 2;
  TinyMlp local(1.0, 784, 512);
  local.g.plan(5);
  local.feed(first, n);
  local.g.forward();
  GradientReducer reducer(comm, local.g, options());
  ASSERT_EQ(reducer.buckets().size(), 5u);
  Tracer tracer(reducer);
  reducer.begin_step(0, n);
  local.g.backward(local.loss, &tracer);
  EXPECT_EQ(reducer.finish(), total);
  EXPECT_EQ(tracer.prefixes, (std::vector<std::int64_t>{1536, 131072, 262144, 393216, 401408}));
  // dense_1/kernel's single chunk (first) starts nothing: b1 is not final yet.
  EXPECT_EQ(tracer.started_at_prefix, (std::vector<std::size_t>{0, 2, 3, 4, 5}));

  const auto got = local.g.parameter_grads();
  const auto want = full_batch_gradient(total, 784, 512);
  // Float sums over 784 inputs and a different split of the batch: 1e-4.
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], 1e-4 * std::max(1.0f, std::abs(want[i]))) << i;
  }
  expect_same_bits_on_every_rank(reducer, got);
}

TEST(GradientReducer, MisuseIsReported) {
  auto& comm = mpi_comm();
  SmallLayout L;
  GradientReducer reducer(comm, L.g, {.bucket_bytes = 64});
  EXPECT_THROW(reducer.parameter_ready(0), Error);
  EXPECT_THROW(reducer.parameter_prefix_ready(0, 1), Error);
  EXPECT_THROW(reducer.finish(), Error);
  EXPECT_THROW(reducer.contribute_zero(), Error);
  EXPECT_THROW(reducer.begin_step(0, -1), ArgumentError);
  EXPECT_THROW(GradientReducer(comm, L.g, {.bucket_bytes = 0}), ArgumentError);
  std::vector<float> too_small(10);
  EXPECT_THROW(GradientReducer(comm, L.g.parameters(), std::span<float>(too_small)), ArgumentError);
  // Prefixes only grow and stay within the parameter ("a" has 12 elements).
  reducer.begin_step(0, 1);
  reducer.parameter_prefix_ready(0, 5);
  EXPECT_THROW(reducer.parameter_prefix_ready(0, 4), Error);
  EXPECT_THROW(reducer.parameter_prefix_ready(0, 13), Error);
  EXPECT_THROW(reducer.parameter_prefix_ready(2, 1), ArgumentError);  // frozen
  for (std::size_t i : {std::size_t{4}, std::size_t{3}, std::size_t{1}, std::size_t{0}}) reducer.parameter_ready(i);
  EXPECT_THROW(reducer.parameter_prefix_ready(0, 12), Error);  // already whole
  EXPECT_EQ(reducer.finish(), comm.size());
}

}  // namespace
}  // namespace dtrain::distributed
