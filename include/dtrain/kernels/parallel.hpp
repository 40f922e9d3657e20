// Deterministic parallel loops on TBB, and the per-rank thread count.
//
//   kernels::ThreadScope threads(2);                 // at most 2 TBB workers
//   kernels::for_blocks(n, 1024, [&](std::int64_t b, std::int64_t e) { ... });
//
// Work is cut into blocks of a fixed size that never depends on the thread
// count; a block is always computed by the same code on the same data, and any
// partial results are combined by the caller in block order. That is what makes
// results bitwise identical with 1, 2 or 8 threads.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace dtrain::kernels {

// A non-owning reference to a callable (cheap to pass, keeps TBB out of headers).
template <class Sig>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit on purpose
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(a)...);
        }) {}
  R operator()(Args... a) const { return call_(object_, std::forward<Args>(a)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// Runs fn(begin, end) for the blocks [0,b), [b,2b), ... of [0, n), in parallel.
// Each block runs exactly once; blocks may run in any order and on any thread.
void for_blocks(std::int64_t n, std::int64_t block,
                FunctionRef<void(std::int64_t, std::int64_t)> fn);

inline std::int64_t block_count(std::int64_t n, std::int64_t block) {
  return n <= 0 ? 0 : (n + block - 1) / block;
}

// Number of cores this process may run on (its CPU affinity mask: what Slurm or
// mpirun's binding gave the rank).
int available_cores();

// The rank's thread pool: exactly `threads` threads for work run through run()
// (RAII over tbb::global_control + tbb::task_arena). threads <= 0 means
// available_cores(). More threads than cores is allowed (tests use it).
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;
  int threads() const { return threads_; }
  // Runs fn on this pool (nested parallel loops use its threads).
  void run(FunctionRef<void()> fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int threads_;
};

}  // namespace dtrain::kernels
