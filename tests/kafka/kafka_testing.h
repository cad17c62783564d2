// Helpers for the Kafka tests: an embedded mock cluster with fraudwatch's topics, a config file
// for `fraudwatch serve` pointing at it, and a reader of output topics. Header-only.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kafka/embedded_kafka.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_producer.h"
#include "model/json_codec.h"
#include "server/raw_http_client.h"
#include "sources/simulator.h"
#include "storage/sqlite_store.h"
#include "testing/paths.h"
#include "testing/process.h"

namespace fw::testing {

inline constexpr int kPartitions = 4;

// A unique consumer group per test (and per run), so no test sees another's offsets.
inline std::string unique_group(const std::string& name) {
  static std::atomic<int> n{0};
  return "fw-test-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

struct KafkaCluster {
  std::unique_ptr<EmbeddedKafka> kafka;
  KafkaTopics topics;

  KafkaCluster() {
    auto k = EmbeddedKafka::start(1);
    EXPECT_TRUE(k.ok()) << k.error().message();
    kafka = std::move(*k);
    for (const std::string& t :
         {topics.transactions, topics.labels, topics.decisions, topics.alerts}) {
      EXPECT_TRUE(kafka->create_topic(t, kPartitions).ok());
    }
    EXPECT_TRUE(kafka->create_topic(topics.dead_letters, 1).ok());
  }
  std::string brokers() const { return kafka->bootstraps(); }
  KafkaConfig config(const std::string& group) const {
    KafkaConfig c;
    c.brokers = brokers();
    c.group_id = group;
    return c;
  }
};

// A config file for `fraudwatch serve` against `brokers` (session timeout ~5 s, as the mock
// cluster needs; see FIELD-NOTES).
// `extra` is raw YAML appended at the end (top-level keys, or two-space indented kafka: keys).
inline std::string write_serve_config(const TempDir& dir, const std::string& brokers,
                                      const std::string& group, double checkpoint_s = 1,
                                      const std::string& extra = "") {
  const std::string path = dir.file("serve.yaml");
  std::ofstream out(path);
  out << "data_dir: " << dir.path().string() << "\n"
      << "engine:\n  shards: 2\n  batch_size: 256\n"
      << "kafka:\n  brokers: \"" << brokers << "\"\n  group_id: " << group << "\n"
      << "  checkpoint_interval_s: " << checkpoint_s << "\n"
      << "  properties:\n    session.timeout.ms: 5000\n    heartbeat.interval.ms: 500\n"
      << "    topic.metadata.refresh.interval.ms: 1000\n"
      << extra;
  return path;
}

inline std::vector<std::string> serve_args(const std::string& config) {
  return {fraudwatch_binary().string(),
          "serve",
          "--config",
          config,
          "--port",
          "0",
          "--log-level",
          "info"};
}

// Waits for `done` (checked every 50 ms) up to `deadline`; true when it became true.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::seconds deadline = std::chrono::seconds(120)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

inline int64_t stored_transactions(const std::string& db) {
  auto store = open_sqlite_store({.path = db});
  if (!store.ok()) return -1;
  auto c = (*store)->counts();
  return c.ok() ? c->transactions : -1;
}

// One message read back from a topic.
struct ReadMessage {
  std::string key, value;
  std::map<std::string, std::string> headers;
};

// Reads every partition of `topic` from the beginning until `enough` holds or the deadline.
inline std::vector<ReadMessage> read_topic(const std::string& brokers, const std::string& topic,
                                           int partitions,
                                           const std::function<bool(size_t)>& enough) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", unique_group("reader"), err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  EXPECT_TRUE(c) << err;
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < partitions; ++p) {
    parts.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  c->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  std::vector<ReadMessage> out;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!enough(out.size()) && std::chrono::steady_clock::now() < until) {
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    ReadMessage r;
    if (m->key() != nullptr) r.key = *m->key();
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    if (RdKafka::Headers* h = m->headers()) {
      for (const auto& hd : h->get_all()) {
        r.headers[hd.key()] = std::string(static_cast<const char*>(hd.value()), hd.value_size());
      }
    }
    out.push_back(std::move(r));
  }
  c->close();
  return out;
}

// `n` simulated transactions over 500 accounts.
inline std::vector<Transaction> simulated(uint64_t n, uint64_t seed = 11) {
  SimulatorConfig c;
  c.seed = seed;
  c.customers = 500;
  c.merchants = 100;
  Simulator sim(c);
  std::vector<Transaction> txs;
  sim.next_batch(n, txs);
  return txs;
}

// Produces `txs` as JSON keyed by account id (to `partition`, or by key when -1).
inline void produce_all(KafkaProducer& p, const std::string& topic,
                        const std::vector<Transaction>& txs, int32_t partition = -1) {
  for (const Transaction& tx : txs)
    p.produce(topic, tx.account_id, to_json(tx), {}, UINT64_MAX, partition);
}

// The metrics port serve prints in its banner ("metrics http://HOST:PORT/metrics"), 0 if none.
inline uint16_t serve_metrics_port(ChildProcess& serve) {
  auto line = serve.wait_for("metrics http://");
  if (!line) return 0;
  const size_t at = line->find(':', line->find("metrics http://") + 15);
  if (at == std::string::npos) return 0;
  return static_cast<uint16_t>(std::stoi(line->substr(at + 1)));
}

// One unlabelled sample from serve's /metrics (e.g. "fraudwatch_kafka_paused"), -1 if absent.
inline double serve_metric(uint16_t port, const std::string& name) {
  RawHttpClient client(port);
  client.send("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  const RawResponse r = client.read_response();
  if (r.status != 200) return -1;
  const std::string needle = "\n" + name + " ";
  const size_t at = r.body.find(needle);
  if (at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + needle.size()));
}

}  // namespace fw::testing
