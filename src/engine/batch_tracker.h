// BatchTracker: follows source batches that the engine split into one piece per shard, and
// reports which batches are complete, strictly in submission order. A sink uses it to know how
// far a source offset is covered (for checkpoints) or to emit results in input order.
// Single-threaded: owned by the sink's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace fw {

class BatchTracker {
 public:
  // Records that one piece of batch `seq` (of `pieces` in all) has arrived. Sequence numbers
  // start at 0 and have no gaps.
  void piece_done(uint64_t seq, uint32_t pieces, int64_t source_offset_end);

  // Appends the batches completed since the last call, in order, and forgets them.
  struct Completed {
    uint64_t seq;
    int64_t source_offset_end;
  };
  void take_completed(std::vector<Completed>& out);

  uint64_t next_expected() const { return next_; }
  size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    uint32_t remaining = 0;
    int64_t source_offset_end = -1;
  };
  std::map<uint64_t, Pending> pending_;
  uint64_t next_ = 0;
};

}  // namespace fw
