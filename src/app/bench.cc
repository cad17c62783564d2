// `fraudwatch bench`: the engine alone (or with SQLite persistence) on pre-generated transactions.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
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

  // With the database down the writer retries for ever and backpressure blocks submit() and
  // drain(); this watcher makes the writer give up once writes have failed, with no success in
  // between, for --store-timeout seconds.
  using Steady = std::chrono::steady_clock;
  const auto store_timeout = std::chrono::duration_cast<Steady::duration>(
      std::chrono::duration<double>(options.store_timeout_s));
  std::mutex watch_mu;
  std::condition_variable watch_cv;
  bool finished = false;  // guarded by watch_mu
  std::thread store_watch;
  if (writer) {
    store_watch = std::thread([&] {
      bool failing = false;
      Steady::time_point failing_since{};
      uint64_t writes_seen = 0;
      std::unique_lock lock(watch_mu);
      while (!watch_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return finished; })) {
        const StoreWriterStats ws = writer->stats();
        if (ws.healthy || ws.writes != writes_seen) {
          failing = false;
          writes_seen = ws.writes;
        } else if (!failing) {
          failing = true;
          failing_since = Steady::now();
        } else if (Steady::now() - failing_since >= store_timeout) {
          writer->give_up_at(Steady::now());
          return;
        }
      }
    });
  }

  const auto t0 = Steady::now();
  for (auto& b : batches) engine.submit(std::move(b));
  engine.drain();
  if (writer) writer->stop();  // include the final commit in the measured time
  const double secs = std::chrono::duration<double>(Steady::now() - t0).count();
  engine.stop();
  if (store_watch.joinable()) {
    {
      std::lock_guard lock(watch_mu);
      finished = true;
    }
    watch_cv.notify_all();
    store_watch.join();
  }
  if (writer && writer->stats().abandoned > 0) {
    const StoreWriterStats ws = writer->stats();
    spdlog::error(
        "gave up: store writes failed for {} s without a success ({} failed attempts); {} of {} "
        "transactions were not stored. Last error: {}",
        options.store_timeout_s, ws.failed_writes, ws.abandoned, options.transactions,
        ws.last_error);
    return 1;
  }

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
