// SharedExchange (internal): the GradientReducer's transport when every rank runs
// on one node. The ranks map one POSIX shared-memory segment and sum the
// gradients there directly, with no MPI call in the step: Open MPI's all-reduce
// moves every byte through its own buffers (CPU time of every rank inside
// backward, plus a separate pass dividing by the count; docs/benchmarks.md).
//
// Each bucket is cut into P parts, one per rank (its "owner"). Per step:
//   publish(b)  this rank copies the parts of bucket b that other ranks own into
//               its region of the segment, then raises its ready flag for b;
//   progress()  once every rank is ready for b, the owner of a part sums that part
//               over the ranks in rank order (its own part straight from its
//               gradient arena), divides by the global sample count, writes the
//               result into its arena and its region, and raises its reduced flag;
//               a rank copies the other parts of b into its arena once their
//               owners have reduced them;
//   finish()    waits (under the stall deadline) until every bucket is complete
//               and raises this rank's done flag. Without whole gradients (a
//               sharded step that needs no gradient norm) the copying is
//               skipped: each rank's gradient is exact only on its own parts.
// With a sharded optimizer step each rank then updates only the weights of its
// own parts, and share_weights() trades them the same way: each rank copies its
// parts into the values half of its region and raises its weights flag; the
// others copy them from there.
// Every element is computed once, by one rank, in a fixed order: results are
// bitwise equal on every rank and across reruns. A rank's region is rewritten
// only after every rank is done with the previous step (checked in
// begin_step). Flags are step generations (1, 2, ...) stored with release and
// read with acquire semantics, so the data written before a flag is visible to
// whoever sees the flag.
#pragma once

#include "context.hpp"

#include "dtrain/distributed/gradient_reducer.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace dtrain::distributed::detail {

class SharedExchange {
 public:
  // Collective. nullptr (on every rank alike) when the ranks do not all run on
  // this host or the segment cannot be created (e.g. /dev/shm is full).
  // whole_gradients false: finish() leaves this rank's gradients exact only on
  // its own parts (no copying of the others'), for a sharded optimizer step.
  static std::unique_ptr<SharedExchange> open(Communicator& comm, Context& ctx,
                                              std::span<const Bucket> buckets, std::int64_t arena_elements,
                                              bool whole_gradients);
  ~SharedExchange();
  SharedExchange(const SharedExchange&) = delete;
  SharedExchange& operator=(const SharedExchange&) = delete;

  // Waits until every rank is done with the previous step, then records this
  // rank's sample count for the step.
  void begin_step(std::int64_t local_samples, Clock::time_point deadline);
  // This rank's gradient of bucket b (in grads) is final.
  void publish(std::size_t b, const float* grads);
  // Does whatever reduction and copying is possible now, without waiting.
  void progress(float* grads);
  // Waits until every bucket is reduced and copied into grads; returns the
  // seconds spent waiting.
  double finish(float* grads, Clock::time_point deadline);
  std::int64_t global_samples() const { return global_; }
  // This rank's regions (values and gradients, arena-sized) as memory for a
  // parameter store, which saves the copies in and out of the segment. Keeps
  // the segment mapped for as long as the store lives.
  std::shared_ptr<graph::ParameterMemory<float>> parameter_memory() const;
  // This rank's parts of every bucket, in gradient-arena elements, ascending.
  std::vector<std::pair<std::int64_t, std::int64_t>> own_parts() const;
  // After this rank updated the weights of its own parts (in values, the
  // parameter arena): gives them to the other ranks and takes theirs.
  void share_weights(float* values, Clock::time_point deadline);
  bool in_step() const { return in_step_; }
  // Buckets done in this rank's gradient arena (reduced own part, and the
  // others' parts copied in when whole gradients are wanted).
  std::size_t complete_buckets() const { return whole_ ? next_copy_ : next_reduce_; }

 private:
  struct Segment;
  struct Part {
    std::int64_t begin = 0;
    std::int64_t end = 0;
  };

  SharedExchange(Context& ctx, std::shared_ptr<Segment> segment, std::span<const Bucket> buckets, int rank,
                 int size, bool whole_gradients);
  Part part(std::size_t b, int owner) const;
  // Every rank's flag (flags[rank] + b) is at least gen.
  bool all_reached(const std::vector<std::uint64_t*>& flags, std::size_t b, std::uint64_t gen) const;
  void reduce_own_part(std::size_t b, float* grads);
  void copy_other_parts(std::size_t b, float* grads);
  // What a stalled wait reports: the ranks that have not raised the flag it
  // waits for, and what they did not do.
  struct Missing {
    std::vector<int> ranks;
    std::string what;
  };
  // Polls `done` until it returns true; past the deadline reports missing().
  double wait_until(const char* what, Clock::time_point deadline, const std::function<bool()>& done,
                    const std::function<Missing()>& missing);
  Missing below(const std::vector<std::uint64_t*>& flags, std::size_t b, std::uint64_t gen,
                std::string what) const;
  Missing missing_in_exchange() const;
  [[noreturn]] void report_stall(const char* what, const Missing& missing);

  Context& ctx_;
  std::shared_ptr<Segment> segment_;
  std::vector<std::int64_t> offsets_;  // per bucket: first arena element
  std::vector<std::int64_t> sizes_;    // per bucket: elements
  int rank_;
  int size_;
  bool whole_;
  bool oversubscribed_;
  std::size_t arena_ = 0;  // elements of each region
  // Pointers into the segment, per rank.
  std::vector<std::uint64_t*> ready_;    // [rank][bucket]
  std::vector<std::uint64_t*> reduced_;  // [rank][bucket]
  std::vector<std::uint64_t*> done_;     // [rank]: step whose reduced parts every rank may have read
  std::vector<std::uint64_t*> weights_;       // [rank]: step whose weights are in its values region
  std::vector<std::uint64_t*> weights_done_;  // [rank]: step whose weights it has taken from all
  std::vector<std::int64_t*> count_;     // [rank]
  std::vector<float*> region_;           // [rank]: arena-sized, gradients
  std::vector<float*> values_;           // [rank]: arena-sized, weights
  std::vector<const float*> sources_;    // [rank]: what reduce_own_part adds

  std::uint64_t gen_ = 0;
  bool in_step_ = false;
  std::size_t next_reduce_ = 0;  // buckets whose own part is reduced
  std::size_t next_copy_ = 0;    // buckets complete in this rank's arena
  std::int64_t global_ = 0;
  bool global_known_ = false;
};

}  // namespace dtrain::distributed::detail
