#include "storage/sqlite_store.h"

#include <sqlite3.h>

#include <array>
#include <mutex>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "storage/named_list.h"
#include "storage/reasons_json.h"

namespace fw {
namespace {

// ---------------------------------------------------------------------------------------------
// Schema migrations: applied in order, each in its own transaction, recorded in
// schema_migrations. Never edit a migration that has shipped; append a new one.

struct Migration {
  int version;
  const char* sql;
};

constexpr std::array<Migration, 6> kMigrations = {{
    {1, R"sql(
CREATE TABLE transactions (
  id TEXT PRIMARY KEY NOT NULL,
  ts INTEGER NOT NULL,                 -- UTC microseconds
  account_id TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,       -- integer minor units of currency
  currency TEXT NOT NULL,              -- ISO 4217
  type TEXT NOT NULL,
  channel TEXT NOT NULL,
  merchant_id TEXT NOT NULL DEFAULT '',
  mcc INTEGER NOT NULL DEFAULT 0,
  terminal_id TEXT NOT NULL DEFAULT '',
  country TEXT,                        -- ISO 3166-1 alpha-2; NULL when unknown
  lat REAL,                            -- NULL when the location is unknown
  lon REAL,
  utc_offset_minutes INTEGER,          -- NULL when unknown
  device_id TEXT NOT NULL DEFAULT '',
  ip TEXT NOT NULL DEFAULT '',
  counterparty TEXT NOT NULL DEFAULT '',
  card_present INTEGER NOT NULL DEFAULT 0,
  card_token TEXT NOT NULL DEFAULT '', -- keyed token; the card number is never stored
  label INTEGER,                       -- NULL unknown, 0 legitimate, 1 fraud
  fraud_pattern TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
-- No (account_id, ts) index here: accounts arrive in random order, so such an index dirties
-- one page per row and halved write throughput (docs/adr/0003). Per-account views use
-- alerts(account_id, created_at) and labels(account_id, transaction_ts).
CREATE INDEX transactions_ts ON transactions(ts);

CREATE TABLE decisions (
  transaction_id TEXT PRIMARY KEY NOT NULL REFERENCES transactions(id),
  decided_at INTEGER NOT NULL,
  score REAL NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('ALLOW', 'REVIEW', 'BLOCK')),
  reasons TEXT NOT NULL,               -- JSON array [{rule_id, detail, score}]
  rule_set_version TEXT NOT NULL,
  latency_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX decisions_decided_at ON decisions(decided_at);

CREATE TABLE alerts (
  transaction_id TEXT PRIMARY KEY NOT NULL REFERENCES transactions(id),
  account_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('ALLOW', 'REVIEW', 'BLOCK')),
  score REAL NOT NULL,
  summary TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'investigating', 'closed'))
);
CREATE INDEX alerts_status_created ON alerts(status, created_at);
CREATE INDEX alerts_created ON alerts(created_at);
CREATE INDEX alerts_account_created ON alerts(account_id, created_at);

CREATE TABLE labels (
  transaction_id TEXT NOT NULL,
  source TEXT NOT NULL,
  label INTEGER NOT NULL,
  labelled_at INTEGER NOT NULL,
  account_id TEXT NOT NULL,
  merchant_id TEXT NOT NULL,
  terminal_id TEXT NOT NULL,
  transaction_ts INTEGER NOT NULL,
  PRIMARY KEY (transaction_id, source)
);
CREATE INDEX labels_account_ts ON labels(account_id, transaction_ts);

CREATE TABLE dead_letters (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  raw BLOB NOT NULL,                   -- the input as received, byte for byte
  field TEXT NOT NULL,
  reason TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (source, raw)                 -- a replayed input is stored once
);
CREATE INDEX dead_letters_received ON dead_letters(received_at);

CREATE TABLE checkpoints (
  source TEXT PRIMARY KEY NOT NULL,
  "offset" INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql"},
    // Row counts kept in step with the rows by write(), so counts() costs a few page reads
    // instead of scanning tables of millions of rows on every dashboard refresh.
    {2, R"sql(
CREATE TABLE counters (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counters (name, value)
  SELECT 'transactions', COUNT(*) FROM transactions
  UNION ALL SELECT 'decisions', COUNT(*) FROM decisions
  UNION ALL SELECT 'allow', COUNT(*) FROM decisions WHERE action = 'ALLOW'
  UNION ALL SELECT 'review', COUNT(*) FROM decisions WHERE action = 'REVIEW'
  UNION ALL SELECT 'block', COUNT(*) FROM decisions WHERE action = 'BLOCK'
  UNION ALL SELECT 'alerts', COUNT(*) FROM alerts
  UNION ALL SELECT 'open_alerts', COUNT(*) FROM alerts WHERE status = 'open'
  UNION ALL SELECT 'labels', COUNT(*) FROM labels
  UNION ALL SELECT 'dead_letters', COUNT(*) FROM dead_letters;
)sql"},
    // Engine state per Kafka partition (Store::save_partition_checkpoint), as in PostgreSQL's
    // migration 1. A rowid table: snapshots are megabytes, which WITHOUT ROWID handles badly.
    {3, R"sql(
CREATE TABLE engine_checkpoints (
  consumer_group TEXT NOT NULL,
  topic TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  "offset" INTEGER NOT NULL,
  snapshot BLOB NOT NULL,
  snapshot_format INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (consumer_group, topic, kafka_partition)
);
)sql"},
    // Named allow/deny lists managed by `fraudwatch lists` (docs/rules.md).
    {4, R"sql(
CREATE TABLE named_lists (
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  added_at INTEGER NOT NULL,           -- UTC microseconds
  PRIMARY KEY (name, value)
) WITHOUT ROWID;
)sql"},
    // The models' part of a decision (docs/models.md): scores, model version and the top
    // feature contributions of flagged decisions, as one JSON object; NULL without models.
    {5, R"sql(
ALTER TABLE decisions ADD COLUMN model TEXT;
)sql"},
    // The model registry (docs/models.md, "Registry"): one row per model version; the partial
    // unique index allows at most one champion and at most one shadow.
    {6, R"sql(
CREATE TABLE model_registry (
  version TEXT PRIMARY KEY NOT NULL,   -- model_version(folder)
  path TEXT NOT NULL,                  -- the model folder, absolute
  metrics TEXT NOT NULL,               -- JSON object summarising the folder's metadata
  registered_at INTEGER NOT NULL,      -- UTC microseconds
  status TEXT NOT NULL CHECK (status IN ('candidate', 'champion', 'shadow', 'retired')),
  status_at INTEGER NOT NULL           -- UTC microseconds of the last status change
) WITHOUT ROWID;
CREATE UNIQUE INDEX model_registry_one_each ON model_registry (status)
  WHERE status IN ('champion', 'shadow');
)sql"},
}};

// engine_checkpoints.snapshot_format: the state is the engine's self-describing blob (it
// carries its own magic and format version, features/partition_snapshot.h).
constexpr int kSnapshotFormatEngineBlob = 1;

// Counter names in counters, in the order of Deltas::values.
constexpr std::array<const char*, 9> kCounterNames = {"transactions", "decisions", "allow",
                                                      "review",       "block",     "alerts",
                                                      "open_alerts",  "labels",    "dead_letters"};

enum Counter : size_t {
  kTransactions,
  kDecisions,
  kAllow,
  kReview,
  kBlock,
  kAlerts,
  kOpenAlerts,
  kLabels,
  kDeadLetters
};

// ---------------------------------------------------------------------------------------------
// Thin RAII over the C API.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Resets a statement when leaving a scope, so it never holds a read snapshot or locks.
class ResetGuard {
 public:
  explicit ResetGuard(sqlite3_stmt* s) : s_(s) {}
  ~ResetGuard() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  ResetGuard(const ResetGuard&) = delete;
  ResetGuard& operator=(const ResetGuard&) = delete;

 private:
  sqlite3_stmt* s_;
};

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  // SQLITE_STATIC: the batch outlives the step that uses the binding; no copy.
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  if (p == nullptr) return {};
  return std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

std::string column_blob(sqlite3_stmt* s, int i) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
  if (p == nullptr) return {};
  return std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

// The columns of a transaction row, in the order read_transaction() expects.
constexpr std::string_view kTxColumns =
    "t.id, t.ts, t.account_id, t.amount_minor, t.currency, t.type, t.channel, t.merchant_id, "
    "t.mcc, t.terminal_id, t.country, t.lat, t.lon, t.utc_offset_minutes, t.device_id, t.ip, "
    "t.counterparty, t.card_present, t.card_token, t.label, t.fraud_pattern";
constexpr int kTxColumnCount = 21;

// The columns of a decision row (after the transaction's), in the order read_decision() expects.
constexpr std::string_view kDecisionColumns =
    "d.decided_at, d.score, d.action, d.reasons, d.rule_set_version, d.latency_ns, d.model";

constexpr std::string_view kAlertColumns =
    "a.transaction_id, a.account_id, a.created_at, a.action, a.score, a.summary, a.status";
constexpr int kAlertColumnCount = 7;

Error corrupt(std::string field, std::string_view value) {
  return make_error(std::move(field), "stored value '" + std::string(value) +
                                          "' is not valid; the database was changed outside "
                                          "fraudwatch or is corrupt: restore it from a backup");
}

Result<Transaction> read_transaction(sqlite3_stmt* s, int c) {
  Transaction tx;
  tx.id = column_text(s, c + 0);
  tx.ts = sqlite3_column_int64(s, c + 1);
  tx.account_id = column_text(s, c + 2);
  tx.amount.minor = sqlite3_column_int64(s, c + 3);
  std::string currency = column_text(s, c + 4);
  auto cur = Currency::parse(currency);
  if (!cur.ok()) return corrupt("transactions.currency", currency);
  tx.amount.currency = *cur;
  std::string type = column_text(s, c + 5);
  auto t = parse_tx_type(type);
  if (!t) return corrupt("transactions.type", type);
  tx.type = *t;
  std::string channel = column_text(s, c + 6);
  auto ch = parse_channel(channel);
  if (!ch) return corrupt("transactions.channel", channel);
  tx.channel = *ch;
  tx.merchant_id = column_text(s, c + 7);
  tx.mcc = static_cast<uint16_t>(sqlite3_column_int(s, c + 8));
  tx.terminal_id = column_text(s, c + 9);
  if (sqlite3_column_type(s, c + 10) != SQLITE_NULL) {
    std::string country = column_text(s, c + 10);
    auto co = Country::parse(country);
    if (!co) return corrupt("transactions.country", country);
    tx.country = *co;
  }
  tx.has_location = sqlite3_column_type(s, c + 11) != SQLITE_NULL;
  if (tx.has_location) {
    tx.lat = sqlite3_column_double(s, c + 11);
    tx.lon = sqlite3_column_double(s, c + 12);
  }
  if (sqlite3_column_type(s, c + 13) != SQLITE_NULL) {
    tx.utc_offset_minutes = static_cast<int16_t>(sqlite3_column_int(s, c + 13));
  }
  tx.device_id = column_text(s, c + 14);
  tx.ip = column_text(s, c + 15);
  tx.counterparty = column_text(s, c + 16);
  tx.card_present = sqlite3_column_int(s, c + 17) != 0;
  tx.card_token = column_text(s, c + 18);
  tx.label = sqlite3_column_type(s, c + 19) == SQLITE_NULL
                 ? Label::kUnknown
                 : static_cast<Label>(sqlite3_column_int(s, c + 19));
  tx.fraud_pattern = column_text(s, c + 20);
  tx.finalize_keys();
  return tx;
}

// Reads the decision columns starting at `c`; NULL decided_at (no decision row) gives a default
// decision carrying only the transaction id.
Result<Decision> read_decision(sqlite3_stmt* s, int c, const std::string& transaction_id) {
  Decision d;
  d.transaction_id = transaction_id;
  if (sqlite3_column_type(s, c) == SQLITE_NULL) return d;
  d.decided_at = sqlite3_column_int64(s, c + 0);
  d.score = sqlite3_column_double(s, c + 1);
  std::string action = column_text(s, c + 2);
  auto a = parse_action(action);
  if (!a) return corrupt("decisions.action", action);
  d.action = *a;
  auto reasons = parse_reasons_json(column_text(s, c + 3));
  if (!reasons.ok()) return reasons.error();
  d.reasons = std::move(reasons).value();
  d.rule_set_version = column_text(s, c + 4);
  d.latency_ns = sqlite3_column_int64(s, c + 5);
  if (sqlite3_column_type(s, c + 6) != SQLITE_NULL) {
    if (Status st = parse_model_json(column_text(s, c + 6), d); !st.ok()) return st.error();
  }
  return d;
}

Result<Alert> read_alert(sqlite3_stmt* s, int c) {
  Alert a;
  a.transaction_id = column_text(s, c + 0);
  a.account_id = column_text(s, c + 1);
  a.created_at = sqlite3_column_int64(s, c + 2);
  std::string action = column_text(s, c + 3);
  auto act = parse_action(action);
  if (!act) return corrupt("alerts.action", action);
  a.action = *act;
  a.score = sqlite3_column_double(s, c + 4);
  a.summary = column_text(s, c + 5);
  std::string status = column_text(s, c + 6);
  auto st = parse_alert_status(status);
  if (!st) return corrupt("alerts.status", status);
  a.status = *st;
  return a;
}

// ---------------------------------------------------------------------------------------------

class SqliteStore final : public Store {
 public:
  // Opens both connections, migrates and prepares every statement.
  static Result<std::unique_ptr<Store>> open(const SqliteOptions& options);

  Status write(const WriteBatch& batch) override;
  Result<std::optional<int64_t>> checkpoint(const std::string& source) override;
  Result<StoreCounts> counts() override;
  Result<std::vector<AlertRow>> recent_alerts(size_t limit) override;
  Result<std::vector<DecisionRow>> recent_decisions(size_t limit) override;
  Result<std::optional<DecisionRow>> find_transaction(const std::string& id) override;
  Result<std::vector<DeadLetter>> recent_dead_letters(size_t limit) override;
  Result<std::vector<DecisionRow>> account_transactions(const std::string& account_id,
                                                        size_t limit) override;
  int schema_version() override { return schema_version_; }
  Status save_partition_checkpoint(const PartitionCheckpoint& checkpoint) override;
  Result<std::optional<PartitionCheckpoint>> load_partition_checkpoint(const std::string& group,
                                                                       const std::string& topic,
                                                                       int32_t partition) override;
  Result<size_t> add_list_values(const std::string& name,
                                 const std::vector<std::string>& values) override;
  Result<size_t> remove_list_values(const std::string& name,
                                    const std::vector<std::string>& values) override;
  Result<std::vector<std::string>> list_values(const std::string& name) override;
  Result<std::vector<std::pair<std::string, int64_t>>> lists() override;
  Result<bool> register_model(const RegisteredModel& m) override;
  Result<std::vector<RegisteredModel>> registered_models() override;
  Result<std::vector<ModelStatusChange>> set_model_status(const std::string& version,
                                                          ModelStatus to, Timestamp at) override;
  Status scan_transactions(Timestamp before, size_t page_size,
                           const std::function<bool(std::vector<Transaction>&)>& on_page) override;
  Result<std::vector<LabelEvent>> label_events() override;

 private:
  // Adds (or removes) values in one transaction on ldb_; returns the rows changed.
  Result<size_t> change_list(const std::string& name, const std::vector<std::string>& values,
                             bool add);

  explicit SqliteStore(const SqliteOptions& options)
      : path_(options.path),
        clock_(options.clock != nullptr ? options.clock : &SystemClock::instance()) {}

  // Helpers that turn an SQLite failure into an Error naming the file and what to do.
  Error db_error(sqlite3* db, std::string_view doing, std::string_view advice) const;
  Status exec(sqlite3* db, const char* sql, std::string_view doing) const;
  Result<Stmt> prepare(sqlite3* db, std::string_view sql) const;
  Result<DbPtr> open_connection(const SqliteOptions& options, bool writer) const;
  Status migrate();
  Status prepare_statements();

  // The body of write(), inside BEGIN IMMEDIATE ... COMMIT.
  Status write_rows(const WriteBatch& batch);
  Status step_write(sqlite3_stmt* s, std::string_view what);

  // Constant after construction.
  const std::string path_;
  const Clock* const clock_;
  int schema_version_ = 0;

  // Writer state: used only inside write() (and open()), by one thread at a time.
  DbPtr wdb_;
  Stmt begin_, commit_, rollback_;
  Stmt insert_tx_, insert_decision_, insert_alert_, insert_label_, insert_dead_letter_;
  Stmt upsert_checkpoint_, add_counter_;
  std::string reasons_buf_;                       // reused for each decision's JSON
  std::string model_buf_;                         // reused for each decision's model JSON
  std::unordered_set<std::string_view> skipped_;  // ids already stored, in the current batch

  // Reader state.
  std::mutex mu_;
  DbPtr rdb_;                 // guarded by mu_
  Stmt select_checkpoint_;    // guarded by mu_
  Stmt select_counters_;      // guarded by mu_
  Stmt select_alerts_;        // guarded by mu_
  Stmt select_decisions_;     // guarded by mu_
  Stmt select_transaction_;   // guarded by mu_
  Stmt select_dead_letters_;  // guarded by mu_
  Stmt select_account_txs_;   // guarded by mu_

  // Partition checkpoints (the upsert is the writer's, the select the readers').
  Stmt upsert_partition_checkpoint_;  // writer only
  Stmt select_partition_checkpoint_;  // guarded by mu_
  // Named lists and the model registry: their own connection, so list and registry changes
  // never wait for the writer thread.
  std::mutex list_mu_;
  DbPtr ldb_;  // guarded by list_mu_
};

Error SqliteStore::db_error(sqlite3* db, std::string_view doing, std::string_view advice) const {
  std::string reason = std::string(doing) + " database '" + path_ + "': " + sqlite3_errmsg(db);
  if (!advice.empty()) reason += "; " + std::string(advice);
  return make_error("storage.path", std::move(reason));
}

Status SqliteStore::exec(sqlite3* db, const char* sql, std::string_view doing) const {
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string reason = std::string(doing) + " database '" + path_ +
                       "': " + (msg != nullptr ? msg : sqlite3_errstr(rc));
  sqlite3_free(msg);
  if (rc == SQLITE_NOTADB) {
    reason += "; the file is not a fraudwatch database: point storage.path at a new file";
  } else if (rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN || rc == SQLITE_PERM) {
    reason += "; check that the file and its directory are writable";
  }
  return make_error("storage.path", std::move(reason));
}

Result<Stmt> SqliteStore::prepare(sqlite3* db, std::string_view sql) const {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) {
    return db_error(db, "preparing a statement on", "the schema does not match this fraudwatch");
  }
  return Stmt(s);
}

Result<DbPtr> SqliteStore::open_connection(const SqliteOptions& options, bool writer) const {
  // Memory statistics take a global mutex on every SQLite allocation; we never read them.
  // Must be set before SQLite initialises, hence once, before the first open.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(options.path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) {
    std::string reason = "cannot open database '" + options.path +
                         "': " + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)) +
                         "; check that the directory exists and is writable";
    return make_error("storage.path", std::move(reason));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  // journal_mode=WAL is persistent in the file; setting it needs a write lock once.
  if (writer) {
    // Takes effect only when the file is new (before its first table); ignored otherwise.
    std::string page_size = "PRAGMA page_size=" + std::to_string(options.page_size);
    if (auto st = exec(db.get(), page_size.c_str(), "cannot open"); !st.ok()) return st.error();
    Stmt wal;
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v2(db.get(), "PRAGMA journal_mode=WAL", -1, &s, nullptr);
    wal.reset(s);
    if (rc == SQLITE_OK) rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
      auto st = exec(db.get(), "PRAGMA journal_mode=WAL", "cannot open");
      if (!st.ok()) return st.error();
      return db_error(db.get(), "cannot open", "check that the file is a fraudwatch database");
    }
    std::string mode = column_text(s, 0);
    if (mode != "wal") {
      return make_error("storage.path", "cannot switch database '" + options.path +
                                            "' to WAL mode (it stays in '" + mode +
                                            "'); put it on a local file system");
    }
  }
  std::string pragmas =
      "PRAGMA foreign_keys=ON; PRAGMA cache_size=-" + std::to_string(options.cache_kib) + ";";
  if (writer) {
    pragmas += options.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
    // Checkpoint the WAL into the database every ~64 MiB instead of every 4 MiB: fewer,
    // larger checkpoints keep the writer fast. The WAL file is truncated back afterwards.
    pragmas += "PRAGMA wal_autocheckpoint=16384; PRAGMA journal_size_limit=67108864;";
  } else {
    pragmas += "PRAGMA query_only=ON;";
  }
  auto st = exec(db.get(), pragmas.c_str(), "cannot configure");
  if (!st.ok()) return st.error();
  return db;
}

