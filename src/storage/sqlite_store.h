// The SQLite implementation of Store: one database file in WAL mode, a writer connection used
// only inside write() and a read connection shared by readers under a mutex. Readers never block
// the writer and see only committed batches. Created by open_sqlite_store(); the caller owns it.
// Thread-safety: as Store (write() from one thread at a time; reads from any thread).
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "storage/store.h"

namespace fw {

struct SqliteOptions {
  std::string path;  // the database file; created if missing (its directory must exist)
  // false: synchronous=NORMAL. A batch is durable once write() returns if the process dies
  //   (crash, SIGKILL); a power loss or kernel crash may lose the last batches (never corrupts).
  // true: synchronous=FULL. Also durable against power loss, at the price of an fsync per
  //   write() (a few ms on ordinary disks; use larger batches).
  bool synchronous_full = false;
  int busy_timeout_ms = 5000;  // how long to wait for another connection's lock
  // Page size of a new database file (existing files keep theirs). Measured with 4096-row
  // batches: 16 KiB pages write ~10% faster than 4 KiB ones (fewer b-tree pages per batch).
  int page_size = 16384;
  // Page cache per connection, in KiB. The writer's index pages stay hot with a larger cache.
  int cache_kib = 64 * 1024;
  // Stamps checkpoints.updated_at and schema_migrations.applied_at. nullptr: the system clock.
  // Must outlive the store.
  const Clock* clock = nullptr;
};

// The schema version this build migrates databases to.
int sqlite_latest_schema_version();

// Opens (creating if needed) and migrates to the latest schema. Errors name the path and say
// what to do (e.g. "cannot open database 'x.db': unable to open database file; check that the
// directory exists and is writable", or "database 'x.db' has schema version 7 but this
// fraudwatch knows up to 3; upgrade fraudwatch").
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

}  // namespace fw
