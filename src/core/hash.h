// Fast non-cryptographic 64-bit hashing of identifiers, for routing and state-table keys.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace fw {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Hash of an identifier string. Never returns 0, which state tables use for "empty slot".
// Collisions between two distinct ids are possible in principle (probability about n^2 / 2^65);
// with 10^7 accounts that is about 3e-6 over the whole population.
inline uint64_t hash_id(std::string_view s) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (s.size() * 0x100000001b3ULL);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = mix64(h ^ w) * 0x9e3779b97f4a7c15ULL;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = mix64(h ^ tail ^ (static_cast<uint64_t>(s.size() - i) << 56));
  return h == 0 ? 1 : h;
}

}  // namespace fw
