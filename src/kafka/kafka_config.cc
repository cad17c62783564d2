#include "kafka/kafka_config.h"

#include <librdkafka/rdkafkacpp.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fw {
namespace {

constexpr size_t kMaxSecretFileBytes = 1 << 20;

Status set(RdKafka::Conf& conf, const std::string& field, const std::string& name,
           const std::string& value) {
  std::string err;
  if (conf.set(name, value, err) != RdKafka::Conf::CONF_OK) {
    // librdkafka's message may quote the value for some properties: keep only what it says about
    // the name for properties that may hold secrets.
    bool secret = name.find("password") != std::string::npos ||
                  name.find("secret") != std::string::npos || name.find("key") != std::string::npos;
    return make_error(field, secret ? "librdkafka refused this property" : err);
  }
  return Status::Ok();
}

Status check_topic(const std::string& field, const std::string& name) {
  if (name.empty()) return make_error(field, "must not be empty");
  if (name.size() > 249) return make_error(field, "longer than Kafka's 249 characters");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return make_error(field, "'" + name + "' has a character Kafka does not allow");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> resolve_property_value(const std::string& field, const std::string& value) {
  if (value.size() < 3 || value.rfind("${", 0) != 0 || value.back() != '}') return value;
  const std::string ref = value.substr(2, value.size() - 3);
  if (ref.rfind("env:", 0) == 0) {
    const std::string var = ref.substr(4);
    const char* v = std::getenv(var.c_str());
    if (v == nullptr) return make_error(field, "environment variable " + var + " is not set");
    return std::string(v);
  }
  if (ref.rfind("file:", 0) == 0) {
    const std::string path = ref.substr(5);
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(field, "cannot read the file " + path);
    std::string text(kMaxSecretFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxSecretFileBytes) return make_error(field, path + " is larger than 1 MiB");
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }
  return make_error(field, "unknown reference; use ${env:NAME} or ${file:PATH}");
}

Status validate(const KafkaConfig& c) {
  if (c.group_id.empty()) return make_error("kafka.group_id", "must not be empty");
  const std::pair<const char*, const std::string*> topics[] = {
      {"kafka.topics.transactions", &c.topics.transactions},
      {"kafka.topics.labels", &c.topics.labels},
      {"kafka.topics.decisions", &c.topics.decisions},
      {"kafka.topics.alerts", &c.topics.alerts},
      {"kafka.topics.dead_letters", &c.topics.dead_letters}};
  for (const auto& [field, name] : topics) {
    if (Status st = check_topic(field, *name); !st.ok()) return st;
  }
  if (c.topics.transactions == c.topics.labels) {
    return make_error("kafka.topics.labels", "must differ from kafka.topics.transactions");
  }
  if (!(c.checkpoint_interval_s > 0) || c.checkpoint_interval_s > 86400) {
    return make_error("kafka.checkpoint_interval_s", "must be more than 0 and at most 86400");
  }
  if (c.max_inflight_batches < 2 || c.max_inflight_batches > 100000) {
    return make_error("kafka.max_inflight_batches", "must be 2..100000");
  }
  if (c.max_output_queue < 100 || c.max_output_queue > 10'000'000) {
    return make_error("kafka.max_output_queue", "must be 100..10000000");
  }
  if (c.batch_max_ms < 1 || c.batch_max_ms > 10000) {
    return make_error("kafka.batch_max_ms", "must be 1..10000");
  }
  if (c.store_max_delay_ms < 1 || c.store_max_delay_ms > 10000) {
    return make_error("kafka.store_max_delay_ms", "must be 1..10000");
  }
  for (KafkaRole role : {KafkaRole::kConsumer, KafkaRole::kProducer}) {
    auto conf = make_conf(c, role);
    if (!conf.ok()) return conf.error();
  }
  return Status::Ok();
}

Result<std::unique_ptr<RdKafka::Conf>> make_conf(const KafkaConfig& c, KafkaRole role) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  auto must = [&](const char* name, const std::string& value) {
    return set(*conf, std::string("kafka.") + name, name, value);
  };
  if (!c.brokers.empty()) {
    if (Status st = set(*conf, "kafka.brokers", "bootstrap.servers", c.brokers); !st.ok()) {
      return st.error();
    }
  }
  Status st = must("client.id", "fraudwatch");
  if (role == KafkaRole::kConsumer) {
    if (st.ok()) st = set(*conf, "kafka.group_id", "group.id", c.group_id);
    // Offsets are committed explicitly, only once the decisions they cover are durable.
    if (st.ok()) st = must("enable.auto.commit", "false");
    if (st.ok()) st = must("enable.auto.offset.store", "false");
    if (st.ok()) st = must("auto.offset.reset", "earliest");
    if (st.ok()) st = must("partition.assignment.strategy", "range");
    if (st.ok()) st = must("enable.partition.eof", "false");
  } else {
    if (st.ok()) st = must("enable.idempotence", "true");
    if (st.ok()) st = must("linger.ms", "5");
  }
  if (!st.ok()) return st.error();
  for (const auto& [name, raw] : c.properties) {
    const std::string field = "kafka.properties." + name;
    if (name == "group.id" || name == "bootstrap.servers" || name == "enable.auto.commit") {
      return make_error(field, "set by fraudwatch; use kafka.group_id / kafka.brokers instead");
    }
    // Consumer-only and producer-only properties are accepted by both kinds of handle, so every
    // property is set on both: a misspelt name fails either way.
    auto value = resolve_property_value(field, raw);
    if (!value.ok()) return value.error();
    if (Status s = set(*conf, field, name, *value); !s.ok()) return s.error();
  }
  return conf;
}

std::string describe_properties(const KafkaConfig& c) {
  std::string out;
  for (const auto& [name, _] : c.properties) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "(none)" : out;
}

}  // namespace fw
