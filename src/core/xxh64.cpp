#include "core/xxh64.hpp"

#include <cstring>

namespace dtrain {
namespace {

constexpr std::uint64_t kP1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t kP2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t kP3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t kP4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t kP5 = 0x27D4EB2F165667C5ULL;

constexpr std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian loads (the spec reads lanes as little-endian; x86 is).
std::uint64_t read64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
std::uint32_t read32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

constexpr std::uint64_t round(std::uint64_t acc, std::uint64_t lane) {
  acc += lane * kP2;
  acc = rotl(acc, 31);
  return acc * kP1;
}

constexpr std::uint64_t merge(std::uint64_t acc, std::uint64_t lane_acc) {
  acc ^= round(0, lane_acc);
  return acc * kP1 + kP4;
}

void init(std::uint64_t (&acc)[4], std::uint64_t seed) {
  acc[0] = seed + kP1 + kP2;
  acc[1] = seed + kP2;
  acc[2] = seed;
  acc[3] = seed - kP1;
}

// Consumes whole 32-byte stripes; returns the bytes consumed.
std::size_t stripes(std::uint64_t (&acc)[4], const unsigned char* p, std::size_t size) {
  std::uint64_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  std::size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    a0 = round(a0, read64(p + i));
    a1 = round(a1, read64(p + i + 8));
    a2 = round(a2, read64(p + i + 16));
    a3 = round(a3, read64(p + i + 24));
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
  return i;
}

std::uint64_t finish(const std::uint64_t (&acc)[4], std::uint64_t seed, std::uint64_t total,
                     const unsigned char* tail, std::size_t n) {
  std::uint64_t h;
  if (total >= 32) {
    h = rotl(acc[0], 1) + rotl(acc[1], 7) + rotl(acc[2], 12) + rotl(acc[3], 18);
    for (std::uint64_t a : acc) h = merge(h, a);
  } else {
    h = seed + kP5;
  }
  h += total;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    h ^= round(0, read64(tail + i));
    h = rotl(h, 27) * kP1 + kP4;
  }
  if (i + 4 <= n) {
    h ^= static_cast<std::uint64_t>(read32(tail + i)) * kP1;
    h = rotl(h, 23) * kP2 + kP3;
    i += 4;
  }
  for (; i < n; ++i) {
    h ^= tail[i] * kP5;
    h = rotl(h, 11) * kP1;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

}  // namespace

std::uint64_t xxh64(const void* data, std::size_t size, std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t acc[4];
  init(acc, seed);
  const std::size_t done = stripes(acc, p, size);
  return finish(acc, seed, size, p + done, size - done);
}

Xxh64::Xxh64(std::uint64_t seed) : seed_(seed) { init(acc_, seed); }

void Xxh64::update(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  total_ += size;
  if (buffered_ > 0) {
    const std::size_t take = size < 32 - buffered_ ? size : 32 - buffered_;
    std::memcpy(buf_ + buffered_, p, take);
    buffered_ += take;
    p += take;
    size -= take;
    if (buffered_ < 32) return;
    stripes(acc_, buf_, 32);
    buffered_ = 0;
  }
  const std::size_t done = stripes(acc_, p, size);
  std::memcpy(buf_, p + done, size - done);
  buffered_ = size - done;
}

std::uint64_t Xxh64::digest() const { return finish(acc_, seed_, total_, buf_, buffered_); }

}  // namespace dtrain
