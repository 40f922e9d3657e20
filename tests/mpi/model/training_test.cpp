// Data-parallel training under mpiexec: a P-rank run follows the 1-rank run,
// replicas stay bitwise equal, reruns repeat bitwise, uneven shards are exact.
#include "../mpi_test_env.hpp"

#include "dtrain/core/random.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/layers/core.hpp"
#include "dtrain/model.hpp"
#include "dtrain/optimizers/factory.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace dtrain {
namespace {

// 203 rows: not a multiple of 2, 3, 4 nor of the batch of 32, so the last
// global batch (11 rows) splits unevenly over the ranks.
constexpr std::int64_t kRows = 203;

void make_data(Tensor& x, Tensor& y) {
  x = Tensor({kRows, 12});
  y = Tensor({kRows});
  Rng rng(17);
  for (std::int64_t i = 0; i < kRows; ++i) {
    double score = 0;
    for (int j = 0; j < 12; ++j) {
      x[i * 12 + j] = static_cast<float>(rng.uniform(-1, 1));
      score += (j % 3 == 0 ? 1 : -0.5) * x[i * 12 + j];
    }
    y[i] = static_cast<float>(score > 0.2 ? 2 : score > -0.2 ? 1 : 0);
  }
}

// 3 epochs of 7 steps = 21 optimizer steps.
struct Trained {
  std::vector<float> weights;
  std::vector<float> slots;  // every optimizer slot, concatenated
};

Trained train_model(distributed::Communicator* comm, int threads,
                    distributed::ReduceTransport transport = distributed::ReduceTransport::automatic, bool clip = false) {
  Tensor x, y;
  make_data(x, y);
  // Dropout masks follow the global sample index, so they too match the 1-rank run.
  auto model = Sequential({12}, {layers::Dense({.units = 32, .activation = "tanh"}), layers::Dropout({.rate = 0.2}),
                                 layers::Dense({.units = 16, .activation = "relu"}), layers::Dense({.units = 3})},
                          "mlp", 7);
  model.set_communicator(comm);
  model.set_reduce_transport(transport);
  model.set_threads(threads);
  auto loss = losses::parse_loss("sparse_categorical_crossentropy");
  loss.from_logits = true;
  optimizers::Options adam{{"learning_rate", 0.01}};
  if (clip) adam.emplace("global_clipnorm", 0.5);  // needs the norm of the whole gradient
  model.compile({.optimizer = optimizers::make_optimizer<float>("adam", adam), .loss = loss,
                 .metrics = {"accuracy"}});
  model.fit(x, y, {.batch_size = 32, .epochs = 3, .seed = 5, .verbose = 0});
  EXPECT_EQ(model.global_step(), 21);
  Trained out{{model.weights().begin(), model.weights().end()}, {}};
  if (comm) model.gather_optimizer_state();
  for (const auto& slot : model.optimizer().slots()) out.slots.insert(out.slots.end(), slot.value.begin(), slot.value.end());
  return out;
}

std::vector<float> train(distributed::Communicator* comm, int threads,
                         distributed::ReduceTransport transport = distributed::ReduceTransport::automatic) {
  return train_model(comm, threads, transport).weights;
}

// max |a - b| / max(|a|, floor) over the elements.
double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b, double floor) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(std::abs(static_cast<double>(a[i])), floor);
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / scale);
  }
  return worst;
}

std::uint64_t hash_of(const std::vector<float>& v) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (float x : v) {
    std::uint32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    hash = (hash ^ bits) * 1099511628211ULL;
  }
  return hash;
}

// Both gradient transports: MPI_Iallreduce and shared memory.
class DataParallelTraining : public ::testing::TestWithParam<distributed::ReduceTransport> {};

std::string transport_name(const ::testing::TestParamInfo<distributed::ReduceTransport>& p) {
  return p.param == distributed::ReduceTransport::mpi ? "Mpi" : "SharedMemory";
}

