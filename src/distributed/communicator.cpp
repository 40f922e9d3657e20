#include "dtrain/distributed/communicator.hpp"

#include "context.hpp"

#include "dtrain/distributed/gradient_reducer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <type_traits>

namespace dtrain::distributed {

namespace {

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }
template <>
MPI_Datatype mpi_type<std::int64_t>() { return MPI_INT64_T; }
template <>
MPI_Datatype mpi_type<std::uint64_t>() { return MPI_UINT64_T; }
template <>
MPI_Datatype mpi_type<std::byte>() { return MPI_BYTE; }

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, float>) return "floats";
  if constexpr (std::is_same_v<T, double>) return "doubles";
  if constexpr (std::is_same_v<T, std::int64_t>) return "int64";
  if constexpr (std::is_same_v<T, std::uint64_t>) return "uint64";
  return "bytes";
}

// The label for stall messages: the caller's, or "<verb> of <n> <type>". Written
// into a caller-owned buffer: no allocation per collective.
template <class T>
std::string_view label_for(std::string_view what, const char* verb, std::size_t n,
                           std::array<char, 96>& buf) {
  if (!what.empty()) return what;
  const int len = std::snprintf(buf.data(), buf.size(), "%s of %zu %s", verb, n, type_name<T>());
  return {buf.data(), static_cast<std::size_t>(std::clamp(len, 0, static_cast<int>(buf.size()) - 1))};
}

// Open MPI's all-reduce slows down sharply above 32 MiB (docs/benchmarks.md):
// large spans go in pieces.
template <class T>
constexpr std::size_t kChunk = kMaxBucketBytes / sizeof(T);

template <class T>
void allreduce(detail::Context& ctx, std::span<T> data, MPI_Op op, const char* verb,
               std::string_view what) {
  std::array<char, 96> buf;
  const auto label = label_for<T>(what, verb, data.size(), buf);
  for (std::size_t off = 0; off < data.size(); off += kChunk<T>) {
    const auto n = static_cast<int>(std::min(kChunk<T>, data.size() - off));
    ctx.run(label, "MPI_Iallreduce", [&](MPI_Request* r) {
      ctx.tune_iallreduce(static_cast<std::size_t>(n) * sizeof(T));
      return MPI_Iallreduce(MPI_IN_PLACE, data.data() + off, n, mpi_type<T>(), op, ctx.comm(), r);
    });
  }
}

template <class T>
void broadcast(detail::Context& ctx, std::span<T> data, int root, std::string_view what) {
  if (root < 0 || root >= ctx.size()) {
    throw ArgumentError("distributed: broadcast root " + std::to_string(root) + " outside [0, " +
                        std::to_string(ctx.size()) + ")");
  }
  std::array<char, 96> buf;
  const auto label = label_for<T>(what, "broadcast", data.size(), buf);
  for (std::size_t off = 0; off < data.size(); off += kChunk<T>) {
    const auto n = static_cast<int>(std::min(kChunk<T>, data.size() - off));
    ctx.run(label, "MPI_Ibcast", [&](MPI_Request* r) {
      return MPI_Ibcast(data.data() + off, n, mpi_type<T>(), root, ctx.comm(), r);
    });
  }
}

}  // namespace

Communicator::Communicator(CommunicatorOptions options)
    : ctx_(std::make_unique<detail::Context>(nullptr, nullptr, options)) {}

Communicator::Communicator(int& argc, char**& argv, CommunicatorOptions options)
    : ctx_(std::make_unique<detail::Context>(&argc, &argv, options)) {}

Communicator::~Communicator() = default;

int Communicator::rank() const { return ctx_->rank(); }
int Communicator::size() const { return ctx_->size(); }
void Communicator::set_step(std::uint64_t step) { ctx_->step = step; }
std::uint64_t Communicator::step() const { return ctx_->step; }
void Communicator::set_stall_timeout(std::chrono::duration<double> timeout) {
  ctx_->set_stall_timeout(timeout);
}
std::chrono::duration<double> Communicator::stall_timeout() const { return ctx_->stall_timeout(); }

