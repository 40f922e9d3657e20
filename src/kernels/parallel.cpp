#include "dtrain/kernels/parallel.hpp"

#include <sched.h>

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace dtrain::kernels {

void for_blocks(std::int64_t n, std::int64_t block,
                FunctionRef<void(std::int64_t, std::int64_t)> fn) {
  const std::int64_t blocks = block_count(n, block);
  if (blocks == 0) return;
  if (blocks == 1) {
    fn(0, n);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<std::int64_t>(0, blocks, 1),
      [&](const tbb::blocked_range<std::int64_t>& r) {
        for (std::int64_t b = r.begin(); b != r.end(); ++b) {
          const std::int64_t begin = b * block;
          fn(begin, std::min(n, begin + block));
        }
      },
      tbb::simple_partitioner());
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

struct ThreadScope::Impl {
  explicit Impl(int n)
      : control(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(n)), arena(n) {}
  tbb::global_control control;
  tbb::task_arena arena;
};

ThreadScope::ThreadScope(int threads)
    : threads_(threads > 0 ? threads : available_cores()) {
  impl_ = std::make_unique<Impl>(threads_);
}

ThreadScope::~ThreadScope() = default;

void ThreadScope::run(FunctionRef<void()> fn) {
  impl_->arena.execute([&] { fn(); });
}

}  // namespace dtrain::kernels
