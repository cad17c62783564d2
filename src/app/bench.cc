// `fraudwatch bench`: the engine alone (or with SQLite persistence) on pre-generated transactions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/commands.h"
#include "app/model_serving.h"
#include "app/setup.h"
#include "engine/engine.h"
#include "rules/rule_set.h"
#include "sinks/store_writer.h"
#include "sources/simulator.h"
#include "storage/pg_connection.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace fw {
namespace {

// Discards decisions after counting them: measures the engine, not a sink.
class CountingSink final : public DecisionSink {
 public:
  void consume(ScoredBatch&& batch) override {
    count_.fetch_add(batch.scored.size(), std::memory_order_relaxed);
  }
  uint64_t count() const { return count_.load(); }

 private:
  std::atomic<uint64_t> count_{0};
};

}  // namespace

int run_bench(const BenchOptions& options) {
  const AppConfig& cfg = options.config;
  if (options.transactions == 0) {
    spdlog::error("--transactions must be at least 1");
    return 2;
  }
  SimulatorConfig sc = simulator_config(cfg);
  sc.customers = options.accounts;
  sc.merchants = std::max<size_t>(cfg.merchants, options.accounts / 50);
  auto valid = validate(sc);
  if (!valid.ok()) {
    spdlog::error("simulator: {}", valid.error().message());
    return 2;
  }
  if (!options.json) {
    fmt::print(stderr, "generating {} transactions over {} accounts...\n", options.transactions,
               options.accounts);
  }
  Simulator sim(*valid);
  std::vector<SourceBatch> batches;
  for (uint64_t left = options.transactions; left > 0;) {
    size_t n = std::min<uint64_t>(left, cfg.batch_size);
    SourceBatch b;
    sim.next_batch(n, b.txs);
    b.source_offset_end = static_cast<int64_t>(sim.produced());
    batches.push_back(std::move(b));
    left -= n;
  }

  EngineConfig ec;
  ec.shards = cfg.effective_shards();
  ec.queue_batches = cfg.queue_batches;
  ec.features.initial_accounts = options.accounts / static_cast<size_t>(ec.shards) + 1024;

  CountingSink counting;
  std::unique_ptr<Store> store;
  std::unique_ptr<StoreWriter> writer;
  if (!options.sqlite.empty()) {
    std::error_code err;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(options.sqlite + suffix, err);
    }
    auto opened = open_sqlite_store({.path = options.sqlite});
    if (!opened.ok()) {
      spdlog::error("{}", opened.error().message());
      return 1;
    }
    store = std::move(*opened);
  } else if (options.postgres || cfg.backend == "postgres") {
    auto opened = open_postgres_store({.url = database_url(cfg.database_url)});
    if (!opened.ok()) {
      spdlog::error("{}", opened.error().message());
      return 1;
    }
    store = std::move(*opened);
    auto before = store->counts();
    if (before.ok() && before->transactions > 0) {
      spdlog::warn(
          "the database already holds {} transactions; ids seen before are skipped, "
          "which is cheaper than storing them: bench into an empty database",
          before->transactions);
    }
  }
  if (store) {
    writer =
        std::make_unique<StoreWriter>(*store, StoreWriterOptions{.checkpoint_source = "bench"});
    writer->start();
  }
  DecisionSink& sink = writer ? static_cast<DecisionSink&>(*writer) : counting;
  std::shared_ptr<const RuleSet> rules = load_rules(cfg);
  if (!rules) return 2;
  auto models = load_model_bundle(cfg.model_path, cfg.shadow_model_path, cfg);
  if (!models.ok()) {
    spdlog::error("{}", models.error().message());
    return 2;
  }
  Engine engine(ec, rules, sink);
  engine.set_models(*models);
  engine.start();

  const auto t0 = std::chrono::steady_clock::now();
  for (auto& b : batches) engine.submit(std::move(b));
  engine.drain();
  if (writer) writer->stop();  // include the final commit in the measured time
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  engine.stop();

  const EngineMetrics m = engine.metrics();
  const double tps = static_cast<double>(m.transactions) / secs;
  auto us = [&](double q) { return static_cast<double>(m.latency.percentile(q)) / 1000.0; };
  const bool pg = writer && options.sqlite.empty();
  const std::string scoring = *models ? "rules + model" : "rules";
  const std::string mode =
      writer ? (pg ? "engine + PostgreSQL store" : "engine + SQLite store") + (" (" + scoring + ")")
             : "engine only (" + scoring + ")";
  if (options.json) {
    nlohmann::json j = {
        {"mode", writer ? (pg ? "postgres" : "sqlite") : "engine"},
        {"transactions", m.transactions},
        {"model", *models ? (*models)->version : ""},
        {"accounts", options.accounts},
        {"shards", engine.shard_count()},
        {"batch_size", cfg.batch_size},
        {"seconds", secs},
        {"tx_per_s", tps},
        {"latency_us", {{"p50", us(0.5)}, {"p99", us(0.99)}, {"p999", us(0.999)}}},
        {"decisions",
         {{"ALLOW", m.by_action[0]}, {"REVIEW", m.by_action[1]}, {"BLOCK", m.by_action[2]}}}};
    if (writer) j["stored"] = writer->stats().stored;
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("mode:         {}\n", mode);
    fmt::print("transactions: {} over {} accounts, {} shards, batches of {}\n", m.transactions,
               options.accounts, engine.shard_count(), cfg.batch_size);
    fmt::print("throughput:   {:.0f} transactions/s ({:.3f} s)\n", tps, secs);
    fmt::print(
        "latency:      p50 {:.1f} us, p99 {:.1f} us, p99.9 {:.1f} us "
        "(submit to decision, at full load, queueing included)\n",
        us(0.5), us(0.99), us(0.999));
    fmt::print("decisions:    ALLOW {}  REVIEW {}  BLOCK {}\n", m.by_action[0], m.by_action[1],
               m.by_action[2]);
    if (writer) fmt::print("stored:       {}\n", writer->stats().stored);
  }
  return 0;
}

}  // namespace fw
