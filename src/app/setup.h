// Pieces every command builds from the configuration the same way.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "rules/rule_set.h"
#include "server/http_server.h"
#include "sinks/store_writer.h"
#include "sources/simulator.h"
#include "storage/store.h"

namespace fw {

// The configured rule set (cfg.rules_path), or the built-in defaults when none is configured.
// Logs the error and returns null when the file is unreadable or invalid.
std::shared_ptr<const RuleSet> load_rules(const AppConfig& cfg);
// The same, with rule-file lists declared `store: true` read from `store`.
std::shared_ptr<const RuleSet> load_rules(const AppConfig& cfg, Store& store);

// Reads named lists from `store` for rule sets (`lists: {x: {store: true}}`). The store must
// outlive the provider.
ListProvider store_list_provider(Store& store);

// The simulator settings of the configuration (seed, population, fraud ratio).
SimulatorConfig simulator_config(const AppConfig& cfg);

// Opens the configured store: SQLite at cfg.sqlite_file() (deleted first when `fresh`), or
// PostgreSQL at cfg.database_url / $FRAUDWATCH_DATABASE_URL / PG* variables (migrated when
// cfg.migrate). `fresh` is refused for PostgreSQL: fraudwatch never deletes a shared database.
Result<std::unique_ptr<Store>> open_store(const AppConfig& cfg, bool fresh);

// Where the store lives, for logs: the SQLite path or the database URL with its password hidden.
std::string describe_store(const AppConfig& cfg);

// Registers GET /ready, next to the server's /health (alive): 200 while the writer's store
// writes succeed, 503 while they fail (the database is down or refusing; input is then held
// back and nothing is lost). Both answers carry the writer's rejected (refused for good, now
// dead letters) and abandoned (given up on at a bounded shutdown) transaction counts.
// `writer` must outlive the server.
void add_ready_route(HttpServer& server, const StoreWriter& writer);

}  // namespace fw
