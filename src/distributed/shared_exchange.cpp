#include "shared_exchange.hpp"

#include "dtrain/kernels/parallel.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <sstream>
#include <thread>

namespace dtrain::distributed::detail {

namespace {

constexpr std::size_t kLine = 64;
constexpr std::size_t kPage = 4096;
constexpr std::int64_t kPartAlign = 16;          // floats: parts start on 64-byte boundaries
constexpr std::int64_t kReduceBlock = 1 << 15;   // elements per (thread) block of a sum
constexpr std::int64_t kChunk = 256;             // elements summed on the stack at a time

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

std::uint64_t load_acquire(const std::uint64_t* p) {
  return std::atomic_ref<std::uint64_t>(*const_cast<std::uint64_t*>(p)).load(std::memory_order_acquire);
}
void store_release(std::uint64_t* p, std::uint64_t v) {
  std::atomic_ref<std::uint64_t>(*p).store(v, std::memory_order_release);
}

std::uint64_t host_hash() {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (int i = 0; i < len; ++i) h = (h ^ static_cast<unsigned char>(name[i])) * 1099511628211ULL;
  return h;
}

// Per rank: [done, count, weights, weights_done] on one line, then the ready
// flags, then the reduced flags, each array on lines of its own. Then per rank a
// region of two arena-sized halves: gradients, weights.
struct Layout {
  std::size_t flags_bytes;   // one array of per-bucket flags
  std::size_t control_bytes; // one rank's control block
  std::size_t half_bytes;    // one arena-sized half of a region
  std::size_t total;
  int ranks;

