// GradientReducer: sums parameter gradients over all ranks while backward runs,
// then divides by the global sample count (Horovod / PyTorch DDP style buckets).
//
//   distributed::GradientReducer reducer(comm, graph);          // buckets fixed here
//   reducer.begin_step(step, local_batch);               // local_batch may be 0
//   graph.backward(loss, &reducer);                      // buckets all-reduce as they fill
//   std::int64_t n = reducer.finish();                   // wait, grads /= global n
//   optimizer.apply(...);                                // same on every rank
//
// Contract: when finish() is called, each rank's gradients must be the gradient
// of the SUM of its per-sample losses (not the mean): finish() then leaves
// sum_r(grad_r) / sum_r(n_r), the exact global mean, however uneven the local
// batches. A rank with no samples calls contribute_zero() instead of backward.
//
// On one host the buckets travel through a shared-memory segment instead of MPI
// (ReduceTransport): the same buckets, the same sums in rank order, no MPI call
// per step.
//
// Buckets (assign_buckets) are a pure function of the parameter list and the
// bucket size: the same on every rank, nothing negotiated. A bucket is a run of
// consecutive trainable parameters, listed from the last parameter to the first
// (the order backward finishes them), or a piece of one large parameter, so it is
// one contiguous range of the gradient arena and is reduced in place with no
// packing copy. Buckets are
// started strictly in bucket order (MPI wants the same collective order on every
// rank); after_op() calls MPI_Test so Open MPI progresses them while backward
// computes. Results are bitwise equal on every rank (one all-reduce algorithm
// per bucket size, the same division everywhere).
//
// The Communicator and the gradient arena must outlive the reducer. The
// shared-memory transport offers memory for the parameter store
// (parameter_memory()): a store made in it has its gradients reduced with no
// copy into the segment, and its weights shared the same way; any other
// gradient arena works too, through a copy. If an exception leaves a step with
// all-reduces in flight, the reducer's destructor
// marks the step abandoned: report the error with Communicator::abort (or the
// Communicator ends the job when it is destroyed).
#pragma once

#include "dtrain/distributed/communicator.hpp"
#include "dtrain/graph/graph.hpp"
#include "dtrain/graph/parameter_store.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace dtrain::distributed {

// One all-reduce: gradient arena elements [offset, offset + size).
struct Bucket {
  std::vector<std::size_t> parameters;  // indices into the parameter list, descending
  std::int64_t offset = 0;              // first element in the gradient arena
  std::int64_t size = 0;                // elements, with the alignment padding between
  // A piece of one parameter larger than a bucket: ready once the first
  // `piece_end` elements of its gradient are final. 0: whole parameters.
  std::int64_t piece_end = 0;
};

// 512 KiB: the MLP 784-512-256-10's first kernel (1.6 MB, the last gradient
// backward finishes) is reduced in 4 pieces while its matmul computes the rest;
// per-call overhead stays small (figures in docs/benchmarks.md).
inline constexpr std::size_t kDefaultBucketBytes = std::size_t{512} << 10;
inline constexpr std::size_t kMaxBucketBytes = std::size_t{16} << 20;     // 16 MiB

// Walks the parameters from last to first, appending trainable ones to the
// current bucket while its arena range stays within bucket_bytes; a
// non-trainable parameter closes the bucket (it is not reduced). A parameter
// larger than bucket_bytes is cut into pieces of bucket_bytes, first elements
// first, each a bucket of its own (started as soon as an op reports that prefix
// of the gradient final, see graph::GradientProgress). Throws
// ArgumentError if bucket_bytes is 0 or above kMaxBucketBytes, or if the
// offsets are not increasing and non-overlapping.
std::vector<Bucket> assign_buckets(std::span<const graph::ParameterInfo> params,
                                   std::size_t bucket_bytes,
                                   std::size_t element_bytes = sizeof(float));

