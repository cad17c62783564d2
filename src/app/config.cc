#include "app/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <thread>

namespace fw {

std::string AppConfig::sqlite_file() const {
  return sqlite_path.empty() ? data_dir + "/fraudwatch.db" : sqlite_path;
}

int AppConfig::effective_shards() const {
  if (shards > 0) return shards;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

namespace {

using Setter = std::function<void(const YAML::Node&, AppConfig&)>;

template <typename T>
Setter set(T AppConfig::*member) {
  return [member](const YAML::Node& n, AppConfig& c) { c.*member = n.as<T>(); };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"data_dir", set(&AppConfig::data_dir)},
      {"log.level", set(&AppConfig::log_level)},
      {"log.json", set(&AppConfig::log_json)},
      {"engine.shards", set(&AppConfig::shards)},
      {"engine.batch_size", set(&AppConfig::batch_size)},
      {"engine.queue_batches", set(&AppConfig::queue_batches)},
      {"storage.backend", set(&AppConfig::backend)},
      {"storage.sqlite_path", set(&AppConfig::sqlite_path)},
      {"storage.database_url", set(&AppConfig::database_url)},
      {"storage.migrate", set(&AppConfig::migrate)},
      {"storage.read_connections", set(&AppConfig::read_connections)},
      {"storage.partition_days_ahead", set(&AppConfig::partition_days_ahead)},
      {"storage.retention_days", set(&AppConfig::retention_days)},
      {"storage.synchronous_full", set(&AppConfig::synchronous_full)},
      {"server.bind", set(&AppConfig::bind)},
      {"server.port", set(&AppConfig::port)},
      {"simulator.seed", set(&AppConfig::seed)},
      {"simulator.customers", set(&AppConfig::customers)},
      {"simulator.merchants", set(&AppConfig::merchants)},
      {"simulator.fraud_ratio", set(&AppConfig::fraud_ratio)},
      {"simulator.rate", set(&AppConfig::rate)},
      {"rules", set(&AppConfig::rules_path)},
      {"model.path", set(&AppConfig::model_path)},
      {"model.shadow", set(&AppConfig::shadow_model_path)},
      {"model.review_at", set(&AppConfig::model_review_at)},
      {"model.block_at", set(&AppConfig::model_block_at)},
      {"model.anomaly_review_at", set(&AppConfig::anomaly_review_at)},
      {"model.anomaly_weight", set(&AppConfig::anomaly_weight)},
      {"kafka.brokers",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.brokers = n.as<std::string>(); }},
      {"kafka.group_id",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.group_id = n.as<std::string>(); }},
      {"kafka.topics.transactions",
       [](const YAML::Node& n, AppConfig& c) {
         c.kafka.topics.transactions = n.as<std::string>();
       }},
      {"kafka.topics.labels",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.topics.labels = n.as<std::string>(); }},
      {"kafka.topics.decisions",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.topics.decisions = n.as<std::string>(); }},
      {"kafka.topics.alerts",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.topics.alerts = n.as<std::string>(); }},
      {"kafka.topics.dead_letters",
       [](const YAML::Node& n, AppConfig& c) {
         c.kafka.topics.dead_letters = n.as<std::string>();
       }},
      {"kafka.checkpoint_interval_s",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.checkpoint_interval_s = n.as<double>(); }},
      {"kafka.max_inflight_batches",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.max_inflight_batches = n.as<size_t>(); }},
      {"kafka.max_output_queue",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.max_output_queue = n.as<size_t>(); }},
      {"kafka.batch_max_ms",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.batch_max_ms = n.as<int>(); }},
      {"kafka.store_max_delay_ms",
       [](const YAML::Node& n, AppConfig& c) { c.kafka.store_max_delay_ms = n.as<int>(); }},
  };
  return kSetters;
}