  Layout(std::size_t buckets, std::int64_t arena_elements, int size)
      : flags_bytes(round_up(std::max<std::size_t>(buckets, 1) * sizeof(std::uint64_t), kLine)),
        control_bytes(kLine + 2 * flags_bytes),
        half_bytes(round_up(static_cast<std::size_t>(arena_elements) * sizeof(float), kPage)),
        total(round_up(static_cast<std::size_t>(size) * control_bytes, kPage) +
              static_cast<std::size_t>(size) * 2 * half_bytes),
        ranks(size) {}
  std::size_t control(int r) const { return static_cast<std::size_t>(r) * control_bytes; }
  std::size_t region(int r) const {
    return round_up(static_cast<std::size_t>(ranks) * control_bytes, kPage) + static_cast<std::size_t>(r) * 2 * half_bytes;
  }
  std::size_t values(int r) const { return region(r) + half_bytes; }
};

}  // namespace

// One mapping of the segment (unlinked once every rank has opened it, so nothing
// is left in /dev/shm whatever happens to the job).
struct SharedExchange::Segment {
  void* base = MAP_FAILED;
  std::size_t bytes = 0;
  ~Segment() {
    if (base != MAP_FAILED) munmap(base, bytes);
  }
  bool map(int fd, std::size_t n) {
    bytes = n;
    base = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return base != MAP_FAILED;
  }
  char* at(std::size_t offset) const { return static_cast<char*>(base) + offset; }
};

std::unique_ptr<SharedExchange> SharedExchange::open(Communicator& comm, Context& ctx,
                                                     std::span<const Bucket> buckets, std::int64_t arena_elements,
                                                     bool whole_gradients) {
  const int rank = ctx.rank();
  const int size = ctx.size();
  const auto hosts = comm.allgather(host_hash(), "all-gather of host names (shared-memory check)");
  if (std::any_of(hosts.begin(), hosts.end(), [&](std::uint64_t h) { return h != hosts.front(); })) return nullptr;

  const Layout layout(buckets.size(), arena_elements, size);
  auto segment = std::make_shared<Segment>();
  std::string name;
  if (rank == 0) {
    name = "/dtrain-grads-" + std::to_string(getpid()) + "-" +
           std::to_string(Clock::now().time_since_epoch().count());
    const int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    // posix_fallocate reserves the pages now: a full /dev/shm fails here, not as a
    // SIGBUS in the middle of a step.
    const bool ok = fd >= 0 && ftruncate(fd, static_cast<off_t>(layout.total)) == 0 &&
                    posix_fallocate(fd, 0, static_cast<off_t>(layout.total)) == 0 && segment->map(fd, layout.total);
    if (fd >= 0) close(fd);
    if (!ok) {
      if (fd >= 0) shm_unlink(name.c_str());
      name.clear();
    }
  }
  comm.broadcast(name, 0, "broadcast of the shared-memory segment name");
  bool ok = !name.empty();
  if (ok && rank != 0) {
    const int fd = shm_open(name.c_str(), O_RDWR, 0600);
    ok = fd >= 0 && segment->map(fd, layout.total);
    if (fd >= 0) close(fd);
  }
  ok = comm.allreduce_min(ok ? 1 : 0, "agreement on the shared-memory segment") == 1;
  if (rank == 0 && !name.empty()) shm_unlink(name.c_str());
  if (!ok) return nullptr;

  std::unique_ptr<SharedExchange> ex(new SharedExchange(ctx, std::move(segment), buckets, rank, size, whole_gradients));
  ex->arena_ = static_cast<std::size_t>(arena_elements);
  for (int r = 0; r < size; ++r) {
    char* c = ex->segment_->at(layout.control(r));
    ex->done_.push_back(reinterpret_cast<std::uint64_t*>(c));
    ex->count_.push_back(reinterpret_cast<std::int64_t*>(c + sizeof(std::uint64_t)));
    ex->weights_.push_back(reinterpret_cast<std::uint64_t*>(c + 2 * sizeof(std::uint64_t)));
    ex->weights_done_.push_back(reinterpret_cast<std::uint64_t*>(c + 3 * sizeof(std::uint64_t)));
    ex->ready_.push_back(reinterpret_cast<std::uint64_t*>(c + kLine));
    ex->reduced_.push_back(reinterpret_cast<std::uint64_t*>(c + kLine + layout.flags_bytes));
    ex->region_.push_back(reinterpret_cast<float*>(ex->segment_->at(layout.region(r))));
    ex->values_.push_back(reinterpret_cast<float*>(ex->segment_->at(layout.values(r))));
  }
  return ex;
}

SharedExchange::SharedExchange(Context& ctx, std::shared_ptr<Segment> segment, std::span<const Bucket> buckets,
                               int rank, int size, bool whole_gradients)
    : ctx_(ctx),
      segment_(std::move(segment)),
      rank_(rank),
      size_(size),
      whole_(whole_gradients),
      oversubscribed_(static_cast<unsigned>(size) > std::max(1u, std::thread::hardware_concurrency())) {
  for (const auto& bk : buckets) {
    offsets_.push_back(bk.offset);
    sizes_.push_back(bk.size);
  }
  sources_.resize(static_cast<std::size_t>(size));
}

SharedExchange::~SharedExchange() = default;

SharedExchange::Part SharedExchange::part(std::size_t b, int owner) const {
  const auto cut = [&](int r) {
    const auto at = sizes_[b] * r / size_;
    return r == size_ ? sizes_[b] : at / kPartAlign * kPartAlign;
  };
  return {offsets_[b] + cut(owner), offsets_[b] + cut(owner + 1)};
}

bool SharedExchange::all_reached(const std::vector<std::uint64_t*>& flags, std::size_t b, std::uint64_t gen) const {
  return std::all_of(flags.begin(), flags.end(), [&](const std::uint64_t* f) { return load_acquire(f + b) >= gen; });
}

void SharedExchange::begin_step(std::int64_t local_samples, Clock::time_point deadline) {
  ++gen_;
  // Every rank must have copied this rank's reduced parts of the previous step
  // before they are overwritten.
  wait_until(
      "gradient exchange of the previous step", deadline, [&] { return all_reached(done_, 0, gen_ - 1); },
      [&] { return below(done_, 0, gen_ - 1, "did not finish the step before"); });
  std::atomic_ref<std::int64_t>(*count_[rank_]).store(local_samples, std::memory_order_relaxed);
  next_reduce_ = 0;
  next_copy_ = 0;
  global_known_ = false;
  global_ = 0;
  in_step_ = true;
}

void SharedExchange::publish(std::size_t b, const float* grads) {
  float* mine = region_[rank_];
  for (int r = 0; r < size_ && grads != mine; ++r) {
    if (r == rank_) continue;
    const auto p = part(b, r);
    std::memcpy(mine + p.begin, grads + p.begin, static_cast<std::size_t>(p.end - p.begin) * sizeof(float));
  }
  store_release(ready_[rank_] + b, gen_);
}

void SharedExchange::reduce_own_part(std::size_t b, float* grads) {
  const auto p = part(b, rank_);
  auto& src = sources_;  // sized once: no allocation in the step
  for (int r = 0; r < size_; ++r) src[static_cast<std::size_t>(r)] = r == rank_ ? grads : region_[r];
  float* shared = region_[rank_];
  const float n = static_cast<float>(global_);
  const bool divide = global_ > 1;
  kernels::for_blocks(p.end - p.begin, kReduceBlock, [&](std::int64_t s, std::int64_t e) {
    alignas(64) float acc[kChunk];
    for (std::int64_t c = p.begin + s; c < p.begin + e; c += kChunk) {
      const auto m = std::min(kChunk, p.begin + e - c);
      std::copy_n(src[0] + c, m, acc);
      for (std::size_t r = 1; r < src.size(); ++r) {
        const float* x = src[r] + c;
        for (std::int64_t i = 0; i < m; ++i) acc[i] += x[i];
      }
      if (divide) {
        for (std::int64_t i = 0; i < m; ++i) acc[i] /= n;
      }
      std::copy_n(acc, m, grads + c);
      if (shared != grads) std::copy_n(acc, m, shared + c);
    }
  });
}

void SharedExchange::copy_other_parts(std::size_t b, float* grads) {
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    const auto p = part(b, r);
    std::memcpy(grads + p.begin, region_[r] + p.begin, static_cast<std::size_t>(p.end - p.begin) * sizeof(float));
  }
}

