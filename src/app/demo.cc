// `fraudwatch demo`: simulator -> engine -> SQLite, with the HTTP server and a live status line.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/commands.h"
#include "app/lists_api.h"
#include "app/live_stats.h"
#include "app/model_serving.h"
#include "app/registry_models.h"
#include "app/rules_api.h"
#include "app/setup.h"
#include "app/shutdown.h"
#include "engine/engine.h"
#include "rules/rule_set.h"
#include "server/http_server.h"
#include "server/live_page.h"
#include "sinks/store_writer.h"
#include "sources/simulator.h"

namespace fw {
namespace {

using Steady = std::chrono::steady_clock;

// A decision's model part for the API: null without models, else the scores (null when not
// computed), the version and the top feature contributions (largest |value| first).
nlohmann::json model_json(const Decision& d) {
  if (d.model_version.empty() && std::isnan(d.model_score) && std::isnan(d.anomaly_score) &&
      std::isnan(d.shadow_score)) {
    return nullptr;
  }
  auto number = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
  nlohmann::json contributions = nlohmann::json::array();
  for (const FeatureContribution& c : d.contributions) {
    contributions.push_back({{"feature", c.feature}, {"value", c.value}});
  }
  return {{"model_score", number(d.model_score)},
          {"model_version", d.model_version},
          {"shadow_score", number(d.shadow_score)},
          {"anomaly_score", number(d.anomaly_score)},
          {"contributions", contributions}};
}

nlohmann::json alert_json(const AlertRow& row) {
  return {{"transaction_id", row.alert.transaction_id},
          {"model", model_json(row.decision)},
          {"account_id", row.alert.account_id},
          {"created_at", format_rfc3339(row.alert.created_at)},
          {"tx_time", format_rfc3339(row.tx.ts)},
          {"action", to_string(row.alert.action)},
          {"score", row.alert.score},
          {"summary", row.alert.summary},
          {"amount", format_decimal_amount(row.tx.amount.minor, row.tx.amount.currency)},
          {"currency", row.tx.amount.currency.code()},
          {"merchant_id", row.tx.merchant_id},
          {"country", row.tx.country.code()},
          {"fraud_pattern", row.tx.fraud_pattern}};
}

// Registers the live page and its API on the server.
void add_routes(HttpServer& server, Store& store, LiveStats& stats, const StoreWriter& writer) {
  add_ready_route(server, writer);
  server.route("GET", "/", [](const HttpRequest&) {
    return HttpResponse::html(200, std::string(live_page_html()));
  });
  server.route("GET", "/api/stats",
               [&stats](const HttpRequest&) { return HttpResponse::json(200, stats.to_json()); });
  server.route("GET", "/api/alerts", [&store](const HttpRequest& req) {
    std::string limit_text = req.param("limit", "20");
    char* end = nullptr;
    long limit = std::strtol(limit_text.c_str(), &end, 10);
    if (end == limit_text.c_str() || *end != '\0' || limit < 1 || limit > 1000) {
      return HttpResponse::error(400, "limit: must be an integer from 1 to 1000");
    }
    auto rows = store.recent_alerts(static_cast<size_t>(limit));
    if (!rows.ok()) return HttpResponse::error(503, "store unavailable: " + rows.error().message());
    nlohmann::json alerts = nlohmann::json::array();
    for (const AlertRow& row : *rows) alerts.push_back(alert_json(row));
    return HttpResponse::json(200, nlohmann::json{{"alerts", alerts}}.dump());
  });
  // One transaction and its decision, with the model's scores and contributions.
  server.route("GET", "/api/transaction", [&store](const HttpRequest& req) {
    const std::string id = req.param("id");
    if (id.empty() || id.size() > 256) {
      return HttpResponse::error(400, "id: must be a transaction id of 1 to 256 characters");
    }
    auto row = store.find_transaction(id);
    if (!row.ok()) return HttpResponse::error(503, "store unavailable: " + row.error().message());
    if (!*row) return HttpResponse::error(404, "id: no transaction '" + id + "'");
    const Transaction& tx = (*row)->tx;
    const Decision& d = (*row)->decision;
    nlohmann::json reasons = nlohmann::json::array();
    for (const Reason& r : d.reasons) {
      reasons.push_back({{"rule_id", r.rule_id}, {"detail", r.detail}, {"score", r.score}});
    }
    nlohmann::json body = {
        {"transaction_id", tx.id},
        {"account_id", tx.account_id},
        {"tx_time", format_rfc3339(tx.ts)},
        {"amount", format_decimal_amount(tx.amount.minor, tx.amount.currency)},
        {"currency", tx.amount.currency.code()},
        {"merchant_id", tx.merchant_id},
        {"country", tx.country.code()},
        {"fraud_pattern", tx.fraud_pattern},
        {"decision", d.decided_at == 0
                         ? nlohmann::json()
                         : nlohmann::json{{"action", to_string(d.action)},
                                          {"score", d.score},
                                          {"decided_at", format_rfc3339(d.decided_at)},
                                          {"rule_set_version", d.rule_set_version},
                                          {"reasons", reasons},
                                          {"model", model_json(d)}}}};
    return HttpResponse::json(200, body.dump());
  });
}

}  // namespace

int run_demo(const DemoOptions& options) {
  const AppConfig& cfg = options.config;
  std::error_code ec;
  if (cfg.backend == "sqlite") std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    spdlog::error("cannot create data directory '{}': {}; pick another with --data-dir",
                  cfg.data_dir, ec.message());
    return 1;
  }
  auto store = open_store(cfg, options.fresh);
  if (!store.ok()) {
    spdlog::error("{}", store.error().message());
    return 1;
  }

