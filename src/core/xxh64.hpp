// XXH64, the 64-bit xxHash (Yann Collet): checkpoint and dataset fingerprint
// checksums (src/checkpoint) and the replica check of the weights (src/distributed).
// Private to src/.
//
//   std::uint64_t h = xxh64(bytes.data(), bytes.size());   // one buffer
//   Xxh64 s; s.update(a, na); s.update(b, nb); s.digest(); // streaming, same result
//
// Follows the algorithm of xxHash's doc/xxhash_spec.md (XXH64 section); the test
// checks the published digests of "", "a" and "abc" and streaming == one-shot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dtrain {

std::uint64_t xxh64(const void* data, std::size_t size, std::uint64_t seed = 0);

class Xxh64 {
 public:
  explicit Xxh64(std::uint64_t seed = 0);
  void update(const void* data, std::size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::uint64_t digest() const;

 private:
  std::uint64_t seed_;
  std::uint64_t acc_[4];
  unsigned char buf_[32];
  std::size_t buffered_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace dtrain