std::string where(const std::string& file, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.line < 0) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Status apply(const std::string& file, const std::string& prefix, const YAML::Node& node,
             AppConfig& config) {
  for (const auto& kv : node) {
    std::string key = prefix + kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    // kafka.properties.*: any librdkafka property, passed through (checked by librdkafka later).
    const std::string kProps = "kafka.properties.";
    if (key.rfind(kProps, 0) == 0 && !value.IsMap()) {
      if (!value.IsScalar()) {
        return make_error(key, where(file, value) + ": expected a single value (text or number)");
      }
      config.kafka.properties[key.substr(kProps.size())] = value.Scalar();
      continue;
    }
    if (value.IsMap()) {
      Status st = apply(file, key + ".", value, config);
      if (!st.ok()) return st;
      continue;
    }
    auto it = setters().find(key);
    if (it == setters().end()) {
      std::string known;
      for (const auto& [k, _] : setters()) known += (known.empty() ? "" : ", ") + k;
      return make_error(key, where(file, kv.first) + ": unknown setting; known settings: " + known);
    }
    try {
      it->second(value, config);
    } catch (const YAML::Exception&) {
      return make_error(key, where(file, value) + ": cannot read '" +
                                 (value.IsScalar() ? value.Scalar() : std::string("<non-scalar>")) +
                                 "' as the expected type");
    }
  }
  return Status::Ok();
}

Status validate(const AppConfig& c) {
  if (c.shards < 0 || c.shards > 256) return make_error("engine.shards", "must be 0..256");
  if (c.batch_size == 0 || c.batch_size > 1'000'000) {
    return make_error("engine.batch_size", "must be 1..1000000");
  }
  if (c.queue_batches == 0) return make_error("engine.queue_batches", "must be at least 1");
  if (c.port < 0 || c.port > 65535) return make_error("server.port", "must be 0..65535");
  if (c.backend != "sqlite" && c.backend != "postgres") {
    return make_error("storage.backend", "must be sqlite or postgres, got '" + c.backend + "'");
  }
  if (c.read_connections == 0 || c.read_connections > 64) {
    return make_error("storage.read_connections", "must be 1..64");
  }
  if (c.partition_days_ahead < 0 || c.partition_days_ahead > 366) {
    return make_error("storage.partition_days_ahead", "must be 0..366");
  }
  if (c.retention_days < 0) return make_error("storage.retention_days", "must be >= 0 (0 = keep)");
  if (c.rate < 0) return make_error("simulator.rate", "must be >= 0 (0 = as fast as possible)");
  if (c.fraud_ratio < 0 || c.fraud_ratio > 0.5) {
    return make_error("simulator.fraud_ratio", "must be between 0 and 0.5");
  }
  if (c.customers == 0) return make_error("simulator.customers", "must be at least 1");
  if (c.merchants == 0) return make_error("simulator.merchants", "must be at least 1");
  for (auto [key, v] : {std::pair{"model.review_at", c.model_review_at},
                        {"model.block_at", c.model_block_at},
                        {"model.anomaly_review_at", c.anomaly_review_at},
                        {"model.anomaly_weight", c.anomaly_weight}}) {
    if (!std::isnan(v) && !(v >= 0 && v <= 1)) return make_error(key, "must be from 0 to 1");
  }
  if (std::isnan(c.anomaly_weight)) return make_error("model.anomaly_weight", "must be a number");
  if (Status st = fw::validate(c.kafka); !st.ok()) return st;
  return Status::Ok();
}

}  // namespace

Result<AppConfig> load_config(const std::string& path) {
  AppConfig config;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return make_error("config", "cannot read '" + path + "'; check the path given to --config");
  } catch (const YAML::ParserException& e) {
    return make_error("config", path + ":" + std::to_string(e.mark.line + 1) + ":" +
                                    std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) return make_error("config", path + ": the top level must be a mapping");
  Status st = apply(path, "", root, config);
  if (!st.ok()) return st.error();
  st = validate(config);
  if (!st.ok()) return make_error(st.error().field, path + ": " + st.error().reason);
  return config;
}

}  // namespace fw
