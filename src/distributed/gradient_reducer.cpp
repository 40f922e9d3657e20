#include "dtrain/distributed/gradient_reducer.hpp"

#include "context.hpp"
#include "shared_exchange.hpp"

#include "dtrain/kernels/parallel.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

namespace dtrain::distributed {

namespace {

constexpr std::int64_t kScaleBlock = 1 << 15;  // elements per block of the division

}  // namespace

struct GradientReducer::State {
  detail::Context& ctx;
  ReducerOptions options;
  std::vector<graph::ParameterInfo> params;
  float* grads = nullptr;
  std::size_t arena_size;
  std::vector<Bucket> buckets;
  std::vector<std::uint8_t> reduced;  // per parameter: in a bucket
  std::vector<std::string> labels;    // per bucket, for stall messages

  // Per step.
  bool in_step = false;
  std::vector<std::uint8_t> ready;         // per parameter: whole gradient final
  std::vector<std::int64_t> final_prefix;  // per parameter: elements known final
  std::vector<MPI_Request> requests;       // per bucket
  std::vector<std::uint64_t> seqs;         // per bucket
  std::size_t next_start = 0;              // buckets start in this order
  std::size_t next_poll = 0;               // first bucket not known complete
  MPI_Request count_request = MPI_REQUEST_NULL;
  std::uint64_t count_seq = 0;
  std::int64_t count = 0;  // local, then global sample count
  bool count_done = false;
  ReducerStats stats;
  std::unique_ptr<detail::SharedExchange> shm;  // set: gradients travel through shared memory

  State(Communicator& comm, detail::Context& c, std::span<const graph::ParameterInfo> p, ReducerOptions o)
      : ctx(c), options(o), params(p.begin(), p.end()),
        arena_size(static_cast<std::size_t>(graph::arena_elements(params))) {
    buckets = assign_buckets(params, options.bucket_bytes, sizeof(float));
    reduced.assign(params.size(), 0);
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      const auto& bk = buckets[b];
      if (bk.size > INT_MAX) {
        throw ArgumentError("GradientReducer: parameter '" + params[bk.parameters.front()].name +
                            "' has more than INT_MAX elements");
      }
      for (auto i : bk.parameters) reduced[i] = 1;
      labels.push_back("all-reduce of gradient bucket " + std::to_string(b + 1) + "/" +
                       std::to_string(buckets.size()));
    }
    ready.assign(params.size(), 0);
    final_prefix.assign(params.size(), 0);
    requests.assign(buckets.size(), MPI_REQUEST_NULL);
    seqs.assign(buckets.size(), 0);
    stats.bucket_start_op.assign(buckets.size(), -1);
    stats.bucket_done_early.assign(buckets.size(), 0);
    if (options.transport != ReduceTransport::mpi && ctx.size() > 1) {
      shm = detail::SharedExchange::open(comm, ctx, buckets, static_cast<std::int64_t>(arena_size),
                                         options.whole_gradients);
    }
    if (options.transport == ReduceTransport::shared_memory && ctx.size() > 1 && !shm) {
      throw ArgumentError("GradientReducer: the shared-memory transport needs every rank on one host and room "
                          "for the gradients in /dev/shm");
    }
  }

  void attach(std::span<float> g) {
    if (in_step) throw Error("GradientReducer: attach during step " + std::to_string(stats.step));
    for (const auto& bk : buckets) {
      if (bk.offset + bk.size > static_cast<std::int64_t>(g.size())) {
        throw ArgumentError("GradientReducer: gradient arena of " + std::to_string(g.size()) +
                            " elements is too small for parameter '" + params[bk.parameters.front()].name +
                            "' (ends at " + std::to_string(bk.offset + bk.size) + ")");
      }
    }
    grads = g.data();
  }

  bool in_flight() const {
    if (shm) return shm->in_step();
    if (count_request != MPI_REQUEST_NULL) return true;
    return std::any_of(requests.begin(), requests.end(),
                       [](MPI_Request r) { return r != MPI_REQUEST_NULL; });
  }

  void start(std::size_t b) {
    const auto& bk = buckets[b];
    stats.bucket_start_op[b] = stats.after_ops;
    if (shm) {
      shm->publish(b, grads);
      return;
    }
    seqs[b] = ctx.begin_op(labels[b]);
    ctx.tune_iallreduce(static_cast<std::size_t>(bk.size) * sizeof(float));
    ctx.check(MPI_Iallreduce(MPI_IN_PLACE, grads + bk.offset, static_cast<int>(bk.size), MPI_FLOAT,
                             MPI_SUM, ctx.comm(), &requests[b]),
              "MPI_Iallreduce", seqs[b]);
  }

