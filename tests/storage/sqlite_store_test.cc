// SQLite-specific behaviour of the store: files, migrations, errors, and durability across a
// SIGKILL. The backend-neutral contract is in store_contract_test.cc.
#include "storage/sqlite_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "storage/store_test_data.h"
#include "testing/paths.h"

namespace fw {
namespace {

using storage_testing::expect_same_transaction;
using storage_testing::full_scored;
using storage_testing::minimal_scored;

// Runs SQL directly on the file (outside the store) and returns the first column of each row.
std::vector<std::string> raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto collect = [](void* rows, int, char** values, char**) {
    static_cast<std::vector<std::string>*>(rows)->push_back(values[0] ? values[0] : "NULL");
    return 0;
  };
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), collect, &out, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  return out;
}

std::unique_ptr<Store> open_ok(const std::string& path) {
  auto store = open_sqlite_store(SqliteOptions{.path = path});
  EXPECT_TRUE(store.ok()) << store.error().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<std::string> all_versions() {
  std::vector<std::string> v;
  for (int i = 1; i <= sqlite_latest_schema_version(); ++i) v.push_back(std::to_string(i));
  return v;
}

TEST(SqliteStore, CreatesAndMigratesANewFile) {
  testing::TempDir dir;
  auto store = open_ok(dir.file("new.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), sqlite_latest_schema_version());
  EXPECT_EQ(raw_sql(dir.file("new.db"), "SELECT version FROM schema_migrations ORDER BY version"),
            all_versions());
  EXPECT_EQ(raw_sql(dir.file("new.db"), "PRAGMA journal_mode"), std::vector<std::string>{"wal"});
}

TEST(SqliteStore, MigratesAnEmptyExistingFile) {
  testing::TempDir dir;
  std::ofstream(dir.file("empty.db")).flush();  // zero bytes: a valid, empty SQLite database
  auto store = open_ok(dir.file("empty.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), sqlite_latest_schema_version());
  WriteBatch b;
  b.scored.push_back(minimal_scored("tx-1", 1));
  EXPECT_TRUE(store->write(b).ok());
}

TEST(SqliteStore, ReopensAnExistingDatabaseWithItsData) {
  testing::TempDir dir;
  const std::string path = dir.file("reopen.db");
  WriteBatch b1;
  b1.scored.push_back(full_scored("tx-1", 10));
  b1.checkpoints.push_back({"sim", 1});
  {
    auto store = open_ok(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->write(b1).ok());
  }
  auto store = open_ok(path);
  ASSERT_NE(store, nullptr);
  // Reopening applies no migration twice.
  EXPECT_EQ(raw_sql(path, "SELECT version FROM schema_migrations ORDER BY version"),
            all_versions());
  auto tx = store->find_transaction("tx-1");
  ASSERT_TRUE(tx.ok() && tx->has_value());
  expect_same_transaction((*tx)->tx, b1.scored[0].tx);
  EXPECT_EQ(store->checkpoint("sim")->value_or(-1), 1);
  WriteBatch b2;
  b2.scored.push_back(minimal_scored("tx-2", 20));
  ASSERT_TRUE(store->write(b2).ok());
  ASSERT_TRUE(store->write(b1).ok());  // already stored before the restart: skipped
  EXPECT_EQ(store->counts()->transactions, 2);
}

TEST(SqliteStore, MigrationFromVersion1RebuildsTheCounters) {
  testing::TempDir dir;
  const std::string path = dir.file("v1.db");
  WriteBatch b;
  for (int i = 0; i < 9; ++i) {
    b.scored.push_back(minimal_scored("tx-" + std::to_string(i), i, static_cast<Action>(i % 3)));
  }
  b.dead_letters.push_back({"http", "x", "", "bad", 1});
  {
    auto store = open_ok(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->write(b).ok());
  }
  // Turn the file back into a version-1 database that already holds rows.
  // (Every later migration is undone too: 3 added engine_checkpoints, 4 named_lists, 5
  // decisions.model, 6 model_registry.)
  raw_sql(path,
          "DROP TABLE counters; DROP TABLE engine_checkpoints; DROP TABLE named_lists; "
          "ALTER TABLE decisions DROP COLUMN model; DROP TABLE model_registry; "
          "DELETE FROM schema_migrations WHERE version >= 2");
  auto store = open_ok(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), sqlite_latest_schema_version());
  auto c = store->counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->transactions, 9);
  EXPECT_EQ(c->decisions, 9);
  EXPECT_EQ(c->allow, 3);
  EXPECT_EQ(c->review, 3);
  EXPECT_EQ(c->block, 3);
  EXPECT_EQ(c->dead_letters, 1);
}

TEST(SqliteStore, RefusesADatabaseFromANewerFraudwatch) {
  testing::TempDir dir;
  const std::string path = dir.file("future.db");
  { ASSERT_NE(open_ok(path), nullptr); }
  raw_sql(path, "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)");
  auto store = open_sqlite_store(SqliteOptions{.path = path});
  ASSERT_FALSE(store.ok());
  const std::string& reason = store.error().reason;
  EXPECT_NE(reason.find(path), std::string::npos) << reason;
  EXPECT_NE(reason.find("schema version 999"), std::string::npos) << reason;
  EXPECT_NE(reason.find("knows up to " + std::to_string(sqlite_latest_schema_version())),
            std::string::npos)
      << reason;
  EXPECT_NE(reason.find("upgrade fraudwatch"), std::string::npos) << reason;
}

TEST(SqliteStore, ExplainsAPathItCannotOpen) {
  testing::TempDir dir;
  const std::string path = dir.file("no-such-dir") + "/x.db";
  auto store = open_sqlite_store(SqliteOptions{.path = path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().field, "storage.path");
  const std::string& reason = store.error().reason;
  EXPECT_NE(reason.find("cannot open database '" + path + "'"), std::string::npos) << reason;
  EXPECT_NE(reason.find("check that the directory exists and is writable"), std::string::npos)
      << reason;

  auto empty = open_sqlite_store(SqliteOptions{});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().field, "storage.path");
}

TEST(SqliteStore, ExplainsAFileThatIsNotADatabase) {
  testing::TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << "these are not the pages you are looking for\n" << std::string(8192, 'z');
  auto store = open_sqlite_store(SqliteOptions{.path = path});
  ASSERT_FALSE(store.ok());
  const std::string& reason = store.error().reason;
  EXPECT_NE(reason.find(path), std::string::npos) << reason;
  EXPECT_NE(reason.find("not a database"), std::string::npos) << reason;
}

TEST(SqliteStore, NoColumnCouldHoldACardNumber) {
  testing::TempDir dir;
  const std::string path = dir.file("pci.db");
  { ASSERT_NE(open_ok(path), nullptr); }
  auto columns = raw_sql(path,
                         "SELECT p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                         "WHERE m.type = 'table'");
  EXPECT_GT(columns.size(), 40u);
  for (const std::string& c : columns) {
    EXPECT_EQ(c.find("pan"), std::string::npos) << c;
    EXPECT_EQ(c.find("card_number"), std::string::npos) << c;
  }
}

TEST(SqliteStore, SynchronousFullIsAppliedWhenAsked) {
  testing::TempDir dir;
  auto store =
      open_sqlite_store(SqliteOptions{.path = dir.file("full.db"), .synchronous_full = true});
  ASSERT_TRUE(store.ok()) << store.error().message();
  WriteBatch b;
  b.scored.push_back(minimal_scored("tx-1", 1));
  EXPECT_TRUE((*store)->write(b).ok());
  EXPECT_EQ((*store)->counts()->transactions, 1);
}

TEST(SqliteStore, StampsCheckpointsWithTheInjectedClock) {
  testing::TempDir dir;
  ManualClock clock(1'234'567);
  auto store = open_sqlite_store(SqliteOptions{.path = dir.file("clock.db"), .clock = &clock});
  ASSERT_TRUE(store.ok()) << store.error().message();
  clock.set(7'000'000);
  WriteBatch b;
  b.checkpoints.push_back({"sim", 5});
  ASSERT_TRUE((*store)->write(b).ok());
  EXPECT_EQ(raw_sql(dir.file("clock.db"), "SELECT updated_at FROM checkpoints"),
            std::vector<std::string>{"7000000"});
  EXPECT_EQ(raw_sql(dir.file("clock.db"), "SELECT DISTINCT applied_at FROM schema_migrations"),
            std::vector<std::string>{"1234567"});
}

// --- Durability across SIGKILL ----------------------------------------------------------------

constexpr int kCrashBatch = 300;
const char kCrashSource[] = "crash-test";

std::string crash_tx_id(int batch, int i) {
  return "b" + std::to_string(batch) + "-" + std::to_string(i);
}

// Batch number `b` of the crash stream: kCrashBatch transactions (every 20th with an alert),
// and the checkpoint saying batches [0, b] are consumed.
WriteBatch crash_batch(int b) {
  WriteBatch batch;
  for (int i = 0; i < kCrashBatch; ++i) {
    batch.scored.push_back(full_scored(crash_tx_id(b, i), b * 1000 + i, Action::kReview));
    if (i % 20 == 0) {
      batch.alerts.push_back(storage_testing::alert_for(batch.scored.back(), b * 1000 + i));
    }
  }
  batch.checkpoints.push_back({kCrashSource, b + 1});
  return batch;
}

// The child: writes batches forever, reporting each acknowledged one on `fd`. Never returns.
[[noreturn]] void crash_child(const std::string& path, int fd) {
  auto store = open_sqlite_store(SqliteOptions{.path = path});
  if (!store.ok()) _exit(2);
  for (int b = 0;; ++b) {
    if (!(*store)->write(crash_batch(b)).ok()) _exit(3);
    int32_t ack = b;
    if (::write(fd, &ack, sizeof ack) != sizeof ack) _exit(4);
  }
}

TEST(SqliteStoreDurability, SigkilledWriterLosesNoAcknowledgedBatchAndStoresNoneTwice) {
  testing::TempDir dir;
  const std::string path = dir.file("crash.db");
  constexpr int kAcksBeforeKill = 12;

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    crash_child(path, fds[1]);
  }
  close(fds[1]);
  std::vector<int32_t> acks;
  auto read_ack = [&]() {
    int32_t ack;
    ssize_t n = read(fds[0], &ack, sizeof ack);
    if (n != sizeof ack) return false;
    acks.push_back(ack);
    return true;
  };
  while (acks.size() < kAcksBeforeKill && read_ack()) {
  }
  kill(pid, SIGKILL);   // most likely in the middle of writing the next batch
  while (read_ack()) {  // acknowledgements already sent count too
  }
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_GE(acks.size(), static_cast<size_t>(kAcksBeforeKill))
      << "the writer stopped early; exit status " << WEXITSTATUS(wstatus);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);

  // Restart: every acknowledged transaction is there exactly once, batches are whole, and the
  // checkpoint covers exactly what is stored.
  auto store = open_ok(path);
  ASSERT_NE(store, nullptr);
  const int last_acked = acks.back();
  auto cp = store->checkpoint(kCrashSource);
  ASSERT_TRUE(cp.ok() && cp->has_value());
  const int64_t stored_batches = **cp;
  EXPECT_GE(stored_batches, last_acked + 1);
  EXPECT_LE(stored_batches, last_acked + 2);  // at most the one in flight when killed
  auto c = store->counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->transactions, stored_batches * kCrashBatch);
  EXPECT_EQ(c->decisions, stored_batches * kCrashBatch);
  EXPECT_EQ(c->alerts, stored_batches * (kCrashBatch / 20));
  EXPECT_EQ(raw_sql(path, "SELECT COUNT(*) FROM transactions"),
            std::vector<std::string>{std::to_string(stored_batches * kCrashBatch)});
  for (int32_t b : acks) {
    for (int i = 0; i < kCrashBatch; i += 37) {
      auto tx = store->find_transaction(crash_tx_id(b, i));
      ASSERT_TRUE(tx.ok() && tx->has_value()) << crash_tx_id(b, i) << " was acknowledged";
    }
  }

  // Resume like a restarted pipeline that replays from an older offset (at-least-once input):
  // the replayed batches are stored once, and the stream continues.
  for (int64_t b = std::max<int64_t>(0, stored_batches - 3); b < stored_batches + 2; ++b) {
    ASSERT_TRUE(store->write(crash_batch(static_cast<int>(b))).ok());
  }
  c = store->counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->transactions, (stored_batches + 2) * kCrashBatch);
  EXPECT_EQ(c->alerts, (stored_batches + 2) * (kCrashBatch / 20));
  EXPECT_EQ(store->checkpoint(kCrashSource)->value_or(-1), stored_batches + 2);
}

}  // namespace
}  // namespace fw
