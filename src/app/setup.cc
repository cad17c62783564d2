#include "app/setup.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "storage/pg_connection.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace fw {

std::shared_ptr<const RuleSet> load_rules(const AppConfig& cfg) {
  if (cfg.rules_path.empty()) return RuleSet::defaults();
  auto loaded = RuleSet::from_file(cfg.rules_path);
  if (!loaded.ok()) {
    spdlog::error("{}", loaded.error().message());
    return nullptr;
  }
  return *loaded;
}

ListProvider store_list_provider(Store& store) {
  return [&store](const std::string& name) { return store.list_values(name); };
}

std::shared_ptr<const RuleSet> load_rules(const AppConfig& cfg, Store& store) {
  if (cfg.rules_path.empty()) return RuleSet::defaults();
  auto loaded = RuleSet::from_file(cfg.rules_path, store_list_provider(store));
  if (!loaded.ok()) {
    spdlog::error("{}", loaded.error().message());
    return nullptr;
  }
  return *loaded;
}

SimulatorConfig simulator_config(const AppConfig& cfg) {
  SimulatorConfig sc;
  sc.seed = cfg.seed;
  sc.customers = cfg.customers;
  sc.merchants = cfg.merchants;
  sc.fraud_ratio = cfg.fraud_ratio;
  return sc;
}

Result<std::unique_ptr<Store>> open_store(const AppConfig& cfg, bool fresh) {
  if (cfg.backend == "postgres") {
    if (fresh) {
      return make_error("--fresh",
                        "is only for the SQLite demo database; fraudwatch never "
                        "deletes a PostgreSQL database");
    }
    return open_postgres_store({.url = database_url(cfg.database_url),
                                .migrate = cfg.migrate,
                                .read_connections = cfg.read_connections,
                                .partition_days_ahead = cfg.partition_days_ahead});
  }
  const std::string path = cfg.sqlite_file();
  if (fresh) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
  }
  return open_sqlite_store({.path = path, .synchronous_full = cfg.synchronous_full});
}

std::string describe_store(const AppConfig& cfg) {
  if (cfg.backend != "postgres") return "SQLite " + cfg.sqlite_file();
  std::string url = database_url(cfg.database_url);
  return "PostgreSQL " + (url.empty() ? std::string("(from PG* variables)") : redact_conninfo(url));
}

void add_ready_route(HttpServer& server, const StoreWriter& writer) {
  server.route("GET", "/ready", [&writer](const HttpRequest&) {
    const StoreWriterStats ws = writer.stats();
    if (ws.healthy) {
      nlohmann::json body = {
          {"status", "ready"}, {"rejected", ws.rejected}, {"abandoned", ws.abandoned}};
      return HttpResponse::json(200, body.dump());
    }
    nlohmann::json body = {{"status", "store failing"},
                           {"error", ws.last_error},
                           {"failed_writes", ws.failed_writes},
                           {"rejected", ws.rejected},
                           {"abandoned", ws.abandoned}};
    return HttpResponse::json(503, body.dump());
  });
}

}  // namespace fw
