// KafkaConfig: where fraudwatch's Kafka mode connects and what it reads and writes (the `kafka:`
// section of the YAML config, see config/fraudwatch.yaml and docs/scaling.md), plus the
// translation of it into librdkafka configuration objects. Value type; built once at start-up.
//
// `properties` passes any librdkafka property through (security.protocol, sasl.*, ssl.*,
// compression.type, ...). A value written as ${env:NAME} or ${file:PATH} is read from that
// environment variable or file at start-up, so secrets (sasl.password) stay out of config files;
// property values are never logged (describe() shows names only).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/result.h"

namespace RdKafka {
class Conf;
}

namespace fw {

struct KafkaTopics {
  std::string transactions = "transactions";  // input: JSON transactions keyed by account id
  std::string labels = "labels";              // input: JSON label events (verdicts)
  std::string decisions = "decisions";        // output: one JSON decision per transaction
  std::string alerts = "alerts";              // output: REVIEW/BLOCK alerts
  std::string dead_letters = "dead_letters";  // output: undecodable input, reason in a header
};

struct KafkaConfig {
  std::string brokers;  // bootstrap.servers; empty = not configured
  std::string group_id = "fraudwatch";
  KafkaTopics topics;
  std::map<std::string, std::string> properties;  // passed to librdkafka as they are
  // Per-partition state snapshots are saved this often (and on every revocation), bounding what
  // a successor replays after an owner dies without saying goodbye.
  double checkpoint_interval_s = 30;
  // Backpressure: partitions are paused while more engine batches than this are not yet durable
  // in the store, or more output messages than max_output_queue wait for the broker.
  size_t max_inflight_batches = 32;
  size_t max_output_queue = 200000;
  // A consumed batch is handed to the engine after this many milliseconds, or when it is full.
  int batch_max_ms = 20;
  size_t batch_size = 2048;  // transactions per engine batch (set from engine.batch_size)
  // The store writer commits a partly filled group of decisions after this many milliseconds.
  // Offsets are committed and produce->decision latency ends only once a decision is durable,
  // so this bounds latency; shorter means more (smaller) store transactions.
  int store_max_delay_ms = 10;
};

// Checks the settings that need no broker: names, ranges, and every property name and value
// against librdkafka itself. Errors name the field: "kafka.properties.sasl.mechanisms: ...".
Status validate(const KafkaConfig& config);

enum class KafkaRole { kConsumer, kProducer };

// The librdkafka configuration for one client: fraudwatch's defaults for the role, then
// config.properties (which win), with ${env:...} / ${file:...} references resolved.
Result<std::unique_ptr<RdKafka::Conf>> make_conf(const KafkaConfig& config, KafkaRole role);

// Resolves one property value: ${env:NAME} or ${file:PATH} (trailing newline dropped), else the
// value itself. `field` names the property in errors; the value never appears in them.
Result<std::string> resolve_property_value(const std::string& field, const std::string& value);

// The property names configured, for logs ("security.protocol, sasl.mechanisms, ..."): never
// the values, which may be secrets.
std::string describe_properties(const KafkaConfig& config);

}  // namespace fw
