// EmbeddedKafka: librdkafka's mock cluster (rdkafka_mock.h) running inside this process, for
// development (`fraudwatch serve --embedded-kafka`) and tests. It speaks the Kafka protocol on
// loopback ports, so any Kafka client (kcat, another fraudwatch) can connect to bootstraps().
// In memory only and NOT durable: everything is gone when the process exits; each partition
// keeps at most a few MiB. Not a performance reference.
// Owned by the caller; the cluster runs on librdkafka's threads until destruction. The methods
// are thread-safe (the mock cluster serialises them).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace fw {

class EmbeddedKafka {
 public:
  // Starts a cluster of `brokers` brokers.
  static Result<std::unique_ptr<EmbeddedKafka>> start(int brokers = 1);
  ~EmbeddedKafka();
  EmbeddedKafka(const EmbeddedKafka&) = delete;
  EmbeddedKafka& operator=(const EmbeddedKafka&) = delete;

  // "127.0.0.1:PORT[,...]": the bootstrap.servers value for clients.
  std::string bootstraps() const;
  Status create_topic(const std::string& topic, int partitions);
  // The C handle, for error injection in tests (rd_kafka_mock_push_request_errors, ...).
  rd_kafka_mock_cluster_s* cluster() const { return cluster_; }

 private:
  EmbeddedKafka() = default;
  rd_kafka_s* handle_ = nullptr;  // owns the cluster
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
};

}  // namespace fw
