#include "context.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <thread>

namespace dtrain::distributed::detail {

namespace {

std::string mpi_error_text(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return std::string(text, static_cast<std::size_t>(len));
}

void check_init(int rc, const char* call) {
  if (rc != MPI_SUCCESS) throw MpiError(std::string("distributed: ") + call + " failed: " + mpi_error_text(rc));
}

// A process started without a launcher, or a job whose ranks all run on this
// host, talks through shared memory: Open MPI's default pml selection first
// probes UCX's network devices, which costs a noticeable part of MPI_Init and ends in ob1
// anyway on machines without InfiniBand. Ask for ob1 directly there; a pml
// the user chose (OMPI_MCA_pml) is kept, and multi-node jobs are left alone.
void prefer_shared_memory_pml() {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  const char* local_size = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  const bool launched = size != nullptr || std::getenv("PMIX_RANK") != nullptr || std::getenv("PMI_RANK") != nullptr;
  const bool one_host = size != nullptr && local_size != nullptr && std::string(size) == local_size;
  if (!launched || one_host) setenv("OMPI_MCA_pml", "ob1", /*overwrite=*/0);
}

// Between two MPI_Test calls. A non-blocking collective advances one round per
// MPI_Test, so sleeping (or sched_yield on a busy machine: much slower)
// while it runs multiplies its time. For the first second the loop spins on
// MPI_Test like MPI_Wait does (Open MPI yields inside its progress loop when
// the node is oversubscribed); after that the job is probably stalling and it
// sleeps 1 ms per turn. The deadline is checked on every turn.
void back_off(Clock::duration waited) {
  if (waited >= std::chrono::seconds(1)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::string seconds_text(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

}  // namespace

Context::Context(int* argc, char*** argv, const CommunicatorOptions& options)
    : stall_exit_code(options.stall_exit_code) {
  set_stall_timeout(options.stall_timeout);
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) throw Error("distributed: MPI was already finalized (create one Communicator per process)");
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = 0;
  if (!initialized) {
    prefer_shared_memory_pml();
    check_init(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    owns_init_ = true;
  } else {
    MPI_Query_thread(&provided);
  }
  try {
    if (provided < MPI_THREAD_FUNNELED) {
      throw MpiError("distributed: the MPI library gives thread level " + std::to_string(provided) +
                     ", below MPI_THREAD_FUNNELED");
    }
    check_init(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    check_init(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    if (size_ > 1) board_ = std::make_unique<ArrivalBoard>(MPI_COMM_WORLD, rank_, size_);
    tuning_.wanted = options.ring_allreduce && size_ > 1;
  } catch (...) {
    board_.reset();
    if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    if (owns_init_) MPI_Finalize();
    throw;
  }
}

Context::~Context() {
  // Finalizing would wait for ranks that are waiting for us: end the job instead.
  if (size_ > 1 && std::uncaught_exceptions() > 0) {
    abort("an exception left the scope of the MPI communicator at step " + std::to_string(step) +
              "; ending every rank (catch it inside and call Communicator::abort to report it)",
          1);
  }
  if (size_ > 1 && abandoned_) {
    abort("step " + std::to_string(abandoned_step_) +
              " was abandoned with gradient all-reduces in flight; ending every rank",
          1);
  }
  finalize_tuning();
  board_.reset();
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  if (owns_init_) MPI_Finalize();
}

// Open MPI's non-blocking all-reduce (coll/libnbc) picks a binomial reduce +
// broadcast whenever the buffer is MPI_IN_PLACE or there are fewer than 4 ranks
// (nbc_iallreduce.c, nbc_allreduce_init), which moves every byte through rank 0
// twice: about twice the time of libnbc's ring (reduce-scatter + all-gather),
// the speed of the blocking MPI_Allreduce (docs/benchmarks.md). So
// all-reduces of at least kRingMinBytes select the ring through the MPI tool
// interface (control variable "coll_libnbc_iallreduce_algorithm", scope ALL:
// set identically on every rank, as a function of the size only). Either way
// every rank gets the same bits: the ring reduces each segment on one rank and
// copies it to the others. With another MPI library the variable does not exist
// and nothing changes. The original value is restored at the end. The tool
// interface is opened at the first all-reduce that wants the ring, not in
// MPI_Init: MPI_T_init_thread registers every component's variables, a large
// part of a 2-rank job's start-up, and jobs on one host send their gradients
// through shared memory, so they never need it.
namespace {
constexpr std::size_t kRingMinBytes = 64 << 10;  // libnbc's own small-message bound
constexpr int kLibnbcDefault = 0;                 // "ignore": libnbc's own choice
constexpr int kLibnbcRing = 1;
}  // namespace

void Context::init_tuning() {
  tuning_.wanted = false;  // unless it works out below
  int provided = 0;
  if (MPI_T_init_thread(MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) return;
  int index = 0;
  int count = 0;
  if (MPI_T_cvar_get_index("coll_libnbc_iallreduce_algorithm", &index) != MPI_SUCCESS ||
      MPI_T_cvar_handle_alloc(index, nullptr, &tuning_.handle, &count) != MPI_SUCCESS || count != 1 ||
      MPI_T_cvar_read(tuning_.handle, &tuning_.original) != MPI_SUCCESS) {
    if (tuning_.handle != MPI_T_CVAR_HANDLE_NULL) MPI_T_cvar_handle_free(&tuning_.handle);
    MPI_T_finalize();
    return;
  }
  tuning_.current = tuning_.original;
  tuning_.enabled = true;
  tuning_.wanted = true;
}

void Context::finalize_tuning() noexcept {
  if (!tuning_.enabled) return;
  MPI_T_cvar_write(tuning_.handle, &tuning_.original);
  MPI_T_cvar_handle_free(&tuning_.handle);
  MPI_T_finalize();
  tuning_.enabled = false;
}

void Context::tune_iallreduce(std::size_t bytes) {
  if (!tuning_.wanted) return;
  if (!tuning_.enabled) {
    // Until the first large all-reduce libnbc's own choice is in effect, as wanted.
    if (bytes < kRingMinBytes) return;
    init_tuning();
    if (!tuning_.enabled) return;
  }
  const int wanted = bytes >= kRingMinBytes ? kLibnbcRing : kLibnbcDefault;
  if (wanted == tuning_.current) return;
  // Every rank must use the same algorithm: a rank that cannot switch must stop.
  const int rc = MPI_T_cvar_write(tuning_.handle, &wanted);
  if (rc != MPI_SUCCESS) {
    throw MpiError("distributed: MPI_T_cvar_write(coll_libnbc_iallreduce_algorithm) failed with code " +
                   std::to_string(rc));
  }
  tuning_.current = wanted;
}

void Context::set_stall_timeout(std::chrono::duration<double> timeout) {
  if (!(timeout.count() > 0)) {
    throw ArgumentError("distributed: stall_timeout must be positive, got " + std::to_string(timeout.count()) +
                        " s");
  }
  stall_timeout_ = timeout;
}

Clock::time_point Context::deadline_from_now() const {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(stall_timeout_);
}

std::uint64_t Context::begin_op(std::string_view label) {
  const auto seq = ++seq_;
  auto& rec = history_[seq % kHistory];
  rec.seq = seq;
  rec.step = step;
  const auto n = std::min(label.size(), rec.label.size() - 1);
  std::copy_n(label.data(), n, rec.label.data());
  rec.label[n] = '\0';
  if (board_) board_->announce(seq, step);
  return seq;
}

void Context::check(int rc, const char* call, std::uint64_t seq) const {
  if (rc == MPI_SUCCESS) return;
  throw MpiError("distributed: " + std::string(call) + " failed in " + describe(seq, step) + ": " +
                 mpi_error_text(rc));
}

bool Context::test(MPI_Request& request, std::uint64_t seq) {
  int flag = 0;
  check(MPI_Test(&request, &flag, MPI_STATUS_IGNORE), "MPI_Test", seq);
  return flag != 0;
}

double Context::wait(MPI_Request& request, std::uint64_t seq, Clock::time_point deadline) {
  const auto start = Clock::now();
  auto last_drain = start;
  int stage = 0;
  while (!test(request, seq)) {
    const auto now = Clock::now();
    if (board_ && now - last_drain > std::chrono::milliseconds(1)) {
      board_->drain();  // keeps the watchers' queues short and their view fresh
      last_drain = now;
    }
    if (now >= deadline) deadline = on_stall(seq, stage++);
    back_off(now - start);
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Context::describe(std::uint64_t seq, std::uint64_t step_hint) const {
  const auto& rec = history_[seq % kHistory];
  if (rec.seq == seq && seq != 0) {
    return std::string(rec.label.data()) + " at step " + std::to_string(rec.step);
  }
  return "operation #" + std::to_string(seq) + " at step " + std::to_string(step_hint);
}

std::string Context::stall_report(std::uint64_t seq) {
  const auto& rec = history_[seq % kHistory];
  const auto at_step = rec.seq == seq ? rec.step : step;
  std::string msg = "stall at step " + std::to_string(at_step) + ": " +
                    (rec.seq == seq ? std::string(rec.label.data()) : "operation #" + std::to_string(seq)) +
                    " did not complete within " + seconds_text(stall_timeout_.count()) + " s";
  if (!board_ || !board_->is_watcher()) return msg;
  board_->drain();
  std::string missing;
  std::string details;
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    const auto& seen = board_->seen(r);
    if (seen.seq >= seq_) continue;
    missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    details += "; rank " + std::to_string(r) + " last arrived at " +
               (seen.seq == 0 ? std::string("no operation") : describe(seen.seq, seen.step));
  }
  if (missing.empty()) {
    return msg + "; every rank arrived at " + describe(seq_, step) +
           ", so a rank stopped making progress inside it (or a network link failed)";
  }
  return msg + "; missing rank(s): " + missing + " (did not arrive at " + describe(seq_, step) + ")" +
         details;
}

Clock::time_point Context::on_stall(std::uint64_t seq, int stage) {
  const auto grace = std::chrono::duration_cast<Clock::duration>(
      std::clamp(stall_timeout_ / 2, std::chrono::duration<double>(1.0),
                 std::chrono::duration<double>(10.0)));
  if (rank_ == 0 || size_ == 1) abort(stall_report(seq), stall_exit_code);
  if (rank_ == 1) {
    board_->drain();
    const bool rank0_arrived = board_->seen(0).seq >= seq_;
    if (stage == 0 && rank0_arrived) return Clock::now() + grace;  // rank 0 should report
    abort(stall_report(seq) + (stage > 0 ? "; rank 0 did not end the job (it may be stopped)" : ""),
          stall_exit_code);
  }
  if (stage == 0) return Clock::now() + 2 * grace;
  abort(stall_report(seq) + "; the watcher ranks 0 and 1 did not end the job either, so one of them "
                            "is probably stopped",
        stall_exit_code);
}

void Context::abort(std::string_view message, int exit_code) noexcept {
  if (!aborting_.exchange(true)) {
    std::string line = "dtrain: error (rank " + std::to_string(rank_) + "): ";
    line.append(message);
    line += '\n';
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
  }
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

void Context::note_abandoned(std::uint64_t at_step) {
  abandoned_ = true;
  abandoned_step_ = at_step;
}

}  // namespace dtrain::distributed::detail
