// Replica check: are the weights bitwise equal on every rank?
//
//   if (step % 100 == 0) distributed::check_replicas(comm, graph.parameter_values(), step);
//   // throws distributed::ReplicaMismatch on every rank if any replica differs
//
// A 64-bit hash of the weight bytes is compared with one all-reduce of its
// minimum and maximum; only on a mismatch are all the hashes gathered to name
// the ranks. The decision is collective, so every rank throws together and the
// caller can end the run cleanly.
#pragma once

#include "dtrain/core/error.hpp"
#include "dtrain/distributed/communicator.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace dtrain::distributed {

class ReplicaMismatch : public Error {
 public:
  ReplicaMismatch(const std::string& what, std::uint64_t step) : Error(what), step_(step) {}
  std::uint64_t step() const { return step_; }

 private:
  std::uint64_t step_;
};

// A 64-bit hash of the bytes (four xxHash64-style lanes; not cryptographic).
// Any single changed bit changes it; the same bytes give the same value on
// every rank and every run.
std::uint64_t checksum(std::span<const std::byte> bytes);
std::uint64_t checksum(std::span<const float> values);

// Collective. Throws ReplicaMismatch ("replica mismatch at step S: ...", naming
// the ranks and their checksums) on every rank if the weights differ anywhere.
void check_replicas(Communicator& comm, std::span<const float> weights, std::uint64_t step);

}  // namespace dtrain::distributed
