#include "sinks/store_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fw {

StoreWriter::StoreWriter(Store& store, StoreWriterOptions options)
    : store_(store), options_(std::move(options)), queue_(options_.queue_pieces) {}

StoreWriter::~StoreWriter() { stop(); }

void StoreWriter::start() {
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

void StoreWriter::consume(ScoredBatch&& batch) {
  Item item(std::move(batch));
  queue_.push(item);
}

void StoreWriter::add_dead_letters(std::vector<DeadLetter> dead_letters) {
  if (dead_letters.empty()) return;
  Item item(std::move(dead_letters));
  queue_.push(item);
}

void StoreWriter::stop() {
  if (stopped_) return;
  stopped_ = true;
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

StoreWriterStats StoreWriter::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void StoreWriter::add(Item& item, WriteBatch& group, size_t& rows) {
  if (auto* dead = std::get_if<std::vector<DeadLetter>>(&item)) {
    for (DeadLetter& d : *dead) group.dead_letters.push_back(std::move(d));
    return;
  }
  ScoredBatch& batch = std::get<ScoredBatch>(item);
  for (Scored& s : batch.scored) {
    if (s.decision.action != Action::kAllow) group.alerts.push_back(make_alert(s.tx, s.decision));
    group.scored.push_back(std::move(s));
  }
  for (LabelEvent& l : batch.labels) group.labels.push_back(std::move(l));
  rows += batch.scored.size() + batch.labels.size();
  tracker_.piece_done(batch.seq, batch.pieces, batch.source_offset_end);
}

void StoreWriter::flush(WriteBatch& group, size_t& rows) {
  completed_.clear();
  tracker_.take_completed(completed_);
  int64_t checkpoint = -1;
  for (const auto& c : completed_) checkpoint = std::max(checkpoint, c.source_offset_end);
  if (!options_.checkpoint_source.empty() && checkpoint >= 0) {
    group.checkpoints.push_back({options_.checkpoint_source, checkpoint});
  }
  if (group.empty()) return;

  // Retry until the store takes it: an accepted transaction is never dropped. Meanwhile the
  // queue fills and consume() blocks, which pauses the engine (backpressure).
  auto backoff = std::chrono::milliseconds(50);
  for (;;) {
    Status st = store_.write(group);
    if (st.ok()) break;
    {
      std::lock_guard lock(stats_mu_);
      stats_.failed_writes++;
      stats_.healthy = false;
      stats_.last_error = st.error().message();
    }
    spdlog::error("store write of {} transactions failed, retrying in {} ms: {}",
                  group.scored.size(), backoff.count(), st.error().message());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  {
    std::lock_guard lock(stats_mu_);
    if (!stats_.healthy) spdlog::info("store writes recovered");
    stats_.healthy = true;
    stats_.stored += group.scored.size();
    stats_.alerts += group.alerts.size();
    stats_.labels += group.labels.size();
    stats_.dead_letters += group.dead_letters.size();
    stats_.writes++;
    if (!group.checkpoints.empty()) stats_.checkpoint = group.checkpoints.back().offset;
  }
  spdlog::debug("stored {} transactions, {} alerts; checkpoint {}", group.scored.size(),
                group.alerts.size(),
                group.checkpoints.empty() ? -1 : group.checkpoints.back().offset);
  group.clear();
  rows = 0;
}

void StoreWriter::run() {
  WriteBatch group;
  size_t rows = 0;
  auto group_started = std::chrono::steady_clock::now();
  for (;;) {
    std::optional<Item> item;
    if (group.empty()) {
      item = queue_.pop();  // nothing pending: wait as long as it takes
      if (!item) break;     // closed and drained
      group_started = std::chrono::steady_clock::now();
    } else {
      auto left = options_.max_delay - (std::chrono::steady_clock::now() - group_started);
      item = queue_.pop_for(std::max<std::chrono::steady_clock::duration>(left, {}));
    }
    if (item) add(*item, group, rows);
    bool due = std::chrono::steady_clock::now() - group_started >= options_.max_delay;
    if (rows >= options_.max_rows_per_write || due || !item) flush(group, rows);
  }
  flush(group, rows);  // the checkpoint of the last completed batches
}

}  // namespace fw
