#include "sinks/store_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <unordered_set>

#include "model/json_codec.h"

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

void StoreWriter::run_after_flush(Task task) {
  Item item(std::move(task));
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
  if (auto* task = std::get_if<Task>(&item)) {
    flush(group, rows);
    (*task)(store_, !abandoned_any_);
    return;
  }
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
  const uint64_t durable_seq = completed_.empty() ? 0 : completed_.back().seq;
  auto report = [&] {
    if (on_durable_ && !completed_.empty() && !abandoned_any_) {
      on_durable_(durable_seq);
    }
  };
  if (group.empty()) {
    report();
    return;
  }

  // Once anything was abandoned, nothing later may be written: its checkpoint would cover
  // the abandoned transactions, which the source must re-read on restart.
  bool abandon = abandoned_any_;
  if (!abandon) {
    for (DeadLetter& d : group.dead_letters) sanitize_dead_letter(d);
    abandon = !write_isolating(group);
  }
  if (abandon) {
    abandoned_any_ = true;
    std::lock_guard lock(stats_mu_);
    stats_.abandoned += group.scored.size();
  }
  report();
  group.clear();
  rows = 0;
}

bool StoreWriter::giving_up() const {
  std::lock_guard lock(give_up_mu_);
  return give_up_at_ && std::chrono::steady_clock::now() >= *give_up_at_;
}

void StoreWriter::give_up_at(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(give_up_mu_);
    if (!give_up_at_ || deadline < *give_up_at_) give_up_at_ = deadline;  // the earliest wins
  }
  give_up_cv_.notify_all();
}

void StoreWriter::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(give_up_mu_);
  auto until = std::chrono::steady_clock::now() + d;
  give_up_cv_.wait_until(
      lock, until, [&] { return give_up_at_ && std::chrono::steady_clock::now() >= *give_up_at_; });
  if (give_up_at_ && *give_up_at_ < until && std::chrono::steady_clock::now() < *give_up_at_) {
    give_up_cv_.wait_until(lock, *give_up_at_);
  }
}