Status SqliteStore::migrate() {
  sqlite3* db = wdb_.get();
  if (auto st = exec(db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL)",
                     "cannot initialise");
      !st.ok()) {
    return st;
  }
  auto version_stmt = prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!version_stmt.ok()) return version_stmt.error();
  auto read_version = [&]() -> Result<int> {
    sqlite3_stmt* s = version_stmt->get();
    ResetGuard reset(s);
    if (sqlite3_step(s) != SQLITE_ROW) return db_error(db, "cannot read the schema version of", "");
    return sqlite3_column_int(s, 0);
  };
  auto insert = prepare(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
  if (!insert.ok()) return insert.error();

  const int latest = kMigrations.back().version;
  for (const Migration& m : kMigrations) {
    // Another process may be migrating the same file: take the write lock, then look again.
    if (auto st = exec(db, "BEGIN IMMEDIATE", "cannot lock"); !st.ok()) return st;
    auto version = read_version();
    if (!version.ok()) {
      (void)exec(db, "ROLLBACK", "");
      return version.error();
    }
    if (*version > latest) {
      (void)exec(db, "ROLLBACK", "");
      return make_error("storage.path", "database '" + path_ + "' has schema version " +
                                            std::to_string(*version) +
                                            " but this fraudwatch knows up to " +
                                            std::to_string(latest) + "; upgrade fraudwatch");
    }
    if (*version >= m.version) {
      (void)exec(db, "ROLLBACK", "");
      continue;
    }
    Status st = exec(db, m.sql, "cannot migrate");
    if (st.ok()) {
      sqlite3_stmt* s = insert->get();
      ResetGuard reset(s);
      sqlite3_bind_int(s, 1, m.version);
      sqlite3_bind_int64(s, 2, clock_->now());
      if (sqlite3_step(s) != SQLITE_DONE) st = db_error(db, "cannot record a migration in", "");
    }
    if (st.ok()) st = exec(db, "COMMIT", "cannot commit a migration to");
    if (!st.ok()) {
      (void)exec(db, "ROLLBACK", "");
      return make_error("storage.path", "migrating to schema version " + std::to_string(m.version) +
                                            " failed, the database "
                                            "is unchanged at version " +
                                            std::to_string(*version) + ": " + st.error().reason);
    }
  }
  auto version = read_version();
  if (!version.ok()) return version.error();
  schema_version_ = *version;
  return Status::Ok();
}