  std::shared_ptr<const RuleSet> rules = load_rules(cfg, **store);
  if (!rules) return 2;
  auto models = load_model_bundle(cfg.model_path, cfg.shadow_model_path, cfg);
  if (!models.ok()) {
    spdlog::error("{}", models.error().message());
    return 2;
  }

  auto valid = validate(simulator_config(cfg));
  if (!valid.ok()) {
    spdlog::error("simulator: {}", valid.error().message());
    return 2;
  }
  // The checkpoint key names everything that determines the simulated stream, so a restart with
  // other settings starts a new stream instead of resuming a different one.
  const std::string source = fmt::format("simulator:seed={}:customers={}:merchants={}:fraud={}",
                                         cfg.seed, cfg.customers, cfg.merchants, cfg.fraud_ratio);
  auto resume = (*store)->checkpoint(source);
  if (!resume.ok()) {
    spdlog::error("{}", resume.error().message());
    return 1;
  }
  const uint64_t resume_offset = resume->value_or(0);

  StoreWriter writer(**store, {.checkpoint_source = source});
  EngineConfig engine_config;
  engine_config.shards = cfg.effective_shards();
  engine_config.queue_batches = cfg.queue_batches;
  Engine engine(engine_config, rules, writer);
  engine.set_models(*models);
  // Without --model/--shadow-model the engine serves the registry's champion and shadow and
  // follows the registry (polled once a second below; POST /api/models/activate).
  auto followed = follow_registry(**store, cfg, engine);
  if (!followed.ok()) {
    spdlog::error("{}", followed.error().message());
    return 2;
  }
  std::unique_ptr<RegistryModels> registry = std::move(followed).value();
  Simulator sim(*valid);
  LiveStats stats;

  // Hot reload: the file is polled once a second from the loop below, and reloaded on SIGHUP
  // or POST /api/rules/reload. A rejected file leaves the running rule set in place.
  std::unique_ptr<RuleReloader> reloader;
  if (!cfg.rules_path.empty()) {
    reloader = std::make_unique<RuleReloader>(
        cfg.rules_path, rules,
        [&engine](std::shared_ptr<const RuleSet> r) { engine.set_rules(std::move(r)); },
        store_list_provider(**store));
  }
  HttpServer server({.bind_address = cfg.bind, .port = static_cast<uint16_t>(cfg.port)});
  add_routes(server, **store, stats, writer);
  add_rules_routes(server, engine, reloader.get(),
                   [&writer] { return store_writer_prometheus(writer.stats()); });
  add_model_routes(server, engine, cfg);
  add_registry_routes(server, engine, registry.get());
  add_list_routes(server, **store);
  if (Status st = server.start(); !st.ok()) {
    spdlog::error("{}", st.error().message());
    return 1;
  }
  install_shutdown_handlers();
  writer.start();
  engine.start();
  // Stopping starts the give-up clock at once: with the database down, the main loop below may
  // be blocked in engine.submit() (backpressure) and would never reach the drain otherwise.
  const auto shutdown_timeout = std::chrono::duration_cast<Steady::duration>(
      std::chrono::duration<double>(options.shutdown_timeout_s));
  std::atomic<bool> finished{false};
  std::thread shutdown_watch([&] {
    while (!finished.load() && !shutdown_requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!finished.load()) writer.give_up_at(Steady::now() + shutdown_timeout);
  });
  spdlog::info("fraudwatch demo: {} shards, rules {}, store {}", engine.shard_count(),
               rules->version(), describe_store(cfg));
  if (const std::shared_ptr<const ModelBundle> m = engine.models()) {
    spdlog::info("models{}: champion {}, shadow {}, anomaly score {}",
                 registry ? " from the registry" : "", m->champion ? m->version : "none",
                 m->shadow ? m->shadow_version : "none", m->forest ? "on" : "off");
  }
  std::string host = cfg.bind == "0.0.0.0" ? "localhost" : cfg.bind;
  fmt::print(stderr, "\n  dashboard: http://{}:{}/   (Ctrl-C to stop)\n\n", host, server.port());
  std::fflush(stderr);