void SharedExchange::progress(float* grads) {
  const auto buckets = offsets_.size();
  while (next_reduce_ < buckets && all_reached(ready_, next_reduce_, gen_)) {
    if (!global_known_) {
      // Every rank stored its count before its first ready flag.
      for (int r = 0; r < size_; ++r) {
        global_ += std::atomic_ref<std::int64_t>(*count_[r]).load(std::memory_order_relaxed);
      }
      global_known_ = true;
    }
    reduce_own_part(next_reduce_, grads);
    store_release(reduced_[rank_] + next_reduce_, gen_);
    ++next_reduce_;
  }
  while (whole_ && next_copy_ < next_reduce_ && all_reached(reduced_, next_copy_, gen_)) {
    copy_other_parts(next_copy_++, grads);
  }
}

double SharedExchange::finish(float* grads, Clock::time_point deadline) {
  const double waited = wait_until(
      "gradient exchange", deadline,
      [&] {
        progress(grads);
        return complete_buckets() == offsets_.size();
      },
      [&] { return missing_in_exchange(); });
  store_release(done_[rank_], gen_);
  in_step_ = false;
  return waited;
}

namespace {

// This rank's two regions; holding the segment keeps them mapped.
template <class Segment>
class SegmentMemory final : public graph::ParameterMemory<float> {
 public:
  SegmentMemory(std::shared_ptr<Segment> segment, std::span<float> values, std::span<float> grads)
      : segment_(std::move(segment)), values_(values), grads_(grads) {}
  std::span<float> values() override { return values_; }
  std::span<float> grads() override { return grads_; }

 private:
  std::shared_ptr<Segment> segment_;
  std::span<float> values_, grads_;
};

}  // namespace

std::shared_ptr<graph::ParameterMemory<float>> SharedExchange::parameter_memory() const {
  const auto r = static_cast<std::size_t>(rank_);
  return std::make_shared<SegmentMemory<Segment>>(segment_, std::span<float>(values_[r], arena_),
                                                  std::span<float>(region_[r], arena_));
}