Status SqliteStore::prepare_statements() {
  struct Item {
    sqlite3* db;
    Stmt* out;
    std::string sql;
  };
  sqlite3* w = wdb_.get();
  sqlite3* r = rdb_.get();
  const std::string tx(kTxColumns), dec(kDecisionColumns), alert(kAlertColumns);
  std::vector<Item> items = {
      {w, &begin_, "BEGIN IMMEDIATE"},
      {w, &commit_, "COMMIT"},
      {w, &rollback_, "ROLLBACK"},
      {w, &insert_tx_,
       "INSERT INTO transactions (id, ts, account_id, amount_minor, currency, type, channel, "
       "merchant_id, mcc, terminal_id, country, lat, lon, utc_offset_minutes, device_id, ip, "
       "counterparty, card_present, card_token, label, fraud_pattern) VALUES (?1, ?2, ?3, ?4, "
       "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21) "
       "ON CONFLICT (id) DO NOTHING"},
      {w, &insert_decision_,
       "INSERT INTO decisions (transaction_id, decided_at, score, action, reasons, "
       "rule_set_version, latency_ns, model) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
       "ON CONFLICT (transaction_id) DO NOTHING"},
      {w, &insert_alert_,
       "INSERT INTO alerts (transaction_id, account_id, created_at, action, score, summary, "
       "status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (transaction_id) DO NOTHING"},
      {w, &insert_label_,
       "INSERT INTO labels (transaction_id, source, label, labelled_at, account_id, merchant_id, "
       "terminal_id, transaction_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
       "ON CONFLICT (transaction_id, source) DO NOTHING"},
      {w, &insert_dead_letter_,
       "INSERT INTO dead_letters (source, raw, field, reason, received_at) "
       "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (source, raw) DO NOTHING"},
      {w, &upsert_checkpoint_,
       "INSERT INTO checkpoints (source, \"offset\", updated_at) VALUES (?1, ?2, ?3) "
       "ON CONFLICT (source) DO UPDATE SET \"offset\" = excluded.\"offset\", "
       "updated_at = excluded.updated_at"},
      {w, &add_counter_, "UPDATE counters SET value = value + ?2 WHERE name = ?1"},
      {r, &select_checkpoint_, "SELECT \"offset\" FROM checkpoints WHERE source = ?1"},
      {r, &select_counters_, "SELECT name, value FROM counters"},
      {r, &select_alerts_,
       "SELECT " + alert + ", " + tx +
           ", d.reasons, d.model FROM alerts a JOIN transactions t ON t.id = a.transaction_id "
           "LEFT JOIN decisions d ON d.transaction_id = a.transaction_id "
           "ORDER BY a.created_at DESC, a.rowid DESC LIMIT ?1"},
      {r, &select_decisions_,
       "SELECT " + tx + ", " + dec +
           " FROM decisions d JOIN transactions t ON t.id = d.transaction_id "
           "ORDER BY d.decided_at DESC, d.transaction_id DESC LIMIT ?1"},
      {r, &select_transaction_,
       "SELECT " + tx + ", " + dec +
           " FROM transactions t LEFT JOIN decisions d ON d.transaction_id = t.id "
           "WHERE t.id = ?1"},
      {r, &select_dead_letters_,
       "SELECT source, raw, field, reason, received_at FROM dead_letters "
       "ORDER BY id DESC LIMIT ?1"},
      {w, &upsert_partition_checkpoint_,
       "INSERT INTO engine_checkpoints (consumer_group, topic, kafka_partition, \"offset\", "
       "snapshot, snapshot_format, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
       "ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET "
       "\"offset\" = excluded.\"offset\", snapshot = excluded.snapshot, "
       "snapshot_format = excluded.snapshot_format, updated_at = excluded.updated_at"},
      {r, &select_partition_checkpoint_,
       "SELECT \"offset\", snapshot, updated_at FROM engine_checkpoints "
       "WHERE consumer_group = ?1 AND topic = ?2 AND kafka_partition = ?3"},
      // No (account_id, ts) index here (ADR 0003: it halved the pipeline's write rate), so
      // this scans transactions; fine for the demo's single-machine store.
      {r, &select_account_txs_,
       "SELECT " + tx + ", " + dec +
           " FROM transactions t LEFT JOIN decisions d ON d.transaction_id = t.id "
           "WHERE t.account_id = ?1 ORDER BY t.ts DESC, t.id DESC LIMIT ?2"},
  };
  for (Item& item : items) {
    auto s = prepare(item.db, item.sql);
    if (!s.ok()) return s.error();
    *item.out = std::move(s).value();
  }
  return Status::Ok();
}

