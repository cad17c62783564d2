// ReplayWriter: a DecisionSink that writes one CSV row per transaction (id, score, decision,
// reasons, label) in input order, whatever order the shards finish in. Also counts a confusion
// matrix against the labels the input carries. consume() is thread-safe; rows are written by
// whichever shard thread completes the next batch in order.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/batch_tracker.h"
#include "engine/engine.h"

namespace fw {

struct ReplayCounts {
  uint64_t rows = 0;
  uint64_t by_action[3] = {0, 0, 0};
  // Flagged = REVIEW or BLOCK; among labelled transactions only.
  uint64_t tp = 0, fp = 0, fn = 0, tn = 0;
};

class ReplayWriter final : public DecisionSink {
 public:
  // `out` is an open file the writer writes to but does not close.
  explicit ReplayWriter(std::FILE* out);
  void consume(ScoredBatch&& batch) override;
  ReplayCounts counts() const;
  static std::string_view header();

 private:
  void write_batch(std::vector<ScoredBatch>& pieces);  // REQUIRES: mu_ held

  std::FILE* out_;
  mutable std::mutex mu_;
  BatchTracker tracker_;                                  // guarded by mu_
  std::map<uint64_t, std::vector<ScoredBatch>> waiting_;  // guarded by mu_
  std::vector<BatchTracker::Completed> completed_;        // guarded by mu_
  std::string buf_;                                       // guarded by mu_
  ReplayCounts counts_;                                   // guarded by mu_
};

}  // namespace fw