  // Resuming: regenerate the transactions already decided and fold them into the account state
  // without scoring or storing them again, so features continue where they were.
  SourceBatch batch;
  const size_t batch_size = cfg.batch_size;
  if (resume_offset > 0) {
    spdlog::info("resuming the simulated stream at transaction {} (rebuilding state)",
                 resume_offset);
    while (sim.produced() < resume_offset && !shutdown_requested()) {
      batch = SourceBatch{};
      sim.next_batch(std::min<uint64_t>(batch_size, resume_offset - sim.produced()), batch.txs);
      sim.take_due_labels(batch.labels);
      batch.source_offset_end = static_cast<int64_t>(sim.produced());
      batch.warm_up = true;
      engine.submit(std::move(batch));
    }
  }

  const bool tty = isatty(STDERR_FILENO) != 0 && !options.quiet;
  const auto started = Steady::now();
  auto next_sample = started;
  auto next_batch_at = started;
  // Paced mode sends small batches often (20 per second) so the stream looks continuous.
  const size_t paced_batch =
      cfg.rate > 0 ? std::max<size_t>(1, static_cast<size_t>(cfg.rate / 20.0)) : batch_size;
  const auto interval =
      cfg.rate > 0 ? std::chrono::duration<double>(static_cast<double>(paced_batch) / cfg.rate)
                   : std::chrono::duration<double>(0);
  uint64_t samples = 0;
  auto sample = [&] {
    double up = std::chrono::duration<double>(Steady::now() - started).count();
    stats.sample(up, engine.metrics(), writer.stats(), sim.now(), 0);
  };
  for (;;) {
    if (shutdown_requested()) break;
    if (options.count > 0 && sim.produced() >= options.count) break;
    auto now = Steady::now();
    if (options.duration_s > 0 &&
        std::chrono::duration<double>(now - started).count() >= options.duration_s) {
      break;
    }
    if (now >= next_sample) {
      if (reloader) {
        log_reload(reloader->poll(), "file or store list changed");
        if (take_reload_request()) log_reload(reloader->reload(), "SIGHUP");
      }
      if (registry) log_registry_poll(registry->poll(), engine);
      sample();
      if (tty) {
        fmt::print(stderr, "\r{}\x1b[K", stats.status_line());
      } else if (!options.quiet && ++samples % 10 == 0) {
        spdlog::info("{}", stats.status_line());
      }
      next_sample += std::chrono::seconds(1);
    }
    size_t n = paced_batch;
    if (options.count > 0) n = std::min<uint64_t>(n, options.count - sim.produced());
    batch = SourceBatch{};
    sim.next_batch(n, batch.txs);
    sim.take_due_labels(batch.labels);
    batch.source_offset_end = static_cast<int64_t>(sim.produced());
    engine.submit(std::move(batch));
    if (cfg.rate > 0) {
      next_batch_at += std::chrono::duration_cast<Steady::duration>(interval);
      if (Steady::now() - next_batch_at > std::chrono::seconds(1)) next_batch_at = Steady::now();
      std::this_thread::sleep_until(std::min(next_batch_at, next_sample));
    }
  }
  if (tty) fmt::print(stderr, "\n");
  spdlog::info(
      "stopping: draining the engine and flushing the store (giving up after {} s "
      "if the database stays unavailable)",
      options.shutdown_timeout_s);
  writer.give_up_at(Steady::now() + shutdown_timeout);
  engine.stop();
  writer.stop();
  finished.store(true);
  shutdown_watch.join();
  sample();
  server.stop();
  const StoreWriterStats ws = writer.stats();
  const double secs = std::chrono::duration<double>(Steady::now() - started).count();
  const EngineMetrics m = engine.metrics();
  fmt::print(stderr,
             "scored {} transactions in {:.1f} s ({:.0f} tx/s): ALLOW {} REVIEW {} BLOCK {}; "
             "stored {} (checkpoint {}); p50 {:.0f} us, p99 {:.0f} us\n",
             m.transactions, secs, static_cast<double>(m.transactions) / std::max(secs, 1e-9),
             m.by_action[0], m.by_action[1], m.by_action[2], ws.stored, ws.checkpoint,
             static_cast<double>(m.latency.percentile(0.5)) / 1000.0,
             static_cast<double>(m.latency.percentile(0.99)) / 1000.0);
  if (ws.abandoned > 0) {
    fmt::print(stderr,
               "error: the database stayed unavailable for {} s while stopping, so the last {} "
               "transactions were NOT stored ({}); they are not covered by the checkpoint ({}) "
               "and will be re-read from it when the demo is restarted with the same settings\n",
               options.shutdown_timeout_s, ws.abandoned, ws.last_error, ws.checkpoint);
    return 1;
  }
  return 0;
}

}  // namespace fw