std::vector<std::pair<std::int64_t, std::int64_t>> SharedExchange::own_parts() const {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (std::size_t b = 0; b < offsets_.size(); ++b) {
    const auto p = part(b, rank_);
    if (p.begin < p.end) out.emplace_back(p.begin, p.end);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void SharedExchange::share_weights(float* values, Clock::time_point deadline) {
  // The others must have taken this rank's weights of the previous step.
  wait_until(
      "weight exchange of the previous step", deadline, [&] { return all_reached(weights_done_, 0, gen_ - 1); },
      [&] { return below(weights_done_, 0, gen_ - 1, "did not take the weights of the step before"); });
  float* mine = values_[rank_];
  for (std::size_t b = 0; b < offsets_.size() && values != mine; ++b) {
    const auto p = part(b, rank_);
    std::memcpy(mine + p.begin, values + p.begin, static_cast<std::size_t>(p.end - p.begin) * sizeof(float));
  }
  store_release(weights_[rank_], gen_);
  wait_until(
      "weight exchange", deadline, [&] { return all_reached(weights_, 0, gen_); },
      [&] { return below(weights_, 0, gen_, "did not deliver their updated weights at"); });
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    for (std::size_t b = 0; b < offsets_.size(); ++b) {
      const auto p = part(b, r);
      std::memcpy(values + p.begin, values_[r] + p.begin, static_cast<std::size_t>(p.end - p.begin) * sizeof(float));
    }
  }
  store_release(weights_done_[rank_], gen_);
}

double SharedExchange::wait_until(const char* what, Clock::time_point deadline, const std::function<bool()>& done,
                                  const std::function<Missing()>& missing) {
  const auto start = Clock::now();
  while (!done()) {
    const auto now = Clock::now();
    if (now >= deadline) report_stall(what, missing());
    if (now - start >= std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // probably stalling
    } else if (oversubscribed_) {
      std::this_thread::yield();  // the rank we wait for may need this core
    }
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// flags: one per rank (b = 0) or per rank and bucket.
SharedExchange::Missing SharedExchange::below(const std::vector<std::uint64_t*>& flags, std::size_t b,
                                              std::uint64_t gen, std::string what) const {
  Missing m{{}, std::move(what)};
  for (int r = 0; r < size_; ++r) {
    if (load_acquire(flags[static_cast<std::size_t>(r)] + b) < gen) m.ranks.push_back(r);
  }
  return m;
}

SharedExchange::Missing SharedExchange::missing_in_exchange() const {
  const auto b = complete_buckets();
  const std::string bucket = "gradient bucket " + std::to_string(b + 1) + "/" + std::to_string(offsets_.size());
  auto m = below(ready_, b, gen_, "did not deliver " + bucket + " at");
  if (m.ranks.empty()) m = below(reduced_, b, gen_, "did not sum their part of " + bucket + " at");
  return m;
}

void SharedExchange::report_stall(const char* what, const Missing& missing) {
  std::string ranks;
  for (int r : missing.ranks) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  std::ostringstream msg;
  msg << "stall at step " << ctx_.step << ": " << what << " in shared memory did not complete within "
      << ctx_.stall_timeout().count() << " s";
  if (missing.ranks.empty()) {
    msg << "; every rank arrived, so a rank stopped making progress inside it";
  } else {
    msg << "; missing rank(s): " << ranks << " (" << missing.what << " step " << ctx_.step << ")";
  }
  // The lowest rank that is not missing reports at once; the others give it a
  // grace period to end the job first, so that normally one rank prints.
  int reporter = 0;
  while (std::find(missing.ranks.begin(), missing.ranks.end(), reporter) != missing.ranks.end()) ++reporter;
  if (rank_ != reporter) {
    const auto grace = std::clamp(ctx_.stall_timeout() / 2, std::chrono::duration<double>(1.0),
                                  std::chrono::duration<double>(10.0));
    std::this_thread::sleep_for(grace);
    msg << "; rank " << reporter << " did not end the job";
  }
  ctx_.abort(msg.str(), ctx_.stall_exit_code);
}

}  // namespace dtrain::distributed::detail
