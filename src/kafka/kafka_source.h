// KafkaSource: the input side of `fraudwatch serve`. One librdkafka consumer in the configured
// group (range assignor, eager rebalancing) reads the transactions and labels topics, decodes
// them, and submits engine batches; undecodable messages go to the dead-letter topic (reason in
// the `fraudwatch-reason` header, the raw payload as value) and to the store's dead letters.
//
// Offsets: an input offset is committed only once every decision it covers is durable in the
// store (StoreWriterOptions::on_durable -> on_durable()) and every output message it caused is
// acknowledged by the broker. A crash re-reads from the last commit; the store skips transaction
// ids it already holds, so it stores each decision once (outputs are at-least-once).
//
// Partition state: on assignment the partition's checkpoint (state snapshot + the offset it
// covers) is loaded from the store and restored; the partition is re-read from that offset, and
// what lies below the committed offset is warm-up (folded into state, not decided again). On
// revocation the partition is drained, snapshotted, saved and evicted; snapshots are also saved
// every checkpoint_interval_s.
//
// Backpressure: while too many batches await durability or the output queue is too long, every
// assigned partition is paused; they resume once the backlog halves. Memory stays bounded.
//
// Lifecycle: construct, start(), run() on one thread (the engine's submitting thread), close()
// on that thread. metrics() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/latency_histogram.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_producer.h"
#include "model/json_codec.h"
#include "sinks/store_writer.h"
#include "storage/store.h"

namespace RdKafka {
class KafkaConsumer;
class RebalanceCb;
class TopicPartition;
}  // namespace RdKafka

namespace fw {

struct KafkaPartitionMetrics {
  std::string topic;
  int32_t partition = 0;
  int64_t position = -1;        // next offset to read (-1 = nothing read yet)
  int64_t high_watermark = -1;  // as last reported by the broker
  int64_t lag = -1;             // high_watermark - position, -1 when unknown
  int64_t committed = -1;
  double checkpoint_age_s = -1;  // since this partition's state was last saved; -1 = never
};

struct KafkaSourceMetrics {
  uint64_t messages_in = 0;
  uint64_t transactions_in = 0;
  uint64_t labels_in = 0;
  uint64_t warmed_up = 0;
  uint64_t dead_letters = 0;
  uint64_t rebalances = 0;
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
  uint64_t checkpoints_saved = 0;
  uint64_t pauses = 0;
  bool paused = false;
  uint64_t inflight_batches = 0;
  // Input partitions assigned to this process now (0 until the group's first assignment).
  uint64_t assigned_partitions = 0;
  // Offsets the consumer never saw because the broker had already deleted them (retention)
  // when this process came to read them, e.g. after lagging too far behind: data lost to
  // fraudwatch, logged as an error with topic, partition and offset range.
  uint64_t skipped_offsets = 0;
  double in_per_s = 0;   // consumed messages per second, over the last sample
  double out_per_s = 0;  // output messages acknowledged per second
  KafkaProducerStats producer;
  std::vector<KafkaPartitionMetrics> partitions;
  // From a message's producer timestamp to its decision being durable in the store and its
  // outputs acknowledged (as seen by the consumer loop), in nanoseconds, per message.
  LatencyHistogram produce_to_decision;
};

// Prometheus text exposition of the metrics (fraudwatch_kafka_*).
std::string kafka_prometheus(const KafkaSourceMetrics& m);

class KafkaSource {
 public:
  // Everything must outlive the source. `writer` is the engine's store writer; `store` is read
  // for partition checkpoints; `producer` writes the dead letters.
  KafkaSource(const KafkaConfig& config, Engine& engine, StoreWriter& writer, Store& store,
              KafkaProducer& producer);
  ~KafkaSource();
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  // Creates the consumer and subscribes.
  Status start();
  // Consumes until should_stop() returns true (checked at least every 100 ms).
  void run(const std::function<bool()>& should_stop);
  // Leaves the group: checkpoints every owned partition, commits what is durable. Idempotent.
  void close();

  // Wire to StoreWriterOptions::on_durable: batches up to `seq` are durable.
  void on_durable(uint64_t seq);
  KafkaSourceMetrics metrics() const;
  uint64_t messages_in() const;

  // For the rebalance callback (consumer thread).
  void on_assign(std::vector<RdKafka::TopicPartition*>& partitions);
  void on_revoke(std::vector<RdKafka::TopicPartition*>& partitions);

 private:
  struct Owned {
    int64_t next = -1;       // next offset to read
    int64_t score_from = 0;  // below: warm-up
    int64_t committed = -1;  // last committed by us
    int64_t unsaved = 0;     // messages since the state was last saved
    std::chrono::steady_clock::time_point saved_at{};
    bool saved = false;
  };
  using Key = std::pair<std::string, int32_t>;  // topic, partition
  struct Mark {
    Key key;
    int64_t next;
  };

  void handle(RdKafka::KafkaConsumer& consumer, const void* msg);
  void dead_letter(const std::string& topic, int32_t partition, int64_t offset,
                   std::string_view key, std::string_view payload, const std::string& field,
                   const std::string& reason);
  void submit_pending();
  void maintain(bool force_commit);
  void advance_commits(bool sync, const std::set<Key>* only);
  void backpressure();
  void save_snapshots(bool evict, const std::set<Key>& which, bool wait);
  void sample_metrics();
  uint64_t committable_seq() const;

  const KafkaConfig config_;
  Engine& engine_;
  StoreWriter& writer_;
  Store& store_;
  KafkaProducer& producer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::RebalanceCb> rebalance_cb_;
  JsonDecoder decoder_;

  // Consumer thread only.
  SourceBatch warm_, live_;
  std::vector<DeadLetter> pending_dead_;
  std::vector<Mark> pending_marks_;
  size_t pending_messages_ = 0;
  std::chrono::steady_clock::time_point pending_since_{};
  std::map<Key, Owned> owned_;
  std::map<uint64_t, std::vector<Mark>> marks_;  // seq -> offsets it completes
  // seq -> producer timestamps (ms) of the batch's messages; bounded by max_inflight_batches.
  std::map<uint64_t, std::vector<int64_t>> batch_times_;
  std::vector<int64_t> pending_times_ms_;
  void record_latencies();
  // A consumed offset past the next expected one: finds out whether the broker deleted the
  // offsets in between (retention) and, if so, reports them loudly.
  // Offsets below `score_from` were decided before (warm-up): losing them loses state only.
  void check_gap(const std::string& topic, int32_t partition, int64_t expected, int64_t got,
                 int64_t score_from);
  bool paused_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_snapshot_{}, last_sample_{}, last_commit_{};
  uint64_t last_in_ = 0, last_out_ = 0;

  std::atomic<int64_t> durable_seq_{-1};
  std::atomic<uint64_t> checkpoints_saved_{0};

  mutable std::mutex metrics_mu_;
  KafkaSourceMetrics metrics_;  // guarded by metrics_mu_ (copied out by metrics())
  std::map<Key, std::chrono::steady_clock::time_point> saved_at_;  // guarded by metrics_mu_
};

}  // namespace fw