Result<std::unique_ptr<Store>> SqliteStore::open(const SqliteOptions& options) {
  if (options.path.empty()) {
    return make_error("storage.path", "is empty; set it to the database file to use");
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  auto w = store->open_connection(options, /*writer=*/true);
  if (!w.ok()) return w.error();
  store->wdb_ = std::move(w).value();
  if (auto st = store->migrate(); !st.ok()) return st.error();
  auto r = store->open_connection(options, /*writer=*/false);
  if (!r.ok()) return r.error();
  {
    std::lock_guard lock(store->mu_);
    store->rdb_ = std::move(r).value();
    if (auto st = store->prepare_statements(); !st.ok()) return st.error();
  }
  auto l = store->open_connection(options, /*writer=*/true);
  if (!l.ok()) return l.error();
  {
    std::lock_guard lock(store->list_mu_);
    store->ldb_ = std::move(l).value();
  }
  return std::unique_ptr<Store>(std::move(store));
}

// ---------------------------------------------------------------------------------------------
// Writing

Status SqliteStore::step_write(sqlite3_stmt* s, std::string_view what) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return Status::Ok();
  std::string reason = "writing " + std::string(what) + " to database '" + path_ +
                       "' failed: " + sqlite3_errmsg(wdb_.get());
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
    reason += "; it refers to a transaction that is neither in the batch nor stored";
  } else if (rc == SQLITE_FULL) {
    reason += "; the disk is full: free space, then retry";
  } else {
    reason += "; the batch was rolled back: retry it";
  }
  Error e = make_error(std::string(what), std::move(reason));
  const int primary = rc & 0xff;
  if (primary == SQLITE_CONSTRAINT || primary == SQLITE_TOOBIG || primary == SQLITE_MISMATCH) {
    return mark_permanent(std::move(e));  // the data is refused; retrying cannot help
  }
  return e;
}