  bool bucket_ready(const Bucket& bk) const {
    if (bk.piece_end > 0) return final_prefix[bk.parameters.front()] >= bk.piece_end;
    return std::all_of(bk.parameters.begin(), bk.parameters.end(), [&](std::size_t i) { return ready[i] != 0; });
  }

  void start_ready_buckets() {
    while (next_start < buckets.size() && bucket_ready(buckets[next_start])) start(next_start++);
  }

  void check_reduced(std::size_t index, const char* what) const {
    if (!in_step) throw Error(std::string("GradientReducer: ") + what + " before begin_step");
    if (index >= params.size() || !reduced[index]) {
      throw ArgumentError(std::string("GradientReducer: ") + what + "(" + std::to_string(index) +
                          ") is not a trainable parameter of this reducer");
    }
  }

  // One MPI_Test progresses everything outstanding; look at the oldest first.
  void poll() {
    if (shm) {
      shm->progress(grads);
      for (; next_poll < shm->complete_buckets(); ++next_poll) stats.bucket_done_early[next_poll] = 1;
      return;
    }
    if (!count_done && count_request != MPI_REQUEST_NULL) {
      count_done = ctx.test(count_request, count_seq);
      if (!count_done) return;
    }
    while (next_poll < next_start && ctx.test(requests[next_poll], seqs[next_poll])) {
      stats.bucket_done_early[next_poll] = 1;
      ++next_poll;
    }
  }

  void scale(const Bucket& bk, float n) {
    float* p = grads + bk.offset;
    kernels::for_blocks(bk.size, kScaleBlock, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) p[i] /= n;
    });
  }

  std::string unreported() const {
    std::string names;
    int listed = 0;
    for (std::size_t i = 0; i < params.size() && listed < 5; ++i) {
      if (reduced[i] && !ready[i]) {
        names += (listed++ ? ", '" : "'") + params[i].name + "'";
      }
    }
    return names;
  }
};

GradientReducer::GradientReducer(Communicator& comm, std::span<const graph::ParameterInfo> params,
                                 ReducerOptions options)
    : state_(std::make_unique<State>(comm, *comm.ctx_, params, options)) {}

GradientReducer::GradientReducer(Communicator& comm, std::span<const graph::ParameterInfo> params,
                                 std::span<float> grads, ReducerOptions options)
    : GradientReducer(comm, params, options) {
  attach(grads);
}

GradientReducer::GradientReducer(Communicator& comm, graph::Graph<float>& graph, ReducerOptions options)
    : GradientReducer(comm, graph.parameters(), graph.parameter_grads(), options) {}

GradientReducer::~GradientReducer() {
  // An exception left a step with collectives in flight. Their buffers may go
  // away, and other ranks wait for them: the job must end. Let the caller report
  // the real error first (Communicator::abort); the Communicator ends the job
  // if nobody does.
  if (state_ && state_->in_flight()) state_->ctx.note_abandoned(state_->stats.step);
}

std::shared_ptr<graph::ParameterMemory<float>> GradientReducer::parameter_memory() const {
  return state_->shm ? state_->shm->parameter_memory() : nullptr;
}

void GradientReducer::attach(std::span<float> grads) { state_->attach(grads); }

void GradientReducer::begin_step(std::uint64_t step, std::int64_t local_samples) {
  auto& s = *state_;
  if (!s.grads) throw Error("GradientReducer: begin_step before attach");
  if (s.in_step) {
    throw Error("GradientReducer: begin_step(" + std::to_string(step) + ") while step " +
                std::to_string(s.stats.step) + " is not finished");
  }
  if (local_samples < 0) {
    throw ArgumentError("GradientReducer: local_samples must be >= 0, got " + std::to_string(local_samples));
  }
  s.ctx.step = step;
  s.stats.step = step;
  s.stats.after_ops = 0;
  s.stats.wait_seconds = 0;
  s.stats.scale_seconds = 0;
  std::fill(s.stats.bucket_start_op.begin(), s.stats.bucket_start_op.end(), -1);
  std::fill(s.stats.bucket_done_early.begin(), s.stats.bucket_done_early.end(), 0);
  std::fill(s.ready.begin(), s.ready.end(), 0);
  std::fill(s.final_prefix.begin(), s.final_prefix.end(), 0);
  s.next_start = 0;
  s.next_poll = 0;
  if (s.shm) {
    s.shm->begin_step(local_samples, s.ctx.deadline_from_now());
    s.in_step = true;
    return;
  }
  s.count = local_samples;
  s.count_done = false;
  s.count_seq = s.ctx.begin_op("all-reduce of the sample count");
  s.ctx.tune_iallreduce(sizeof s.count);
  s.ctx.check(MPI_Iallreduce(MPI_IN_PLACE, &s.count, 1, MPI_INT64_T, MPI_SUM, s.ctx.comm(),
                             &s.count_request),
              "MPI_Iallreduce", s.count_seq);
  s.in_step = true;
}

