#include "dtrain/distributed/replica_check.hpp"

#include "core/xxh64.hpp"

#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

namespace dtrain::distributed {

namespace {

std::string hex(std::uint64_t v) {
  std::ostringstream out;
  out << "0x" << std::hex << v;
  return out.str();
}

}  // namespace

std::uint64_t checksum(std::span<const std::byte> bytes) { return xxh64(bytes.data(), bytes.size()); }

std::uint64_t checksum(std::span<const float> values) { return checksum(std::as_bytes(values)); }

void check_replicas(Communicator& comm, std::span<const float> weights, std::uint64_t step) {
  const auto mine = checksum(weights);
  std::uint64_t range[2] = {mine, ~mine};  // min of ~x is ~max of x: one all-reduce
  comm.allreduce_min(std::span<std::uint64_t>(range, 2), "replica checksum comparison");
  if (range[0] == ~range[1]) return;
  // Every rank saw the mismatch; gather the checksums to name the ranks.
  const auto all = comm.allgather(mine, "replica checksum gather");
  // Groups of ranks with equal checksums, in the order of their lowest rank.
  std::vector<std::pair<std::uint64_t, std::string>> groups;
  for (std::size_t r = 0; r < all.size(); ++r) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == all[r]; });
    if (it == groups.end()) {
      groups.emplace_back(all[r], std::to_string(r));
    } else {
      it->second += ", " + std::to_string(r);
    }
  }
  std::string detail;
  for (const auto& [sum, ranks] : groups) {
    detail += (detail.empty() ? "" : "; ") + hex(sum) + " on rank(s) " + ranks;
  }
  throw ReplicaMismatch("replica mismatch at step " + std::to_string(step) + ": the " +
                            std::to_string(weights.size()) +
                            " weights differ across ranks (checksums " + detail + ")",
                        step);
}

}  // namespace dtrain::distributed