// Written once per batch: a transient failure is retried with backoff until the store takes it
// (meanwhile the queue fills and consume() blocks, which pauses the engine) or the give-up
// deadline passes. Returns the permanent error, if any.
StoreWriter::Attempt StoreWriter::write_with_retry(const WriteBatch& part) {
  auto backoff = std::chrono::milliseconds(50);
  for (;;) {
    Status st = store_.write(part);
    if (st.ok()) return {Attempt::kStored, {}};
    if (is_permanent(st.error())) return {Attempt::kRefused, st.error()};
    {
      std::lock_guard lock(stats_mu_);
      stats_.failed_writes++;
      stats_.healthy = false;
      stats_.last_error = st.error().message();
    }
    if (giving_up()) {
      spdlog::error(
          "store write of {} transactions failed and the shutdown deadline has "
          "passed; giving up: {}",
          part.scored.size(), st.error().message());
      return {Attempt::kGaveUp, st.error()};
    }
    spdlog::error("store write of {} transactions failed, retrying in {} ms: {}",
                  part.scored.size(), backoff.count(), st.error().message());
    pause(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

namespace {

// Keeps only bytes every text column accepts: printable ASCII. Dead letter text (source,
// field, reason) is for people; the raw input is kept byte for byte separately.
void sanitize_text(std::string& s) {
  for (char& c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) c = '?';
  }
}

// Moves the first `n` transactions of `from` (with their alerts) into a new batch; labels,
// dead letters and checkpoints stay in `from`, which is written last.
WriteBatch take_front(WriteBatch& from, size_t n) {
  WriteBatch front;
  std::unordered_set<std::string> ids;
  for (size_t i = 0; i < n; ++i) ids.insert(from.scored[i].tx.id);
  front.scored.assign(std::make_move_iterator(from.scored.begin()),
                      std::make_move_iterator(from.scored.begin() + static_cast<ptrdiff_t>(n)));
  from.scored.erase(from.scored.begin(), from.scored.begin() + static_cast<ptrdiff_t>(n));
  std::vector<Alert> rest;
  for (Alert& a : from.alerts) {
    if (ids.count(a.transaction_id) != 0) {
      front.alerts.push_back(std::move(a));
    } else {
      rest.push_back(std::move(a));
    }
  }
  from.alerts = std::move(rest);
  return front;
}

}  // namespace

void StoreWriter::sanitize_dead_letter(DeadLetter& d) {
  sanitize_text(d.source);
  sanitize_text(d.field);
  sanitize_text(d.reason);
}

DeadLetter StoreWriter::refused_dead_letter(std::string raw, Timestamp at, const Error& e) const {
  DeadLetter d;
  d.source = options_.checkpoint_source.empty() ? "store" : "store:" + options_.checkpoint_source;
  d.raw = std::move(raw);
  d.field = e.field;
  d.reason = "the store refused it: " + e.reason;
  d.received_at = at;
  sanitize_dead_letter(d);
  return d;
}

// Writes `part`; when the store refuses it for good, halves it until each refused transaction
// (or label) stands alone, and writes that one as a dead letter instead. The checkpoint, the
// labels and the dead letters stay in the last half, so the checkpoint is committed only once
// everything before it is stored. Returns false when given up.
bool StoreWriter::write_isolating(WriteBatch& part) {
  Attempt a = write_with_retry(part);
  if (a.outcome == Attempt::kGaveUp) return false;
  if (a.outcome == Attempt::kStored) {
    std::lock_guard lock(stats_mu_);
    if (!stats_.healthy) spdlog::info("store writes recovered");
    stats_.healthy = true;
    stats_.stored += part.scored.size();
    stats_.alerts += part.alerts.size();
    stats_.labels += part.labels.size();
    stats_.dead_letters += part.dead_letters.size();
    stats_.writes++;
    if (!part.checkpoints.empty()) stats_.checkpoint = part.checkpoints.back().offset;
    spdlog::debug("stored {} transactions, {} alerts; checkpoint {}", part.scored.size(),
                  part.alerts.size(),
                  part.checkpoints.empty() ? -1 : part.checkpoints.back().offset);
    return true;
  }
  const Error& e = a.error;
  if (part.scored.size() > 1 || (part.scored.size() == 1 && !part.labels.empty())) {
    WriteBatch front = take_front(part, std::max<size_t>(1, part.scored.size() / 2));
    return write_isolating(front) && write_isolating(part);
  }
  if (part.scored.size() == 1) {
    Scored& s = part.scored.front();
    spdlog::error("transaction '{}' refused by the store, kept as a dead letter: {}", s.tx.id,
                  e.message());
    part.dead_letters.push_back(refused_dead_letter(to_json(s.tx), s.decision.decided_at, e));
    part.scored.clear();
    part.alerts.clear();
    {
      std::lock_guard lock(stats_mu_);
      stats_.rejected++;
    }
    return write_isolating(part);
  }
  if (part.labels.size() > 1) {
    WriteBatch front;
    const size_t n = part.labels.size() / 2;
    front.labels.assign(std::make_move_iterator(part.labels.begin()),
                        std::make_move_iterator(part.labels.begin() + static_cast<ptrdiff_t>(n)));
    part.labels.erase(part.labels.begin(), part.labels.begin() + static_cast<ptrdiff_t>(n));
    return write_isolating(front) && write_isolating(part);
  }
  if (part.labels.size() == 1) {
    LabelEvent& l = part.labels.front();
    spdlog::error("label for transaction '{}' refused by the store, kept as a dead letter: {}",
                  l.transaction_id, e.message());
    part.dead_letters.push_back(refused_dead_letter(to_json(l), l.labelled_at, e));
    part.labels.clear();
    return write_isolating(part);
  }
  // Only dead letters and the checkpoint are left, and their text is sanitized: a refusal here
  // is not the data's fault, so keep retrying like a transient failure (never drop them).
  spdlog::error("store refused dead letters or a checkpoint: {}", e.message());
  for (;;) {
    {
      std::lock_guard lock(stats_mu_);
      stats_.failed_writes++;
      stats_.healthy = false;
      stats_.last_error = e.message();
    }
    if (giving_up()) return false;
    pause(std::chrono::milliseconds(1000));
    Status st = store_.write(part);
    if (st.ok()) {
      std::lock_guard lock(stats_mu_);
      stats_.healthy = true;
      stats_.dead_letters += part.dead_letters.size();
      stats_.writes++;
      if (!part.checkpoints.empty()) stats_.checkpoint = part.checkpoints.back().offset;
      return true;
    }
  }
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

std::string store_writer_prometheus(const StoreWriterStats& stats) {
  struct Metric {
    const char* name;
    const char* type;
    const char* help;
    int64_t value;
  };
  const Metric metrics[] = {
      {"stored_total", "counter", "Transactions acknowledged by the store.",
       static_cast<int64_t>(stats.stored)},
      {"alerts_total", "counter", "Alerts written.", static_cast<int64_t>(stats.alerts)},
      {"labels_total", "counter", "Label events written.", static_cast<int64_t>(stats.labels)},
      {"dead_letters_total", "counter", "Dead letters written.",
       static_cast<int64_t>(stats.dead_letters)},
      {"writes_total", "counter", "Store transactions committed.",
       static_cast<int64_t>(stats.writes)},
      {"failed_writes_total", "counter", "Store writes that failed and were retried.",
       static_cast<int64_t>(stats.failed_writes)},
      {"rejected_total", "counter",
       "Transactions the store refused for good, written as dead letters instead.",
       static_cast<int64_t>(stats.rejected)},
      {"abandoned_total", "counter",
       "Transactions given up on at a bounded shutdown (not stored; re-read from the checkpoint).",
       static_cast<int64_t>(stats.abandoned)},
      {"checkpoint", "gauge", "Last committed source offset (-1: none yet).", stats.checkpoint},
      {"healthy", "gauge", "1 while store writes succeed, 0 while they are failing.",
       stats.healthy ? 1 : 0},
  };
  std::string out;
  for (const Metric& m : metrics) {
    out += "# HELP fraudwatch_store_";
    out += m.name;
    out += ' ';
    out += m.help;
    out += "\n# TYPE fraudwatch_store_";
    out += m.name;
    out += ' ';
    out += m.type;
    out += "\nfraudwatch_store_";
    out += m.name;
    out += ' ';
    out += std::to_string(m.value);
    out += '\n';
  }
  return out;
}

}  // namespace fw
