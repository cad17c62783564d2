#include "engine/latency_histogram.h"

namespace fw {

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (int i = 0; i < kLatencyBuckets; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

uint64_t LatencyHistogram::percentile(double q) const {
  if (total_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_));
  if (rank >= total_) rank = total_ - 1;
  uint64_t seen = 0;
  for (int i = 0; i < kLatencyBuckets; ++i) {
    seen += counts_[i];
    if (seen > rank) return i + 1 < kLatencyBuckets ? latency_bucket_floor(i + 1) - 1 : UINT64_MAX;
  }
  return UINT64_MAX;
}

void AtomicLatencyHistogram::merge_from(const LatencyHistogram& h) {
  const auto& c = h.counts();
  for (int i = 0; i < kLatencyBuckets; ++i) {
    if (c[i] != 0) counts_[i].fetch_add(c[i], std::memory_order_relaxed);
  }
}

LatencyHistogram AtomicLatencyHistogram::snapshot() const {
  LatencyHistogram h;
  for (int i = 0; i < kLatencyBuckets; ++i) {
    h.add_to_bucket(i, counts_[i].load(std::memory_order_relaxed));
  }
  return h;
}

}  // namespace fw
