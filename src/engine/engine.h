// Engine: the scoring core. N shards, one thread each; a transaction goes to the shard chosen by
// its account hash, which owns that account's state (features/), so the per-transaction path
// takes no locks. Sources hand the engine batches (submit); each shard scores its piece and hands
// a ScoredBatch to the DecisionSink.
//
// Lifecycle: construct, start(), submit() from one source thread, then drain() and/or stop().
// submit() and drain() must be called from a single thread; metrics() and set_rules() from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "engine/bounded_queue.h"
#include "engine/latency_histogram.h"
#include "features/feature_engine.h"
#include "model/decision.h"
#include "model/transaction.h"
#include "rules/rule_set.h"
#include "scoring/isolation_forest.h"
#include "scoring/tree_model.h"

namespace fw {

// One source batch: transactions in source order, labels that became due with them, and the
// source offset just past the last transaction (-1 when the source has no offsets).
struct SourceBatch {
  std::vector<Transaction> txs;
  std::vector<LabelEvent> labels;
  int64_t source_offset_end = -1;
  // Warm-up: fold the transactions into state without scoring them or emitting decisions (used
  // to rebuild state after a restart by re-reading what was already decided). The sink still
  // receives an empty piece per shard, so batch tracking stays gap-free.
  bool warm_up = false;
};

// One shard's share of a source batch, after scoring. `positions[i]` is the index in the source
// batch of `scored[i]`, so a sink can restore input order.
struct ScoredBatch {
  uint64_t seq = 0;     // the source batch's sequence number (0, 1, 2, ...)
  uint32_t pieces = 0;  // how many ScoredBatch pieces batch `seq` has (one per shard)
  int shard = 0;
  int64_t source_offset_end = -1;
  std::vector<Scored> scored;
  std::vector<uint32_t> positions;
  std::vector<LabelEvent> labels;
};

// Receives scored pieces. consume() is called on shard threads, concurrently: implementations
// must be thread-safe, and may block (that is how backpressure reaches the engine).
class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void consume(ScoredBatch&& batch) = 0;
};

struct EngineConfig {
  int shards = 2;
  size_t queue_batches = 16;  // per-shard queue capacity, in batches
  FeatureConfig features;
  const Clock* clock = &SystemClock::instance();  // stamps decided_at; not owned
};

struct EngineMetrics {
  uint64_t transactions = 0;  // scored (warm-up transactions are not counted)
  uint64_t warmed_up = 0;
  uint64_t labels = 0;
  uint64_t by_action[3] = {0, 0, 0};  // indexed by Action
  uint64_t batches_submitted = 0;
  LatencyHistogram latency;  // in-engine latency: submit() to decision, nanoseconds
  size_t accounts = 0;
  size_t queued_batches = 0;
};

// The models the engine scores with (docs/models.md): immutable once built, shared by every
// shard, swapped whole per source batch (Engine::set_models). Any part may be absent.
struct ModelBundle {
  std::shared_ptr<const TreeModel> champion;  // decides (with the rules) through `policy`
  std::string version;                        // the champion's registry version
  std::shared_ptr<const TreeModel> shadow;    // scored and recorded, never decides
  std::string shadow_version;
  std::shared_ptr<const IsolationForest> forest;  // the anomaly score
  // The shadow folder's own forest, for a shadow that reads the anomaly score as a column
  // (TreeModel::uses_anomaly_score): it was trained on that forest's scores, not the champion's.
  std::shared_ptr<const IsolationForest> shadow_forest;
  ModelPolicy policy;
  // How many feature contributions a REVIEW/BLOCK decision keeps.
  size_t contributions = 5;
};
// Errors (naming the part) when a bundle cannot serve this build: a forest not trained on the
// kFeatureCount features of the schema, a model that reads the anomaly score without the
// forest that computes it. Models are checked by name when they load.
Status check_model_bundle(const ModelBundle& bundle);

// An Alert for a REVIEW or BLOCK decision.
Alert make_alert(const Transaction& tx, const Decision& decision);

class Engine {
 public:
  // REQUIRES: config.shards >= 1; rules non-null. `sink` must outlive the engine.
  Engine(const EngineConfig& config, std::shared_ptr<const RuleSet> rules, DecisionSink& sink);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  // Routes the batch to the shards and returns its sequence number. Blocks while a shard's queue
  // is full (backpressure). Every shard receives a piece, possibly empty.
  uint64_t submit(SourceBatch&& batch);
  // Waits until every submitted batch has been scored and handed to the sink.
  void drain();
  // Drains, then stops the shard threads. Idempotent.
  void stop();

