// StoreWriter: the sink that persists scored transactions. Shards hand it ScoredBatch pieces
// (consume, on shard threads); one writer thread groups them into large WriteBatches, adds an
// Alert for every REVIEW/BLOCK decision, and writes each group in one store transaction together
// with the source checkpoint it completes. The checkpoint only ever covers source batches whose
// every piece is in the same or an earlier committed write, so after a crash the source resumes
// from it and nothing acknowledged is lost; rewritten transactions are skipped by the store
// (idempotent by id), so nothing is stored twice.
//
// Backpressure: the hand-off queue is bounded, so when the store falls behind, consume() blocks
// and the engine's shards stop pulling work. A write failing for a transient reason (connection
// lost, server shutting down, deadlock) is retried with backoff, never dropped. A write failing
// for a permanent reason (a value the database rejects) is split in halves until the offending
// transactions are isolated: the others are stored, each offending one becomes a dead letter
// naming the reason. Only after give_up_at() has passed does the writer stop retrying: it then
// discards what it holds and what arrives, counting it in StoreWriterStats::abandoned (the
// checkpoint does not cover it, so the source re-reads it on restart). Thread-safe: consume() and
// add_dead_letters() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "engine/batch_tracker.h"
#include "engine/bounded_queue.h"
#include "engine/engine.h"
#include "storage/store.h"

namespace fw {

struct StoreWriterOptions {
  std::string checkpoint_source;             // e.g. "simulator:seed=42"; empty = no checkpoints
  size_t max_rows_per_write = 32768;         // transactions per store transaction
  std::chrono::milliseconds max_delay{100};  // a partial group is written after this long
  size_t queue_pieces = 64;                  // bounded hand-off queue, in pieces
};

struct StoreWriterStats {
  uint64_t stored = 0;  // transactions acknowledged by the store (incl. skipped repeats)
  uint64_t alerts = 0;
  uint64_t labels = 0;
  uint64_t dead_letters = 0;
  uint64_t writes = 0;         // store transactions committed
  uint64_t failed_writes = 0;  // attempts that failed and were retried
  uint64_t abandoned = 0;      // transactions given up on at shutdown (not stored)
  uint64_t rejected = 0;       // transactions the store refused for good (now dead letters)
  int64_t checkpoint = -1;     // last committed source offset
  bool healthy = true;         // false while writes are failing
  std::string last_error;
};

class StoreWriter final : public DecisionSink {
 public:
  // `store` must outlive the writer.
  StoreWriter(Store& store, StoreWriterOptions options);
  ~StoreWriter() override;

  void start();
  void consume(ScoredBatch&& batch) override;
  void add_dead_letters(std::vector<DeadLetter> dead_letters);
  // Runs `task` on the writer thread once everything handed over before it is durable (written,
  // or given up on: then `durable` is false), for work that must follow those rows, such as
  // saving a partition's state checkpoint. Tasks run in the order they were added.
  using Task = std::function<void(Store& store, bool durable)>;
  void run_after_flush(Task task);
  // `callback` is called on the writer thread once every source batch up to and including
  // sequence number `seq` is durable in the store (the Kafka source commits offsets from it).
  // REQUIRES: called before start().
  void set_on_durable(std::function<void(uint64_t seq)> callback) {
    on_durable_ = std::move(callback);
  }
  // From this point on, a failing write is abandoned instead of retried (for a bounded
  // shutdown while the database is down). Call before stopping the engine, whose drain blocks
  // on this writer's queue. Of several calls the earliest deadline wins. Thread-safe.
  void give_up_at(std::chrono::steady_clock::time_point deadline);
  // Writes everything handed over so far, then stops the thread. Idempotent.
  void stop();

  StoreWriterStats stats() const;

 private:
  using Item = std::variant<ScoredBatch, std::vector<DeadLetter>, Task>;
  void run();
  void add(Item& item, WriteBatch& group, size_t& rows);
  void flush(WriteBatch& group, size_t& rows);
  struct Attempt {
    enum Outcome { kStored, kRefused, kGaveUp } outcome;
    Error error;  // for kRefused and kGaveUp
  };
  // Writes `part`, retrying transient failures until stored, refused for good, or given up.
  Attempt write_with_retry(const WriteBatch& part);
  DeadLetter refused_dead_letter(std::string raw, Timestamp at, const Error& e) const;
  static void sanitize_dead_letter(DeadLetter& d);
  // Writes `group`, isolating permanently rejected transactions as dead letters; false when
  // given up.
  bool write_isolating(WriteBatch& group);
  bool giving_up() const;
  // Sleeps `d` or until the give-up deadline, whichever comes first.
  void pause(std::chrono::milliseconds d);

  Store& store_;
  const StoreWriterOptions options_;
  BoundedQueue<Item> queue_;
  BatchTracker tracker_;                            // writer thread only
  std::vector<BatchTracker::Completed> completed_;  // writer thread only
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
  bool abandoned_any_ = false;                // writer thread only
  std::function<void(uint64_t)> on_durable_;  // set before start()

  mutable std::mutex give_up_mu_;
  std::condition_variable give_up_cv_;
  std::optional<std::chrono::steady_clock::time_point> give_up_at_;  // guarded by give_up_mu_

  mutable std::mutex stats_mu_;
  StoreWriterStats stats_;  // guarded by stats_mu_
};

// The writer's counters in Prometheus text format (one HELP/TYPE/value per metric):
// fraudwatch_store_{stored,alerts,labels,dead_letters,writes,failed_writes,rejected,abandoned}_total,
// fraudwatch_store_checkpoint and fraudwatch_store_healthy (1 or 0). For /metrics.
std::string store_writer_prometheus(const StoreWriterStats& stats);

}  // namespace fw