Status SqliteStore::write(const WriteBatch& batch) {
  if (batch.empty()) return Status::Ok();
  sqlite3_stmt* begin = begin_.get();
  int rc = sqlite3_step(begin);
  sqlite3_reset(begin);
  if (rc != SQLITE_DONE) {
    return db_error(wdb_.get(), "cannot begin a transaction on",
                    "another process may hold the write lock: run only one writer per file");
  }
  Status st = write_rows(batch);
  if (!st.ok()) {
    // The checks write_rows makes itself refuse the data: no retry can fix them.
    const std::string& f = st.error().field;
    if (f == "transaction.id" || f == "decision.transaction_id" || f == "label.label") {
      st = mark_permanent(st.error());
    }
  }
  if (st.ok()) {
    sqlite3_stmt* commit = commit_.get();
    rc = sqlite3_step(commit);
    sqlite3_reset(commit);
    if (rc != SQLITE_DONE) {
      st = db_error(wdb_.get(), "cannot commit a batch to",
                    "the batch was rolled back: check free disk space, then retry");
    }
  }
  if (!st.ok() && sqlite3_get_autocommit(wdb_.get()) == 0) {
    sqlite3_step(rollback_.get());
    sqlite3_reset(rollback_.get());
  }
  skipped_.clear();
  return st;
}

