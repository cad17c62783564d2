// The PostgreSQL implementation of Store, for production: many engine processes can share one
// server, which owns durability, retention and backups. One writer connection used only inside
// write() (COPY into session staging tables, then INSERT ... ON CONFLICT DO NOTHING, all in one
// database transaction with the checkpoint), and a small pool of read connections for the API,
// so dashboard reads never wait behind a batch. A lost connection is re-established on the next
// call; until then calls return errors (the StoreWriter retries them). Created by
// open_postgres_store(); the caller owns it. Thread-safety: as Store.
#pragma once

#include <climits>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "storage/store.h"

namespace fw {

struct PostgresOptions {
  // libpq URI or conninfo; "" = libpq's PG* environment variables (see database_url()).
  // TLS through sslmode (e.g. ?sslmode=verify-full). Never logged with its password.
  std::string url;
  // Apply pending migrations at open. false: refuse a database whose schema is older than this
  // build (run `fraudwatch db migrate` first), so a deploy never migrates by surprise.
  bool migrate = true;
  size_t read_connections = 4;   // the read pool's size (connections opened on first use)
  int partition_days_ahead = 3;  // daily transaction partitions created ahead of today at open
  // Stamps checkpoints.updated_at, schema_migrations.applied_at and decides "today" for
  // partitions. nullptr: the system clock. Must outlive the store.
  const Clock* clock = nullptr;
};

// The schema version this build migrates databases to.
int postgres_latest_schema_version();

// Connects, migrates (or checks the version) and prepares the writer. Errors say what to do:
// "cannot connect to PostgreSQL (db.example:5432/fraud as fw): ...; the server is unreachable
// ...", "database ... has schema version 9 but this fraudwatch knows up to 1; upgrade
// fraudwatch", "... schema version 0 is older than this build's 1; run fraudwatch db migrate".
Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options);

// Applies pending migrations; returns {version before, version after}. Serialised across
// processes by an advisory lock, each migration in its own transaction. `up_to_version` stops
// after that migration (tests of an upgrade from an older schema); the default applies all.
struct MigrationOutcome {
  int from = 0;
  int to = 0;
};
Result<MigrationOutcome> migrate_postgres(const std::string& url, const Clock& clock,
                                          int up_to_version = INT_MAX);

// Partition maintenance: creates the daily `transactions` partitions from today to
// today + days_ahead, and when retention_days > 0 drops whole partitions that end before
// today - retention_days, deletes the decisions (and with them their alerts) decided before
// that day, and recomputes the row counters. Safe to run while writers run (run it daily, from
// cron or `fraudwatch db maintain`).
struct MaintenanceOutcome {
  std::vector<std::string> created;
  std::vector<std::string> dropped;
  int64_t decisions_deleted = 0;
};
Result<MaintenanceOutcome> maintain_postgres(const std::string& url, Timestamp now, int days_ahead,
                                             int retention_days);

// The name of the partition holding UTC day `day` (days since 1970-01-01): transactions_YYYYMMDD.
std::string transactions_partition_name(int64_t day);

}  // namespace fw
