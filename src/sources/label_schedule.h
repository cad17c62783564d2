// LabelSchedule: late labels (analyst verdicts, chargebacks) read from a JSON-lines file such as
// the simulator's history labels.jsonl (docs/transaction-format.md, "Labels"), handed out in
// labelled_at order as replayed time reaches them, so no feature sees a label before it arrived.
// Owned and used by the one thread that replays a history; not thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "model/transaction.h"

namespace fw {

// Label files larger than this are refused: labels are held in memory (about 200 bytes each).
inline constexpr uint64_t kMaxLabelFileBytes = uint64_t{4} << 30;

class LabelSchedule {
 public:
  LabelSchedule() = default;

  // Reads every label of `path`. Bad lines become dead letters (rejected()), named
  // "file:<path>:<line>" with the field and reason; they never stop the load. Errors: the file
  // cannot be opened or read, or is over kMaxLabelFileBytes. `clock` stamps the dead letters'
  // received_at (not owned; may be null).
  static Result<LabelSchedule> load(const std::string& path, const Clock* clock = nullptr);

  // The same schedule over labels already read (e.g. Store::label_events()): ordered by
  // labelled_at, ties in the given order. Events with Label::kUnknown are dropped.
  static LabelSchedule from_events(std::vector<LabelEvent> events);

  // Moves the labels with labelled_at <= now that were not handed out yet into `out`, in
  // labelled_at order (ties in file order).
  void take_due(Timestamp now, std::vector<LabelEvent>& out);

  // The label the file gives a transaction (the last one in labelled_at order when it has
  // several), whether or not it is due yet: for reports that compare decisions with the truth.
  std::optional<Label> final_label(const std::string& transaction_id) const;

  size_t size() const { return labels_.size(); }
  size_t remaining() const { return labels_.size() - next_; }
  const std::vector<DeadLetter>& rejected() const { return rejected_; }

 private:
  std::vector<LabelEvent> labels_;  // sorted by labelled_at
  size_t next_ = 0;                 // labels_[0, next_) were handed out
  std::unordered_map<std::string, Label> final_;
  std::vector<DeadLetter> rejected_;
};

}  // namespace fw
