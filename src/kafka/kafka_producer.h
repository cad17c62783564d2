// KafkaProducer: fraudwatch's one producer (librdkafka, idempotent) for the output topics:
// decisions, alerts and dead letters. It remembers, per engine batch sequence number, how many
// messages still wait for the broker's acknowledgement, so the consumer commits an input offset
// only once the outputs it caused are delivered (at-least-once on output topics). A message the
// broker finally refuses is produced again, never dropped silently.
// Owned by the serve loop; produce() and the queries are thread-safe (shard threads produce);
// its own thread serves librdkafka's delivery reports.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"
#include "kafka/kafka_config.h"

namespace RdKafka {
class Producer;
class DeliveryReportCb;
}  // namespace RdKafka

namespace fw {

struct KafkaProducerStats {
  uint64_t produced = 0;   // messages handed to librdkafka
  uint64_t delivered = 0;  // acknowledged by the broker
  uint64_t retried = 0;    // refused for good by librdkafka, produced again
  size_t queued = 0;       // waiting for the broker now
};

class KafkaProducer {
 public:
  static constexpr uint64_t kUntracked = UINT64_MAX;
  using Headers = std::vector<std::pair<std::string, std::string>>;

  static Result<std::unique_ptr<KafkaProducer>> create(const KafkaConfig& config);
  // Waits up to 10 s for outstanding messages, then stops.
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one message (copied). `seq` is the engine batch the message belongs to, or kUntracked.
  // Blocks while librdkafka's queue is full (backpressure onto the caller). `partition` -1 lets
  // the partitioner choose from the key.
  void produce(const std::string& topic, std::string_view key, std::string_view value,
               const Headers& headers = {}, uint64_t seq = kUntracked, int32_t partition = -1);
  // The lowest batch sequence number with a message not yet delivered (UINT64_MAX if none).
  uint64_t lowest_pending_seq() const;
  // Waits up to `timeout_ms` for every queued message; true when none is left.
  bool flush(int timeout_ms);
  KafkaProducerStats stats() const;

  // Called by the delivery report callback (librdkafka's thread).
  void on_delivery(uint64_t seq, bool ok);

 private:
  KafkaProducer() = default;
  void track(uint64_t seq, int delta);

  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<RdKafka::DeliveryReportCb> report_cb_;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<uint64_t, int64_t> pending_;  // seq -> undelivered messages; guarded by mu_
  std::atomic<uint64_t> produced_{0}, delivered_{0}, retried_{0};
};

}  // namespace fw