void GradientReducer::parameter_ready(std::size_t index) {
  auto& s = *state_;
  s.check_reduced(index, "parameter_ready");
  if (s.ready[index]) {
    throw Error("GradientReducer: parameter '" + s.params[index].name + "' reported ready twice in step " +
                std::to_string(s.stats.step));
  }
  s.ready[index] = 1;
  s.final_prefix[index] = s.params[index].shape.numel();
  s.start_ready_buckets();
}

void GradientReducer::parameter_prefix_ready(std::size_t index, std::int64_t elements) {
  auto& s = *state_;
  s.check_reduced(index, "parameter_prefix_ready");
  if (s.ready[index] || elements < s.final_prefix[index] || elements > s.params[index].shape.numel()) {
    throw Error("GradientReducer: parameter '" + s.params[index].name + "': prefix of " +
                std::to_string(elements) + " elements reported after " + std::to_string(s.final_prefix[index]) +
                (s.ready[index] ? " (whole gradient already final)" : "") + " in step " +
                std::to_string(s.stats.step));
  }
  s.final_prefix[index] = elements;
  s.start_ready_buckets();
  if (s.options.poll_during_backward) s.poll();  // the op goes on computing: progress what is out
}

void GradientReducer::after_op() {
  auto& s = *state_;
  if (!s.in_step) return;
  ++s.stats.after_ops;
  if (s.options.poll_during_backward) s.poll();
}

void GradientReducer::contribute_zero() {
  auto& s = *state_;
  if (!s.in_step) throw Error("GradientReducer: contribute_zero before begin_step");
  if (std::any_of(s.ready.begin(), s.ready.end(), [](std::uint8_t r) { return r != 0; })) {
    throw Error("GradientReducer: contribute_zero after gradients were reported in step " +
                std::to_string(s.stats.step));
  }
  for (const auto& bk : s.buckets) {
    std::memset(s.grads + bk.offset, 0, static_cast<std::size_t>(bk.size) * sizeof(float));
  }
  for (std::size_t i = 0; i < s.params.size(); ++i) {
    if (s.reduced[i]) parameter_ready(i);
  }
}

std::int64_t GradientReducer::finish() {
  auto& s = *state_;
  if (!s.in_step) throw Error("GradientReducer: finish before begin_step");
  if (s.next_start < s.buckets.size()) {
    throw Error("GradientReducer: finish at step " + std::to_string(s.stats.step) +
                " with gradients never reported ready: " + s.unreported());
  }
  const auto deadline = s.ctx.deadline_from_now();
  double waited = 0;
  double scaled = 0;
  std::int64_t global = 0;
  if (s.shm) {
    waited = s.shm->finish(s.grads, deadline);  // divided while summing
    global = s.shm->global_samples();
  } else {
    waited = s.ctx.wait(s.count_request, s.count_seq, deadline);
    global = s.count;
    for (std::size_t b = 0; b < s.buckets.size(); ++b) {
      waited += s.ctx.wait(s.requests[b], s.seqs[b], deadline);
      if (global > 1) {
        const auto t0 = detail::Clock::now();
        s.scale(s.buckets[b], static_cast<float>(global));
        scaled += std::chrono::duration<double>(detail::Clock::now() - t0).count();
      }
    }
  }
  s.in_step = false;
  s.stats.global_samples = global;
  s.stats.wait_seconds = waited;
  s.stats.scale_seconds = scaled;
  s.stats.total_wait_seconds += waited;
  ++s.stats.steps;
  if (global <= 0) {
    throw Error("GradientReducer: no rank had samples at step " + std::to_string(s.stats.step));
  }
  return global;
}

const std::vector<Bucket>& GradientReducer::buckets() const { return state_->buckets; }
std::size_t GradientReducer::started_buckets() const { return state_->next_start; }
std::vector<std::pair<std::int64_t, std::int64_t>> GradientReducer::own_share() const {
  return state_->shm ? state_->shm->own_parts() : std::vector<std::pair<std::int64_t, std::int64_t>>{};
}

void GradientReducer::share_weights(std::span<float> values) {
  auto& s = *state_;
  if (!s.shm) throw Error("GradientReducer: share_weights needs the shared-memory transport");
  if (s.in_step) throw Error("GradientReducer: share_weights before finish");
  if (values.size() < s.arena_size) {
    throw ArgumentError("GradientReducer: share_weights got " + std::to_string(values.size()) +
                        " values for a gradient arena of " + std::to_string(s.arena_size));
  }
  s.shm->share_weights(values.data(), s.ctx.deadline_from_now());
}

ReduceTransport GradientReducer::transport() const {
  return state_->shm ? ReduceTransport::shared_memory : ReduceTransport::mpi;
}
const ReducerStats& GradientReducer::stats() const { return state_->stats; }

}  // namespace dtrain::distributed
