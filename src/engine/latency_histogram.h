// LatencyHistogram: a fixed log-linear histogram of nanosecond latencies (8 sub-buckets per
// power of two, so any percentile is within 12.5% of the true value). Plain version for one
// thread, and AtomicLatencyHistogram that one writer thread merges into while others read.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace fw {

inline constexpr int kLatencyBuckets = 64 * 8;

// Bucket index of a value (ns). Values below 8 map to themselves.
inline int latency_bucket(uint64_t v) {
  if (v < 8) return static_cast<int>(v);
  int msb = 63 - __builtin_clzll(v);
  int sub = static_cast<int>((v >> (msb - 3)) & 7);
  return (msb - 2) * 8 + sub;
}

// The smallest value that maps to a bucket.
inline uint64_t latency_bucket_floor(int b) {
  if (b < 8) return static_cast<uint64_t>(b);
  int msb = b / 8 + 2;
  uint64_t sub = static_cast<uint64_t>(b % 8);
  return (uint64_t{1} << msb) | (sub << (msb - 3));
}

// Single-threaded histogram.
class LatencyHistogram {
 public:
  void record(uint64_t ns) {
    ++counts_[latency_bucket(ns)];
    ++total_;
  }
  void add_to_bucket(int bucket, uint64_t n) {
    counts_[bucket] += n;
    total_ += n;
  }
  void merge(const LatencyHistogram& other);
  uint64_t total() const { return total_; }
  // The value at quantile q in [0, 1] (upper edge of its bucket); 0 when empty.
  uint64_t percentile(double q) const;
  void clear() { *this = LatencyHistogram(); }
  const std::array<uint64_t, kLatencyBuckets>& counts() const { return counts_; }

 private:
  std::array<uint64_t, kLatencyBuckets> counts_{};
  uint64_t total_ = 0;
};

// Written by one thread (merge_from), read by any (snapshot). Relaxed atomics: a snapshot may
// mix two merges, which is acceptable for monitoring.
class AtomicLatencyHistogram {
 public:
  void merge_from(const LatencyHistogram& h);
  LatencyHistogram snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kLatencyBuckets> counts_{};
};

}  // namespace fw