Status SqliteStore::write_rows(const WriteBatch& batch) {
  std::array<int64_t, kCounterNames.size()> delta{};
  sqlite3* db = wdb_.get();

  for (const Scored& sc : batch.scored) {
    const Transaction& tx = sc.tx;
    const Decision& d = sc.decision;
    if (tx.id.empty()) {
      return make_error("transaction.id", "is empty; every transaction needs an id to be stored");
    }
    if (!d.transaction_id.empty() && d.transaction_id != tx.id) {
      return make_error("decision.transaction_id",
                        "'" + d.transaction_id + "' does not match its transaction '" + tx.id +
                            "'; pair each decision with its own transaction");
    }
    sqlite3_stmt* s = insert_tx_.get();
    {
      ResetGuard reset(s);
      uint32_t cur = tx.amount.currency.packed();
      const char currency[3] = {static_cast<char>(cur >> 16), static_cast<char>((cur >> 8) & 0xff),
                                static_cast<char>(cur & 0xff)};
      const char country[2] = {static_cast<char>(tx.country.packed >> 8),
                               static_cast<char>(tx.country.packed & 0xff)};
      bind_text(s, 1, tx.id);
      sqlite3_bind_int64(s, 2, tx.ts);
      bind_text(s, 3, tx.account_id);
      sqlite3_bind_int64(s, 4, tx.amount.minor);
      bind_text(s, 5, std::string_view(currency, 3));
      bind_text(s, 6, to_string(tx.type));
      bind_text(s, 7, to_string(tx.channel));
      bind_text(s, 8, tx.merchant_id);
      sqlite3_bind_int(s, 9, tx.mcc);
      bind_text(s, 10, tx.terminal_id);
      if (tx.country.known()) bind_text(s, 11, std::string_view(country, 2));
      if (tx.has_location) {
        sqlite3_bind_double(s, 12, tx.lat);
        sqlite3_bind_double(s, 13, tx.lon);
      }
      if (tx.utc_offset_minutes) sqlite3_bind_int(s, 14, *tx.utc_offset_minutes);
      bind_text(s, 15, tx.device_id);
      bind_text(s, 16, tx.ip);
      bind_text(s, 17, tx.counterparty);
      sqlite3_bind_int(s, 18, tx.card_present ? 1 : 0);
      bind_text(s, 19, tx.card_token);
      if (tx.label != Label::kUnknown) sqlite3_bind_int(s, 20, static_cast<int>(tx.label));
      bind_text(s, 21, tx.fraud_pattern);
      if (auto st = step_write(s, "transaction"); !st.ok()) return st;
    }
    if (sqlite3_changes(db) == 0) {  // already stored: first write wins
      skipped_.insert(tx.id);
      continue;
    }
    ++delta[kTransactions];

    s = insert_decision_.get();
    {
      ResetGuard reset(s);
      reasons_buf_.clear();
      append_reasons_json(reasons_buf_, d.reasons);
      bind_text(s, 1, tx.id);
      sqlite3_bind_int64(s, 2, d.decided_at);
      sqlite3_bind_double(s, 3, d.score);
      bind_text(s, 4, to_string(d.action));
      bind_text(s, 5, reasons_buf_);
      bind_text(s, 6, d.rule_set_version);
      sqlite3_bind_int64(s, 7, d.latency_ns);
      if (has_model_part(d)) {
        model_buf_.clear();
        append_model_json(model_buf_, d);
        bind_text(s, 8, model_buf_);
      } else {
        sqlite3_bind_null(s, 8);
      }
      if (auto st = step_write(s, "decision"); !st.ok()) return st;
    }
    if (sqlite3_changes(db) == 1) {
      ++delta[kDecisions];
      ++delta[d.action == Action::kAllow ? kAllow : d.action == Action::kReview ? kReview : kBlock];
    }
  }

  for (const Alert& a : batch.alerts) {
    if (!skipped_.empty() && skipped_.count(a.transaction_id) != 0) continue;
    sqlite3_stmt* s = insert_alert_.get();
    ResetGuard reset(s);
    bind_text(s, 1, a.transaction_id);
    bind_text(s, 2, a.account_id);
    sqlite3_bind_int64(s, 3, a.created_at);
    bind_text(s, 4, to_string(a.action));
    sqlite3_bind_double(s, 5, a.score);
    bind_text(s, 6, a.summary);
    bind_text(s, 7, to_string(a.status));
    if (auto st = step_write(s, "alert"); !st.ok()) return st;
    if (sqlite3_changes(db) == 1) {
      ++delta[kAlerts];
      if (a.status == AlertStatus::kOpen) ++delta[kOpenAlerts];
    }
  }

  for (const LabelEvent& l : batch.labels) {
    if (l.label == Label::kUnknown) {
      return make_error("label.label", "is unknown for transaction '" + l.transaction_id +
                                           "'; a label event must say fraud or legitimate");
    }
    sqlite3_stmt* s = insert_label_.get();
    ResetGuard reset(s);
    bind_text(s, 1, l.transaction_id);
    bind_text(s, 2, l.source);
    sqlite3_bind_int(s, 3, static_cast<int>(l.label));
    sqlite3_bind_int64(s, 4, l.labelled_at);
    bind_text(s, 5, l.account_id);
    bind_text(s, 6, l.merchant_id);
    bind_text(s, 7, l.terminal_id);
    sqlite3_bind_int64(s, 8, l.transaction_ts);
    if (auto st = step_write(s, "label"); !st.ok()) return st;
    delta[kLabels] += sqlite3_changes(db);
  }

  for (const DeadLetter& dl : batch.dead_letters) {
    sqlite3_stmt* s = insert_dead_letter_.get();
    ResetGuard reset(s);
    bind_text(s, 1, dl.source);
    // A blob keeps the input byte for byte (NUL bytes, invalid UTF-8).
    sqlite3_bind_blob(s, 2, dl.raw.data(), static_cast<int>(dl.raw.size()), SQLITE_STATIC);
    bind_text(s, 3, dl.field);
    bind_text(s, 4, dl.reason);
    sqlite3_bind_int64(s, 5, dl.received_at);
    if (auto st = step_write(s, "dead_letter"); !st.ok()) return st;
    delta[kDeadLetters] += sqlite3_changes(db);
  }

  const Timestamp now = batch.checkpoints.empty() ? 0 : clock_->now();
  for (const SourceCheckpoint& c : batch.checkpoints) {
    sqlite3_stmt* s = upsert_checkpoint_.get();
    ResetGuard reset(s);
    bind_text(s, 1, c.source);
    sqlite3_bind_int64(s, 2, c.offset);
    sqlite3_bind_int64(s, 3, now);
    if (auto st = step_write(s, "checkpoint"); !st.ok()) return st;
  }

  for (size_t i = 0; i < delta.size(); ++i) {
    if (delta[i] == 0) continue;
    sqlite3_stmt* s = add_counter_.get();
    ResetGuard reset(s);
    sqlite3_bind_text(s, 1, kCounterNames[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, delta[i]);
    if (auto st = step_write(s, "counters"); !st.ok()) return st;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Reading (each read is one statement, so it sees one consistent snapshot)

Result<std::optional<int64_t>> SqliteStore::checkpoint(const std::string& source) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* s = select_checkpoint_.get();
  ResetGuard reset(s);
  bind_text(s, 1, source);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return std::optional<int64_t>(sqlite3_column_int64(s, 0));
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  return db_error(rdb_.get(), "cannot read a checkpoint from", "");
}

Result<StoreCounts> SqliteStore::counts() {
  std::lock_guard lock(mu_);
  sqlite3_stmt* s = select_counters_.get();
  ResetGuard reset(s);
  StoreCounts c;
  std::array<int64_t*, kCounterNames.size()> fields = {
      &c.transactions, &c.decisions,   &c.allow,  &c.review,      &c.block,
      &c.alerts,       &c.open_alerts, &c.labels, &c.dead_letters};
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    std::string_view name(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                          static_cast<size_t>(sqlite3_column_bytes(s, 0)));
    for (size_t i = 0; i < kCounterNames.size(); ++i) {
      if (name == kCounterNames[i]) *fields[i] = sqlite3_column_int64(s, 1);
    }
  }
  if (rc != SQLITE_DONE) return db_error(rdb_.get(), "cannot read counts from", "");
  return c;
}

Result<std::vector<AlertRow>> SqliteStore::recent_alerts(size_t limit) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* s = select_alerts_.get();
  ResetGuard reset(s);
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(limit));
  std::vector<AlertRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    AlertRow row;
    auto a = read_alert(s, 0);
    if (!a.ok()) return a.error();
    row.alert = std::move(a).value();
    auto tx = read_transaction(s, kAlertColumnCount);
    if (!tx.ok()) return tx.error();
    row.tx = std::move(tx).value();
    const int reasons_col = kAlertColumnCount + kTxColumnCount;
    if (sqlite3_column_type(s, reasons_col) != SQLITE_NULL) {
      auto reasons = parse_reasons_json(column_text(s, reasons_col));
      if (!reasons.ok()) return reasons.error();
      row.reasons = std::move(reasons).value();
    }
    if (sqlite3_column_type(s, reasons_col + 1) != SQLITE_NULL) {
      Status st = parse_model_json(column_text(s, reasons_col + 1), row.decision);
      if (!st.ok()) return st.error();
    }
    out.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return db_error(rdb_.get(), "cannot read alerts from", "");
  return out;
}

Result<std::vector<DecisionRow>> SqliteStore::recent_decisions(size_t limit) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* s = select_decisions_.get();
  ResetGuard reset(s);
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(limit));
  std::vector<DecisionRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto tx = read_transaction(s, 0);
    if (!tx.ok()) return tx.error();
    auto d = read_decision(s, kTxColumnCount, tx->id);
    if (!d.ok()) return d.error();
    out.push_back(DecisionRow{std::move(tx).value(), std::move(d).value()});
  }
  if (rc != SQLITE_DONE) return db_error(rdb_.get(), "cannot read decisions from", "");
  return out;
}

Result<std::optional<DecisionRow>> SqliteStore::find_transaction(const std::string& id) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* s = select_transaction_.get();
  ResetGuard reset(s);
  bind_text(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<DecisionRow>();
  if (rc != SQLITE_ROW) return db_error(rdb_.get(), "cannot read a transaction from", "");
  auto tx = read_transaction(s, 0);
  if (!tx.ok()) return tx.error();
  auto d = read_decision(s, kTxColumnCount, tx->id);
  if (!d.ok()) return d.error();
  return std::optional<DecisionRow>(DecisionRow{std::move(tx).value(), std::move(d).value()});
}

Result<std::vector<DeadLetter>> SqliteStore::recent_dead_letters(size_t limit) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* s = select_dead_letters_.get();
  ResetGuard reset(s);
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(limit));
  std::vector<DeadLetter> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    DeadLetter dl;
    dl.source = column_text(s, 0);
    dl.raw = column_blob(s, 1);
    dl.field = column_text(s, 2);
    dl.reason = column_text(s, 3);
    dl.received_at = sqlite3_column_int64(s, 4);
    out.push_back(std::move(dl));
  }
  if (rc != SQLITE_DONE) return db_error(rdb_.get(), "cannot read dead letters from", "");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Named lists

