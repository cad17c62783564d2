// `fraudwatch db migrate|maintain`: PostgreSQL schema migrations and partition maintenance,
// run by an operator or a deploy/cron job (docs/production.md).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "storage/pg_connection.h"
#include "storage/postgres_store.h"

namespace fw {

int run_db(const DbOptions& options) {
  const AppConfig& cfg = options.config;
  const std::string url = database_url(cfg.database_url);
  const std::string where = url.empty() ? "PostgreSQL from PG* variables" : redact_conninfo(url);
  const Clock& clock = SystemClock::instance();
  if (options.action == "migrate") {
    auto m = migrate_postgres(url, clock);
    if (!m.ok()) {
      spdlog::error("{}", m.error().message());
      return 1;
    }
    if (m->from == m->to) {
      spdlog::info("{}: schema is up to date (version {})", where, m->to);
    } else {
      spdlog::info("{}: migrated schema from version {} to {}", where, m->from, m->to);
    }
    return 0;
  }
  if (options.action == "maintain") {
    auto m = maintain_postgres(url, clock.now(), cfg.partition_days_ahead, cfg.retention_days);
    if (!m.ok()) {
      spdlog::error("{}", m.error().message());
      return 1;
    }
    spdlog::info(
        "{}: created {} partition(s){}; dropped {} partition(s){}; deleted {} decisions", where,
        m->created.size(),
        m->created.empty() ? "" : " (" + fmt::format("{}", fmt::join(m->created, ", ")) + ")",
        m->dropped.size(),
        m->dropped.empty() ? "" : " (" + fmt::format("{}", fmt::join(m->dropped, ", ")) + ")",
        m->decisions_deleted);
    if (cfg.retention_days == 0) spdlog::info("retention is off (storage.retention_days: 0)");
    return 0;
  }
  spdlog::error("db: unknown action '{}'; use migrate or maintain", options.action);
  return 2;
}

}  // namespace fw
