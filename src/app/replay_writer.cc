#include "app/replay_writer.h"

#include <fmt/format.h>

#include "model/csv_codec.h"

namespace fw {

ReplayWriter::ReplayWriter(std::FILE* out) : out_(out) {
  std::fputs(header().data(), out_);
  std::fputc('\n', out_);
}

std::string_view ReplayWriter::header() { return "id,score,decision,reasons,label"; }

void ReplayWriter::consume(ScoredBatch&& batch) {
  std::lock_guard lock(mu_);
  uint64_t seq = batch.seq;
  tracker_.piece_done(seq, batch.pieces, batch.source_offset_end);
  waiting_[seq].push_back(std::move(batch));
  completed_.clear();
  tracker_.take_completed(completed_);
  for (const auto& c : completed_) {
    auto it = waiting_.find(c.seq);
    write_batch(it->second);
    waiting_.erase(it);
  }
}

void ReplayWriter::write_batch(std::vector<ScoredBatch>& pieces) {
  size_t total = 0;
  for (const auto& p : pieces) total += p.scored.size();
  std::vector<const Scored*> ordered(total, nullptr);
  for (const auto& p : pieces) {
    for (size_t i = 0; i < p.scored.size(); ++i) ordered[p.positions[i]] = &p.scored[i];
  }
  buf_.clear();
  for (const Scored* s : ordered) {
    const Decision& d = s->decision;
    append_csv_cell(buf_, s->tx.id);
    buf_ += fmt::format(",{:.4f},{},", d.score, to_string(d.action));
    std::string reasons;
    for (const Reason& r : d.reasons) {
      if (!reasons.empty()) reasons += "; ";
      reasons += r.rule_id + ": " + r.detail;
    }
    append_csv_cell(buf_, reasons);
    buf_ += s->tx.label == Label::kFraud   ? ",fraud\n"
            : s->tx.label == Label::kLegit ? ",legit\n"
                                           : ",\n";
    counts_.rows++;
    counts_.by_action[static_cast<int>(d.action)]++;
    bool flagged = d.action != Action::kAllow;
    if (s->tx.label == Label::kFraud) (flagged ? counts_.tp : counts_.fn)++;
    if (s->tx.label == Label::kLegit) (flagged ? counts_.fp : counts_.tn)++;
  }
  std::fwrite(buf_.data(), 1, buf_.size(), out_);
}

ReplayCounts ReplayWriter::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace fw