Result<size_t> SqliteStore::change_list(const std::string& name,
                                        const std::vector<std::string>& values, bool add) {
  if (auto st = check_list_name(name); !st.ok()) return st.error();
  if (auto st = check_list_values(values); !st.ok()) return st.error();
  std::lock_guard lock(list_mu_);
  sqlite3* db = ldb_.get();
  if (auto st = exec(db, "BEGIN IMMEDIATE", "cannot change a list in"); !st.ok()) {
    return st.error();
  }
  auto stmt = prepare(db, add ? "INSERT OR IGNORE INTO named_lists (name, value, added_at) "
                                "VALUES (?1, ?2, ?3)"
                              : "DELETE FROM named_lists WHERE name = ?1 AND value = ?2");
  if (!stmt.ok()) {
    (void)exec(db, "ROLLBACK", "cannot roll back a list change in");
    return stmt.error();
  }
  sqlite3_stmt* s = stmt->get();
  const Timestamp now = clock_->now();
  size_t changed = 0;
  for (const std::string& v : values) {
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    if (add) sqlite3_bind_int64(s, 3, now);
    if (sqlite3_step(s) != SQLITE_DONE) {
      Error e = db_error(db, "cannot change list '" + name + "' in", "");
      sqlite3_reset(s);
      (void)exec(db, "ROLLBACK", "cannot roll back a list change in");
      return e;
    }
    changed += static_cast<size_t>(sqlite3_changes(db));
  }
  sqlite3_reset(s);
  if (auto st = exec(db, "COMMIT", "cannot commit a list change to"); !st.ok()) {
    (void)exec(db, "ROLLBACK", "cannot roll back a list change in");
    return st.error();
  }
  return changed;
}

Result<size_t> SqliteStore::add_list_values(const std::string& name,
                                            const std::vector<std::string>& values) {
  return change_list(name, values, true);
}

Result<size_t> SqliteStore::remove_list_values(const std::string& name,
                                               const std::vector<std::string>& values) {
  return change_list(name, values, false);
}

Result<std::vector<std::string>> SqliteStore::list_values(const std::string& name) {
  if (auto st = check_list_name(name); !st.ok()) return st.error();
  std::lock_guard lock(list_mu_);
  auto stmt = prepare(ldb_.get(), "SELECT value FROM named_lists WHERE name = ?1 ORDER BY value");
  if (!stmt.ok()) return stmt.error();
  sqlite3_stmt* s = stmt->get();
  sqlite3_bind_text(s, 1, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(column_text(s, 0));
  if (rc != SQLITE_DONE) return db_error(ldb_.get(), "cannot read list '" + name + "' from", "");
  if (out.empty()) return unknown_list(name);
  return out;
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteStore::lists() {
  std::lock_guard lock(list_mu_);
  auto stmt =
      prepare(ldb_.get(), "SELECT name, COUNT(*) FROM named_lists GROUP BY name ORDER BY name");
  if (!stmt.ok()) return stmt.error();
  sqlite3_stmt* s = stmt->get();
  std::vector<std::pair<std::string, int64_t>> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.emplace_back(column_text(s, 0), sqlite3_column_int64(s, 1));
  }
  if (rc != SQLITE_DONE) return db_error(ldb_.get(), "cannot read the lists from", "");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Model registry: on ldb_ (under list_mu_), one transaction per call.

Result<bool> SqliteStore::register_model(const RegisteredModel& m) {
  if (Status st = check_registered_model(m); !st.ok()) return st.error();
  std::lock_guard lock(list_mu_);
  sqlite3* db = ldb_.get();
  if (auto st = exec(db, "BEGIN IMMEDIATE", "cannot register a model in"); !st.ok()) {
    return st.error();
  }
  auto fail = [&](Error e) -> Result<bool> {
    (void)exec(db, "ROLLBACK", "cannot roll back a registration in");
    return e;
  };
  auto insert = prepare(db,
                        "INSERT INTO model_registry (version, path, metrics, registered_at, "
                        "status, status_at) VALUES (?1, ?2, ?3, ?4, 'candidate', ?4) "
                        "ON CONFLICT (version) DO NOTHING");
  if (!insert.ok()) return fail(insert.error());
  sqlite3_stmt* s = insert->get();
  bind_text(s, 1, m.version);
  bind_text(s, 2, m.path);
  bind_text(s, 3, m.metrics);
  sqlite3_bind_int64(s, 4, m.registered_at);
  if (sqlite3_step(s) != SQLITE_DONE) {
    return fail(db_error(db, "cannot register model '" + m.version + "' in", ""));
  }
  const bool added = sqlite3_changes(db) > 0;
  if (!added) {
    auto update =
        prepare(db, "UPDATE model_registry SET path = ?2, metrics = ?3 WHERE version = ?1");
    if (!update.ok()) return fail(update.error());
    sqlite3_stmt* u = update->get();
    bind_text(u, 1, m.version);
    bind_text(u, 2, m.path);
    bind_text(u, 3, m.metrics);
    if (sqlite3_step(u) != SQLITE_DONE) {
      return fail(db_error(db, "cannot update model '" + m.version + "' in", ""));
    }
  }
  if (auto st = exec(db, "COMMIT", "cannot commit a registration to"); !st.ok()) {
    return fail(st.error());
  }
  return added;
}

namespace {

// Reads the columns version, path, metrics, registered_at, status, status_at.
Result<RegisteredModel> read_registered_model(sqlite3_stmt* s) {
  RegisteredModel m;
  m.version = column_text(s, 0);
  m.path = column_text(s, 1);
  m.metrics = column_text(s, 2);
  m.registered_at = sqlite3_column_int64(s, 3);
  const std::string status = column_text(s, 4);
  auto parsed = parse_model_status(status);
  if (!parsed) return corrupt("model_registry.status", status);
  m.status = *parsed;
  m.status_at = sqlite3_column_int64(s, 5);
  return m;
}

constexpr const char* kRegistryColumns =
    "SELECT version, path, metrics, registered_at, status, status_at FROM model_registry ";

}  // namespace

Result<std::vector<RegisteredModel>> SqliteStore::registered_models() {
  std::lock_guard lock(list_mu_);
  auto stmt =
      prepare(ldb_.get(), std::string(kRegistryColumns) + "ORDER BY registered_at, version");
  if (!stmt.ok()) return stmt.error();
  sqlite3_stmt* s = stmt->get();
  std::vector<RegisteredModel> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto m = read_registered_model(s);
    if (!m.ok()) return m.error();
    out.push_back(std::move(m).value());
  }
  if (rc != SQLITE_DONE) return db_error(ldb_.get(), "cannot read the model registry from", "");
  return out;
}

Result<std::vector<ModelStatusChange>> SqliteStore::set_model_status(const std::string& version,
                                                                     ModelStatus to, Timestamp at) {
  if (Status st = check_model_version(version); !st.ok()) return st.error();
  std::lock_guard lock(list_mu_);
  sqlite3* db = ldb_.get();
  if (auto st = exec(db, "BEGIN IMMEDIATE", "cannot change a model's status in"); !st.ok()) {
    return st.error();
  }
  auto fail = [&](Error e) -> Result<std::vector<ModelStatusChange>> {
    (void)exec(db, "ROLLBACK", "cannot roll back a model status change in");
    return e;
  };
  auto select = prepare(db, std::string(kRegistryColumns) + "WHERE version = ?1 OR status = ?2");
  if (!select.ok()) return fail(select.error());
  sqlite3_stmt* s = select->get();
  bind_text(s, 1, version);
  const std::string_view target = to_string(to);
  bind_text(s, 2, target);
  std::vector<RegisteredModel> rows;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto m = read_registered_model(s);
    if (!m.ok()) return fail(m.error());
    rows.push_back(std::move(m).value());
  }
  if (rc != SQLITE_DONE) return fail(db_error(db, "cannot read the model registry from", ""));
  auto planned = plan_model_status_change(rows, version, to);
  if (!planned.ok()) return fail(planned.error());
  const std::vector<ModelStatusChange>& changes = *planned;
  if (changes.empty()) {
    (void)exec(db, "ROLLBACK", "cannot roll back a model status change in");
    return changes;
  }
  auto update = prepare(db,
                        "UPDATE model_registry SET status = ?2, status_at = ?3 "
                        "WHERE version = ?1");
  if (!update.ok()) return fail(update.error());
  sqlite3_stmt* u = update->get();
  for (const ModelStatusChange& c : changes) {  // displaced versions first, frees the role
    sqlite3_reset(u);
    bind_text(u, 1, c.version);
    const std::string_view status = to_string(c.to);
    bind_text(u, 2, status);
    sqlite3_bind_int64(u, 3, at);
    if (sqlite3_step(u) != SQLITE_DONE) {
      return fail(db_error(db, "cannot change the status of model '" + c.version + "' in", ""));
    }
  }
  if (auto st = exec(db, "COMMIT", "cannot commit a model status change to"); !st.ok()) {
    return fail(st.error());
  }
  return changes;
}