  // Swaps the rule set atomically: every piece of a source batch is scored by the rule set that
  // was current when the batch was submitted, so no batch (and no transaction) is scored by two
  // rule sets; batches submitted after the call use the new one.
  void set_rules(std::shared_ptr<const RuleSet> rules);
  std::shared_ptr<const RuleSet> rules() const;

  // Swaps the models like set_rules: every transaction of a source batch is scored by the
  // bundle current at submit(). Null: no models (rules only). The bundle must pass
  // check_model_bundle (REQUIRES).
  void set_models(std::shared_ptr<const ModelBundle> models);
  std::shared_ptr<const ModelBundle> models() const;

  // The sequence number the next submit() will return. Submitting thread only.
  uint64_t next_seq() const { return next_seq_.load(std::memory_order_relaxed); }

  EngineMetrics metrics() const;
  int shard_count() const { return static_cast<int>(shards_.size()); }
  // The shard that owns an account key.
  static int shard_of(uint64_t account_key, int shards) {
    return static_cast<int>(((account_key >> 32) * static_cast<uint64_t>(shards)) >> 32);
  }

  // --- Partition state (docs/adr/0011-partition-state-snapshots.md). Both calls block, run on the
  // submitting thread (like submit()), and take effect in order: after every batch submitted
  // before the call and before every batch submitted after it. They travel through the shard
  // queues as control items, so the per-transaction path takes no lock; they take no sequence
  // number and never reach the sink, so batch tracking is unchanged.
  // REQUIRES: start() called, or no batch submitted yet; after stop() they run directly.

  // The state of the accounts tagged with `partition` (features/partition_snapshot.h format),
  // from every shard, as one blob; with evict, those accounts are removed from the engine.
  std::string snapshot_partition(int32_t partition, bool evict);
  // Replaces the engine's state of the blob's partition with the blob's accounts, each on the
  // shard that owns it (shard_of). A blob that does not decode (truncated, corrupt, wrong
  // version, ...) is an error naming what is wrong, and changes nothing.
  Status restore_partition(std::string_view blob);

 private:
  struct PartitionOp;  // a snapshot or restore control item, shared by every shard's piece
  struct ShardWork {
    uint64_t seq = 0;
    uint32_t pieces = 0;
    int64_t source_offset_end = -1;
    int64_t submit_ns = 0;
    bool warm_up = false;
    std::shared_ptr<const RuleSet> rules;       // the rule set of the whole source batch
    std::shared_ptr<const ModelBundle> models;  // its models (may be null)
    std::vector<Transaction> txs;
    std::vector<uint32_t> positions;
    std::vector<LabelEvent> labels;
    // Set on a control item (snapshot/restore of a partition) instead of a batch: no seq, no
    // transactions, nothing for the sink.
    std::shared_ptr<PartitionOp> partition_op;
  };
  // A shard: its queue, its state and its counters. State is touched only by its thread.
  struct Shard {
    Shard(int shard_index, const FeatureConfig& fc, size_t queue_batches)
        : index(shard_index), queue(queue_batches), features(fc) {}
    const int index;  // 0..shards-1; selects the rule set's hit counters
    BoundedQueue<ShardWork> queue;
    FeatureEngine features;  // owned by the shard thread
    std::thread thread;
    std::atomic<uint64_t> transactions{0};
    std::atomic<uint64_t> warmed_up{0};
    std::atomic<uint64_t> labels{0};
    std::atomic<uint64_t> by_action[3] = {0, 0, 0};
    std::atomic<uint64_t> batches_done{0};
    std::atomic<size_t> accounts{0};
    AtomicLatencyHistogram latency;
  };

  void run_shard(Shard& shard);
  void run_partition_op(Shard& shard, PartitionOp& op);
  // Runs op on every shard: through the queues once started, directly otherwise.
  void run_on_all_shards(const std::shared_ptr<PartitionOp>& op);
  void score(Shard& shard, ShardWork& work, const RuleSet& rules, ScoredBatch& out,
             LatencyHistogram& latency);

  EngineConfig config_;
  DecisionSink& sink_;
  std::atomic<std::shared_ptr<const RuleSet>> rules_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> next_seq_{0};  // written by the submitting thread only
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<std::shared_ptr<const ModelBundle>> models_;
};

}  // namespace fw