// How gradients travel. automatic: through shared memory when every rank runs
// on this host (see src/distributed/shared_exchange.hpp), else MPI_Iallreduce.
enum class ReduceTransport { automatic, mpi, shared_memory };

struct ReducerOptions {
  std::size_t bucket_bytes = kDefaultBucketBytes;
  ReduceTransport transport = ReduceTransport::automatic;
  // false: with the shared-memory transport, finish() leaves each rank's
  // gradient exact only on its own_share() (the other ranks' parts are not
  // copied in): enough for a sharded optimizer step that takes no gradient norm.
  bool whole_gradients = true;
  bool poll_during_backward = true;  // MPI_Test in after_op (off: only for measurements)
};

struct ReducerStats {
  std::uint64_t step = 0;
  std::int64_t global_samples = 0;
  double wait_seconds = 0;    // last step: blocked in finish() on MPI (the all-reduce not hidden)
  double scale_seconds = 0;   // last step: dividing by the global sample count
  double total_wait_seconds = 0;
  std::uint64_t steps = 0;    // finished steps since construction
  std::int64_t after_ops = 0; // after_op() calls in the last step
  // Per bucket, last step: after_op() calls seen when its all-reduce started
  // (-1: not started), and whether it had completed before finish() began.
  std::vector<std::int64_t> bucket_start_op;
  std::vector<std::uint8_t> bucket_done_early;
};

class GradientReducer final : public graph::BackwardObserver {
 public:
  // Collective: fixes the buckets for `params` (a store's layout) and sets up
  // the transport. Call attach() before the first step.
  GradientReducer(Communicator& comm, std::span<const graph::ParameterInfo> params, ReducerOptions options = {});
  // Over a gradient arena at once (grads must cover every offset).
  GradientReducer(Communicator& comm, std::span<const graph::ParameterInfo> params,
                  std::span<float> grads, ReducerOptions options = {});
  // Over a graph's parameters, in whatever store the graph uses now.
  GradientReducer(Communicator& comm, graph::Graph<float>& graph, ReducerOptions options = {});
  ~GradientReducer() override;
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Memory a parameter store of the constructor's layout should be made in:
  // this rank's regions of the shared-memory segment, so gradients and weights
  // need no copy in or out of it. nullptr: any memory will do (mpi transport).
  std::shared_ptr<graph::ParameterMemory<float>> parameter_memory() const;
  // The gradient arena reduced from now on (at least the layout's elements;
  // ArgumentError if smaller). Not during a step.
  void attach(std::span<float> grads);

  // Starts a step: the all-reduce of the sample count begins now.
  void begin_step(std::uint64_t step, std::int64_t local_samples);
  // BackwardObserver: the last parameter of a bucket starts its all-reduce.
  void parameter_ready(std::size_t index) override;
  void parameter_prefix_ready(std::size_t index, std::int64_t elements) override;
  void after_op() override;
  // For a rank without samples this step: zero gradients, start every bucket.
  void contribute_zero();
  // Waits for every bucket (under the stall deadline), divides the gradients by
  // the global sample count and returns it. Throws Error if no rank had samples.
  std::int64_t finish();

  const std::vector<Bucket>& buckets() const;
  std::size_t started_buckets() const;  // this step, so far
  const ReducerStats& stats() const;
  // The transport in use: mpi or shared_memory (one rank: mpi, nothing travels).
  ReduceTransport transport() const;

  // Sharded optimizer step (shared_memory transport only, ZeRO stage 1 style):
  // after finish(), each rank updates only the weights (and optimizer slots) of
  // its own share of the gradient arena, then share_weights() gives every rank
  // everyone's updated weights. own_share() lists the share as ascending
  // [begin, end) ranges of arena elements; it is empty with the mpi transport.
  std::vector<std::pair<std::int64_t, std::int64_t>> own_share() const;
  // values: the parameter arena (same layout as the gradient arena). Waits under
  // the stall deadline.
  void share_weights(std::span<float> values);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace dtrain::distributed