Result<std::vector<DecisionRow>> SqliteStore::account_transactions(const std::string& account_id,
                                                                   size_t limit) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* s = select_account_txs_.get();
  ResetGuard reset(s);
  bind_text(s, 1, account_id);
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(limit));
  std::vector<DecisionRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto tx = read_transaction(s, 0);
    if (!tx.ok()) return tx.error();
    auto d = read_decision(s, kTxColumnCount, tx->id);
    if (!d.ok()) return d.error();
    out.push_back(DecisionRow{std::move(tx).value(), std::move(d).value()});
  }
  if (rc != SQLITE_DONE) {
    return db_error(rdb_.get(), "cannot read an account's transactions from", "");
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Partition checkpoints

Status SqliteStore::save_partition_checkpoint(const PartitionCheckpoint& cp) {
  if (auto st = check_partition_checkpoint(cp); !st.ok()) return st;
  // One statement in autocommit mode: its own transaction, durable like write()'s commit.
  sqlite3_stmt* s = upsert_partition_checkpoint_.get();
  ResetGuard reset(s);
  bind_text(s, 1, cp.group);
  bind_text(s, 2, cp.topic);
  sqlite3_bind_int(s, 3, cp.partition);
  sqlite3_bind_int64(s, 4, cp.offset);
  sqlite3_bind_blob64(s, 5, cp.state.data(), cp.state.size(), SQLITE_STATIC);
  sqlite3_bind_int(s, 6, kSnapshotFormatEngineBlob);
  sqlite3_bind_int64(s, 7, cp.saved_at);
  return step_write(s, "a partition checkpoint");
}

Result<std::optional<PartitionCheckpoint>> SqliteStore::load_partition_checkpoint(
    const std::string& group, const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* s = select_partition_checkpoint_.get();
  ResetGuard reset(s);
  bind_text(s, 1, group);
  bind_text(s, 2, topic);
  sqlite3_bind_int(s, 3, partition);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<PartitionCheckpoint>();
  if (rc != SQLITE_ROW) return db_error(rdb_.get(), "cannot read a partition checkpoint from", "");
  PartitionCheckpoint cp;
  cp.group = group;
  cp.topic = topic;
  cp.partition = partition;
  cp.offset = sqlite3_column_int64(s, 0);
  const void* blob = sqlite3_column_blob(s, 1);
  const int bytes = sqlite3_column_bytes(s, 1);
  if (blob != nullptr && bytes > 0) {
    cp.state.assign(static_cast<const char*>(blob), static_cast<size_t>(bytes));
  }
  cp.saved_at = sqlite3_column_int64(s, 2);
  return std::optional<PartitionCheckpoint>(std::move(cp));
}

// ---------------------------------------------------------------------------------------------
// Training history

// Keyset pages over transactions_ts, which (WITHOUT ROWID) holds (ts, id): each page is one
// index range scan from the last (ts, id) seen, so a page costs the same at any depth. mu_ is
// held for one page at a time and the statement is prepared per scan (a rare, long read).
Status SqliteStore::scan_transactions(
    Timestamp before, size_t page_size,
    const std::function<bool(std::vector<Transaction>&)>& on_page) {
  if (page_size == 0) return make_error("page_size", "must be at least 1");
  const std::string sql = "SELECT " + std::string(kTxColumns) +
                          " FROM transactions t WHERE (t.ts, t.id) > (?1, ?2) AND t.ts < ?3 "
                          "ORDER BY t.ts, t.id LIMIT ?4";
  Timestamp last_ts = INT64_MIN;
  std::string last_id;
  const Timestamp end = before == 0 ? INT64_MAX : before;
  std::vector<Transaction> page;
  for (;;) {
    page.clear();
    {
      std::lock_guard lock(mu_);
      auto stmt = prepare(rdb_.get(), sql);
      if (!stmt.ok()) return stmt.error();
      sqlite3_stmt* s = stmt->get();
      sqlite3_bind_int64(s, 1, last_ts);
      bind_text(s, 2, last_id);
      sqlite3_bind_int64(s, 3, end);
      sqlite3_bind_int64(s, 4, static_cast<int64_t>(page_size));
      int rc;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        auto tx = read_transaction(s, 0);
        if (!tx.ok()) return tx.error();
        page.push_back(std::move(tx).value());
      }
      if (rc != SQLITE_DONE) return db_error(rdb_.get(), "cannot read transactions from", "");
    }
    if (page.empty()) return Status::Ok();
    last_ts = page.back().ts;
    last_id = page.back().id;
    const bool full = page.size() == page_size;
    if (!on_page(page) || !full) return Status::Ok();
  }
}

Result<std::vector<LabelEvent>> SqliteStore::label_events() {
  std::lock_guard lock(mu_);
  auto stmt = prepare(rdb_.get(),
                      "SELECT transaction_id, source, label, labelled_at, account_id, merchant_id, "
                      "terminal_id, transaction_ts FROM labels "
                      "ORDER BY labelled_at, transaction_id, source");
  if (!stmt.ok()) return stmt.error();
  sqlite3_stmt* s = stmt->get();
  std::vector<LabelEvent> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    LabelEvent l;
    l.transaction_id = column_text(s, 0);
    l.source = column_text(s, 1);
    const int label = sqlite3_column_int(s, 2);
    if (label != 0 && label != 1) return corrupt("labels.label", std::to_string(label));
    l.label = static_cast<Label>(label);
    l.labelled_at = sqlite3_column_int64(s, 3);
    l.account_id = column_text(s, 4);
    l.merchant_id = column_text(s, 5);
    l.terminal_id = column_text(s, 6);
    l.transaction_ts = sqlite3_column_int64(s, 7);
    out.push_back(std::move(l));
  }
  if (rc != SQLITE_DONE) return db_error(rdb_.get(), "cannot read the labels from", "");
  return out;
}

int sqlite_latest_schema_version() { return kMigrations.back().version; }

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  return SqliteStore::open(options);
}

}  // namespace fw