INSTANTIATE_TEST_SUITE_P(Transports, DataParallelTraining,
                         ::testing::Values(distributed::ReduceTransport::mpi, distributed::ReduceTransport::shared_memory),
                         transport_name);

TEST_P(DataParallelTraining, FollowsTheOneRankRunTo1e5) {
  auto& comm = testing::mpi_comm();
  const auto single = train(nullptr, 1);  // this rank alone, all the data
  const auto parallel = train(&comm, 1, GetParam());
  ASSERT_EQ(single.size(), parallel.size());
  const double worst = max_relative_difference(single, parallel, 1e-2);
  EXPECT_LE(worst, 1e-5) << comm.size() << " ranks";
  if (comm.rank() == 0) {
    std::printf("%d ranks vs 1 (%s): max relative weight difference %.3g\n", comm.size(),
                GetParam() == distributed::ReduceTransport::mpi ? "MPI" : "shared memory", worst);
  }
  EXPECT_GT(std::abs(single[3]), 0.0f);
}

TEST_P(DataParallelTraining, ReplicasAreBitwiseEqualAndRerunsRepeat) {
  auto& comm = testing::mpi_comm();
  const auto a = train(&comm, 1, GetParam());
  const auto b = train(&comm, 2, GetParam());  // another thread count: the same bits
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  const auto hash = hash_of(a);
  EXPECT_EQ(comm.allreduce_min(hash), comm.allreduce_max(hash));
}

// On one host each rank's optimizer step updates only its share of the weights
// and slots; gathered, the slots are whole: the same bits on every rank, and
// the MPI transport's (every rank updates everything) to float rounding.
TEST(ShardedOptimizerStep, GatheredSlotsAreWholeOnEveryRank) {
  auto& comm = testing::mpi_comm();
  const auto sharded = train_model(&comm, 1, distributed::ReduceTransport::shared_memory);
  const auto full = train_model(&comm, 1, distributed::ReduceTransport::mpi);
  ASSERT_EQ(sharded.slots.size(), full.slots.size());
  ASSERT_GT(sharded.slots.size(), sharded.weights.size());  // Adam: m and v per weight
  const auto hash = hash_of(sharded.slots);
  EXPECT_EQ(comm.allreduce_min(hash), comm.allreduce_max(hash)) << "slots differ across ranks";
  // Floor 1e-5 (max |slot| is 4e-2): a first moment that nearly cancels is float noise.
  EXPECT_LE(max_relative_difference(full.slots, sharded.slots, 1e-5), 1e-4) << comm.size() << " ranks";
  if (comm.size() == 2) {
    // Two ranks add g0 + g1 in either order: the same bits as the MPI transport.
    EXPECT_EQ(0, std::memcmp(sharded.slots.data(), full.slots.data(), full.slots.size() * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(sharded.weights.data(), full.weights.data(), full.weights.size() * sizeof(float)));
  }
}

// With norm clipping every rank needs the whole gradient (not only its share)
// to take the norm: the sharded step keeps it and still matches the MPI path.
TEST(ShardedOptimizerStep, NormClippingSeesTheWholeGradient) {
  auto& comm = testing::mpi_comm();
  const auto sharded = train_model(&comm, 1, distributed::ReduceTransport::shared_memory, /*clip=*/true);
  const auto full = train_model(&comm, 1, distributed::ReduceTransport::mpi, /*clip=*/true);
  const auto single = train_model(nullptr, 1, distributed::ReduceTransport::automatic, /*clip=*/true);
  EXPECT_LE(max_relative_difference(single.weights, sharded.weights, 1e-2), 1e-5) << comm.size() << " ranks";
  if (comm.size() == 2) {
    EXPECT_EQ(0, std::memcmp(sharded.weights.data(), full.weights.data(), full.weights.size() * sizeof(float)));
  }
}

}  // namespace
}  // namespace dtrain
