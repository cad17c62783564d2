// KafkaOutputSink: the engine's sink in Kafka mode. For each scored transaction it produces the
// decision (and, for REVIEW/BLOCK, the alert) to the output topics, keyed by account id and
// tagged with the engine batch, then hands the piece on to the store writer. Warm-up pieces carry
// no decisions and produce nothing. Thread-safe: consume() runs on shard threads.
#pragma once

#include <string>

#include "engine/engine.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_producer.h"

namespace fw {

// The JSON forms written to the decisions and alerts topics (one object, no newline).
std::string decision_json(const Scored& s);
std::string alert_json(const Alert& a);

class KafkaOutputSink final : public DecisionSink {
 public:
  // `producer` and `next` must outlive the sink.
  KafkaOutputSink(const KafkaTopics& topics, KafkaProducer& producer, DecisionSink& next)
      : topics_(topics), producer_(producer), next_(next) {}
  void consume(ScoredBatch&& batch) override;

 private:
  const KafkaTopics topics_;
  KafkaProducer& producer_;
  DecisionSink& next_;
};

}  // namespace fw
