// AppConfig: fraudwatch's configuration, read from a YAML file (config/fraudwatch.yaml documents
// every key) and then overridden by command-line flags. Value type; built once at start-up.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "core/result.h"
#include "kafka/kafka_config.h"

namespace fw {

struct AppConfig {
  std::string data_dir = "data";
  std::string log_level = "info";
  bool log_json = false;
  // engine
  int shards = 0;  // 0 = one per CPU core
  size_t batch_size = 2048;
  size_t queue_batches = 16;
  // storage
  std::string backend = "sqlite";  // sqlite | postgres
  std::string sqlite_path;         // empty = <data_dir>/fraudwatch.db
  bool synchronous_full = false;
  // PostgreSQL. The URL is better given through FRAUDWATCH_DATABASE_URL (or PG* variables)
  // than in a file: a config file must never hold a password.
  std::string database_url;      // empty = $FRAUDWATCH_DATABASE_URL, else libpq's PG* vars
  bool migrate = true;           // apply pending schema migrations at start-up
  size_t read_connections = 4;   // pool for the API's reads (the writer has its own)
  int partition_days_ahead = 3;  // daily transaction partitions created ahead
  int retention_days = 0;        // `fraudwatch db maintain` drops older days; 0 = keep all
  // server
  std::string bind = "127.0.0.1";
  int port = 8080;
  // simulator
  uint64_t seed = 42;
  size_t customers = 20000;
  size_t merchants = 2000;
  double fraud_ratio = 0.005;
  double rate = 2000;  // transactions per second; 0 = as fast as possible
  // rules
  std::string rules_path;  // empty = built-in defaults (same as config/rules.yaml)
  // models (docs/models.md). NaN thresholds: the model's own (review_at = its threshold,
  // block_at halfway between it and 1); anomaly_review_at NaN = off.
  std::string model_path;         // champion model folder; empty = no model (rules only)
  std::string shadow_model_path;  // shadow model folder; empty = none
  double model_review_at = NAN;
  double model_block_at = NAN;
  double anomaly_review_at = NAN;
  double anomaly_weight = 0;
  // kafka (fraudwatch serve, simulate --to kafka): brokers, group, topics, librdkafka properties
  KafkaConfig kafka;

  std::string sqlite_file() const;
  int effective_shards() const;
};

// Reads a config file. Unknown keys and wrong types are errors naming file, key and reason:
// "fraudwatch.yaml: engine.shards: expected an integer, got 'two'".
Result<AppConfig> load_config(const std::string& path);

}  // namespace fw
