#include "dtrain/dist/replica_check.hpp"

#include <bit>
#include <cstring>
#include <algorithm>
#include <sstream>
#include <utility>
#include <vector>

namespace dtrain::dist {

namespace {

// XXH64 (Yann Collet, https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md),
// seed 0: four independent lanes over 32-byte stripes, so it runs at memory speed.
constexpr std::uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t kP5 = 0x27D4EB2F165667C5ULL;

std::uint64_t load64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;  // little-endian hosts (x86-64, aarch64) as the spec reads it
}

std::uint32_t load32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

std::uint64_t round(std::uint64_t acc, std::uint64_t input) {
  acc += input * kP2;
  acc = std::rotl(acc, 31);
  return acc * kP1;
}

std::uint64_t merge(std::uint64_t acc, std::uint64_t lane) {
  acc ^= round(0, lane);
  return acc * kP1 + kP4;
}

std::string hex(std::uint64_t v) {
  std::ostringstream out;
  out << "0x" << std::hex << v;
  return out.str();
}

}  // namespace

std::uint64_t checksum(std::span<const std::byte> bytes) {
  const std::byte* p = bytes.data();
  const std::byte* const end = p + bytes.size();
  std::uint64_t h;
  if (bytes.size() >= 32) {
    std::uint64_t v1 = kP1 + kP2, v2 = kP2, v3 = 0, v4 = 0 - kP1;
    for (; p + 32 <= end; p += 32) {
      v1 = round(v1, load64(p));
      v2 = round(v2, load64(p + 8));
      v3 = round(v3, load64(p + 16));
      v4 = round(v4, load64(p + 24));
    }
    h = std::rotl(v1, 1) + std::rotl(v2, 7) + std::rotl(v3, 12) + std::rotl(v4, 18);
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = kP5;
  }
  h += static_cast<std::uint64_t>(bytes.size());
  for (; p + 8 <= end; p += 8) h = std::rotl(h ^ round(0, load64(p)), 27) * kP1 + kP4;
  if (p + 4 <= end) {
    h = std::rotl(h ^ (static_cast<std::uint64_t>(load32(p)) * kP1), 23) * kP2 + kP3;
    p += 4;
  }
  for (; p < end; ++p) h = std::rotl(h ^ (static_cast<std::uint64_t>(*p) * kP5), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

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

}  // namespace dtrain::dist