void Communicator::allreduce_sum(std::span<float> data, std::string_view what) {
  allreduce(*ctx_, data, MPI_SUM, "all-reduce (sum)", what);
}
void Communicator::allreduce_sum(std::span<double> data, std::string_view what) {
  allreduce(*ctx_, data, MPI_SUM, "all-reduce (sum)", what);
}
void Communicator::allreduce_sum(std::span<std::int64_t> data, std::string_view what) {
  allreduce(*ctx_, data, MPI_SUM, "all-reduce (sum)", what);
}
void Communicator::allreduce_min(std::span<std::uint64_t> data, std::string_view what) {
  allreduce(*ctx_, data, MPI_MIN, "all-reduce (min)", what);
}
void Communicator::allreduce_max(std::span<std::uint64_t> data, std::string_view what) {
  allreduce(*ctx_, data, MPI_MAX, "all-reduce (max)", what);
}
std::uint64_t Communicator::allreduce_min(std::uint64_t value, std::string_view what) {
  allreduce_min(std::span<std::uint64_t>(&value, 1), what);
  return value;
}
std::uint64_t Communicator::allreduce_max(std::uint64_t value, std::string_view what) {
  allreduce_max(std::span<std::uint64_t>(&value, 1), what);
  return value;
}

std::vector<std::uint64_t> Communicator::allgather(std::uint64_t value, std::string_view what) {
  std::vector<std::uint64_t> all(static_cast<std::size_t>(size()), 0);
  all[static_cast<std::size_t>(rank())] = value;
  ctx_->run(what.empty() ? "all-gather of one uint64" : what, "MPI_Iallgather", [&](MPI_Request* r) {
    return MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all.data(), 1, MPI_UINT64_T,
                          ctx_->comm(), r);
  });
  return all;
}

void Communicator::broadcast(std::span<float> data, int root, std::string_view what) {
  distributed::broadcast(*ctx_, data, root, what);
}
void Communicator::broadcast(std::span<double> data, int root, std::string_view what) {
  distributed::broadcast(*ctx_, data, root, what);
}
void Communicator::broadcast(std::span<std::byte> data, int root, std::string_view what) {
  distributed::broadcast(*ctx_, data, root, what);
}
void Communicator::broadcast(std::string& text, int root, std::string_view what) {
  std::uint64_t n = text.size();
  distributed::broadcast(*ctx_, std::span<std::uint64_t>(&n, 1), root,
                  what.empty() ? "broadcast of a string's length" : what);
  text.resize(n);
  distributed::broadcast(*ctx_, std::as_writable_bytes(std::span<char>(text.data(), text.size())), root,
                  what.empty() ? "broadcast of a string" : what);
}

void Communicator::barrier(std::string_view what) {
  ctx_->run(what.empty() ? "barrier" : what, "MPI_Ibarrier",
            [&](MPI_Request* r) { return MPI_Ibarrier(ctx_->comm(), r); });
}

StepStatus Communicator::agree(StepStatus local) {
  constexpr auto kNone = std::numeric_limits<std::int64_t>::min();
  // MAX over ranks: OR of the flags, and -(lowest rank with error).
  std::int64_t v[4] = {local.stop, local.checkpoint, local.error, local.error ? -rank() : kNone};
  ctx_->run("step status agreement", "MPI_Iallreduce", [&](MPI_Request* r) {
    ctx_->tune_iallreduce(sizeof v);
    return MPI_Iallreduce(MPI_IN_PLACE, v, 4, MPI_INT64_T, MPI_MAX, ctx_->comm(), r);
  });
  StepStatus out;
  out.stop = v[0] != 0;
  out.checkpoint = v[1] != 0;
  out.error = v[2] != 0;
  out.error_rank = out.error ? static_cast<int>(-v[3]) : -1;
  return out;
}

void Communicator::abort(std::string_view message, int exit_code) noexcept {
  ctx_->abort(message, exit_code);
}

}  // namespace dtrain::distributed
