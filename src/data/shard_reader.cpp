#include "dtrain/data/shard_reader.hpp"

#include "dtrain/data/error.hpp"
#include "dtrain/data/shuffle.hpp"
#include "hdf5/errors.hpp"
#include "row_source.hpp"

#include <array>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

namespace dtrain::data {
namespace {

struct Slot {
  AlignedVector<float> x, y;
  std::vector<std::int64_t> rows;
  Batch batch;
  bool ready = false;
  std::exception_ptr error;
};

const SplitInfo& checked_split(const DatasetInfo& info, const ShardReaderOptions& o) {
  const SplitInfo& s = info.split(o.split);
  if (o.world_size >= 1 && s.rows < o.world_size) {
    throw DataError(info.path + ": " + s.x_path() + " has " + std::to_string(s.rows) +
                    " rows, fewer than the " + std::to_string(o.world_size) +
                    " ranks (every rank needs at least one row)");
  }
  if (o.rank < 0 || o.rank >= o.world_size) {
    throw ArgumentError("rank " + std::to_string(o.rank) + " outside [0, " +
                        std::to_string(o.world_size) + ")");
  }
  return s;
}

}  // namespace

struct ShardReader::Impl {
  ShardReaderOptions options;
  DatasetInfo info;
  SplitInfo split;
  BatchPlan plan;
  RowSource source;  // used by the worker thread (or by next() without prefetch)
  std::string labels;  // "file /train/y", named by label errors (Batch::labels)
  std::vector<std::int64_t> order;
  std::int64_t epoch = -1;
  std::int64_t next_step = 0;
  std::array<Slot, 2> slots;
  int current = 0;
  bool failed = false;

  std::mutex mu;
  std::condition_variable cv;
  int job = -1;       // slot waiting to be filled by the worker
  std::int64_t job_step = 0;
  bool busy = false;
  bool stop = false;
  std::thread worker;

  explicit Impl(const ShardReaderOptions& o)
      : options(o),
        info(read_dataset_info(o.path)),
        split(checked_split(info, o)),
        plan(split.rows, o.global_batch, o.world_size, o.drop_remainder),
        source(info, split, RowSource::Access::kRandom, o.direct_reads),
        labels(info.path + " " + split.y_path()) {
    if (o.check_stripe) {
      const auto n = split.rows;
      validate_rows(info, split, n * o.rank / o.world_size, n * (o.rank + 1) / o.world_size);
    }
    const auto cap = plan.max_part();
    for (auto& s : slots) {
      s.x.assign(static_cast<std::size_t>(cap * split.features()), 0.0f);
      s.y.assign(static_cast<std::size_t>(cap * split.targets), 0.0f);
      s.rows.reserve(static_cast<std::size_t>(cap));
    }
    if (o.prefetch) worker = std::thread([this] { work(); });
  }

  ~Impl() {
    if (worker.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu);
        stop = true;
      }
      cv.notify_all();
      worker.join();
    }
  }

  void fill(Slot& s, std::int64_t step) {
    const BatchPart part = plan.part(step, options.rank);
    const auto begin = order.begin() + part.offset;
    s.rows.assign(begin, begin + part.count);
    source.read_rows(s.rows, s.x.data(), s.y.data());
    Shape xs = split.sample_shape;
    Shape full{part.count};
    for (int i = 0; i < xs.rank(); ++i) full.push_back(xs[i]);
    s.batch.x = View<const float>{s.x.data(), full};
    s.batch.y = split.task == Task::kClassification && split.y_rank == 1
                    ? View<const float>{s.y.data(), Shape{part.count}}
                    : View<const float>{s.y.data(), Shape{part.count, split.targets}};
    s.batch.size = part.count;
    s.batch.global_size = plan.global_count(step);
    s.batch.offset = part.offset - step * plan.global_batch();
    s.batch.epoch = epoch;
    s.batch.step = step;
    s.batch.rows = s.rows;
    s.batch.labels = labels;
  }

  void fill_guarded(Slot& s, std::int64_t step) {
    try {
      fill(s, step);
      s.error = nullptr;
    } catch (...) {
      s.error = std::current_exception();
    }
  }

  void work() {
    hdf5::silence_errors();  // the HDF5 error stack settings are per thread
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [this] { return stop || job >= 0; });
      if (stop) return;
      const int slot = job;
      const auto step = job_step;
      job = -1;
      busy = true;
      lock.unlock();
      fill_guarded(slots[static_cast<std::size_t>(slot)], step);
      lock.lock();
      slots[static_cast<std::size_t>(slot)].ready = true;
      busy = false;
      cv.notify_all();
    }
  }

  void schedule(int slot, std::int64_t step) {
    auto& s = slots[static_cast<std::size_t>(slot)];
    if (!options.prefetch) {
      s.ready = false;
      return;  // filled on demand in next()
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      s.ready = false;
      job = slot;
      job_step = step;
    }
    cv.notify_all();
  }

  void wait_idle() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [this] { return job < 0 && !busy; });
  }

  void start_epoch(std::int64_t e, std::int64_t first_step) {
    if (first_step < 0 || first_step > plan.steps()) {
      throw ArgumentError("start_epoch: first_step " + std::to_string(first_step) + " outside [0, " +
                          std::to_string(plan.steps()) + "]");
    }
    wait_idle();
    if (options.shuffle) {
      order = epoch_permutation(split.rows, options.seed, e);
    } else {
      order.resize(static_cast<std::size_t>(split.rows));
      std::iota(order.begin(), order.end(), std::int64_t{0});
    }
    epoch = e;
    next_step = first_step;
    current = 0;
    failed = false;
    for (auto& s : slots) s.ready = false;
    if (next_step < plan.steps()) schedule(current, next_step);
  }

  const Batch* next() {
    if (epoch < 0) throw ArgumentError("ShardReader::next: call start_epoch first");
    if (failed) throw ArgumentError("ShardReader::next: a read failed; call start_epoch again");
    if (next_step >= plan.steps()) return nullptr;
    Slot& s = slots[static_cast<std::size_t>(current)];
    if (options.prefetch) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return s.ready; });
    } else {
      fill_guarded(s, next_step);
      s.ready = true;
    }
    if (s.error) {
      failed = true;
      std::rethrow_exception(s.error);
    }
    if (next_step + 1 < plan.steps()) schedule(1 - current, next_step + 1);
    current = 1 - current;
    ++next_step;
    return &s.batch;
  }
};

ShardReader::ShardReader(const ShardReaderOptions& options) {
  hdf5::silence_errors();
  impl_ = std::make_unique<Impl>(options);
}
ShardReader::~ShardReader() = default;
ShardReader::ShardReader(ShardReader&&) noexcept = default;
ShardReader& ShardReader::operator=(ShardReader&&) noexcept = default;

const DatasetInfo& ShardReader::dataset() const { return impl_->info; }
const SplitInfo& ShardReader::split() const { return impl_->split; }
const BatchPlan& ShardReader::plan() const { return impl_->plan; }
const ShardReaderOptions& ShardReader::options() const { return impl_->options; }
void ShardReader::start_epoch(std::int64_t epoch, std::int64_t first_step) {
  impl_->start_epoch(epoch, first_step);
}
const Batch* ShardReader::next() { return impl_->next(); }
bool ShardReader::reads_directly() const { return impl_->source.direct_x(); }
std::span<const std::int64_t> ShardReader::epoch_order() const { return impl_->order; }

}  // namespace dtrain::data
