// `fraudwatch simulate --to kafka`: the simulator's traffic produced into a Kafka topic as JSON
// transactions keyed by account id, paced at --rate.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "app/commands.h"
#include "app/setup.h"
#include "app/shutdown.h"
#include "kafka/kafka_producer.h"
#include "model/json_codec.h"
#include "sources/simulator.h"

namespace fw {

int run_simulate_kafka(const SimulateOptions& options) {
  AppConfig cfg = options.config;
  if (!options.brokers.empty()) cfg.kafka.brokers = options.brokers;
  const std::string topic = options.topic.empty() ? cfg.kafka.topics.transactions : options.topic;
  if (cfg.kafka.brokers.empty()) {
    spdlog::error("--brokers: required with --to kafka (or kafka.brokers in the config)");
    return 2;
  }
  if (options.count == 0 && options.duration_s == 0) {
    spdlog::error("say how much to simulate: --count N or --duration SECONDS");
    return 2;
  }
  SimulatorConfig sc = simulator_config(cfg);
  sc.patterns = options.patterns;
  auto valid = validate(sc);
  if (!valid.ok()) {
    spdlog::error("{}", valid.error().message());
    return 2;
  }
  auto producer = KafkaProducer::create(cfg.kafka);
  if (!producer.ok()) {
    spdlog::error("{}", producer.error().message());
    return 2;
  }
  install_shutdown_handlers();
  Simulator sim(*valid);
  std::vector<Transaction> txs;
  std::string json;
  const auto started = std::chrono::steady_clock::now();
  auto next_at = started;
  const size_t chunk =
      cfg.rate > 0 ? std::max<size_t>(1, static_cast<size_t>(cfg.rate / 100)) : 1024;
  while (!shutdown_requested()) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (options.count > 0 && sim.produced() >= options.count) break;
    if (options.duration_s > 0 && elapsed >= options.duration_s) break;
    size_t n = chunk;
    if (options.count > 0) n = std::min<uint64_t>(n, options.count - sim.produced());
    txs.clear();
    sim.next_batch(n, txs);
    for (const Transaction& tx : txs) {
      json.clear();
      append_json(json, tx);
      (*producer)->produce(topic, tx.account_id, json);
    }
    if (cfg.rate > 0) {
      next_at += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          std::chrono::duration<double>(static_cast<double>(n) / cfg.rate));
      std::this_thread::sleep_until(next_at);
    }
  }
  const bool delivered = (*producer)->flush(60000);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(stderr, "produced {} transactions to {} in {:.2f} s ({:.0f} tx/s){}\n", sim.produced(),
             topic, secs, static_cast<double>(sim.produced()) / std::max(secs, 1e-9),
             delivered ? "" : "; some were NOT acknowledged by the broker");
  return delivered ? 0 : 1;
}

}  // namespace fw
