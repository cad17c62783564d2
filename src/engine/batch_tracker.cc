#include "engine/batch_tracker.h"

namespace fw {

void BatchTracker::piece_done(uint64_t seq, uint32_t pieces, int64_t source_offset_end) {
  auto [it, inserted] = pending_.try_emplace(seq, Pending{pieces, source_offset_end});
  it->second.remaining--;
}

void BatchTracker::take_completed(std::vector<Completed>& out) {
  for (auto it = pending_.begin(); it != pending_.end() && it->first == next_;) {
    if (it->second.remaining != 0) break;
    out.push_back({it->first, it->second.source_offset_end});
    it = pending_.erase(it);
    ++next_;
  }
}

}  // namespace fw
