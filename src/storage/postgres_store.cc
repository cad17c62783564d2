#include "storage/postgres_store.h"

#include <endian.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "storage/named_list.h"
#include "storage/pg_connection.h"
#include "storage/reasons_json.h"

namespace fw {
namespace {

// ---------------------------------------------------------------------------------------------
// Schema migrations: applied in order, each in its own transaction, recorded in
// schema_migrations. Never edit a migration that has shipped; append a new one.
// Times are UTC microseconds (bigint), money integer minor units + ISO 4217 code, as in SQLite.

struct Migration {
  int version;
  const char* sql;
};

constexpr std::array<Migration, 7> kMigrations = {{
    {1, R"sql(
-- Identifiers use the "C" collation: byte order, no locale rules, so key comparisons in the
-- b-trees are plain memcmp (measurably cheaper on the write path than a libc UTF-8 locale).
-- Transactions, partitioned by UTC day of ts (microseconds). Partitions are created ahead by
-- the writer and by maintenance, and dropped whole after the retention. The primary key must
-- contain the partition key, so uniqueness by transaction id alone is kept by decisions below.
CREATE TABLE transactions (
  id text COLLATE "C" NOT NULL,
  ts bigint NOT NULL,
  account_id text COLLATE "C" NOT NULL,
  amount_minor bigint NOT NULL,
  currency text NOT NULL,
  type text NOT NULL,
  channel text NOT NULL,
  merchant_id text NOT NULL DEFAULT '',
  mcc integer NOT NULL DEFAULT 0,
  terminal_id text NOT NULL DEFAULT '',
  country text,
  lat double precision,
  lon double precision,
  utc_offset_minutes smallint,
  device_id text NOT NULL DEFAULT '',
  ip text NOT NULL DEFAULT '',
  counterparty text NOT NULL DEFAULT '',
  card_present boolean NOT NULL DEFAULT false,
  card_token text NOT NULL DEFAULT '',   -- keyed token; the card number is never stored
  label smallint,                        -- NULL unknown, 0 legitimate, 1 fraud
  fraud_pattern text NOT NULL DEFAULT '',
  PRIMARY KEY (id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX transactions_account_ts ON transactions (account_id, ts);

-- One decision per transaction: the ledger that makes writes idempotent by transaction id
-- (a transaction is stored only when its decision row is new). tx_ts locates the partition.
CREATE TABLE decisions (
  transaction_id text COLLATE "C" PRIMARY KEY,
  tx_ts bigint NOT NULL,
  decided_at bigint NOT NULL,
  score double precision NOT NULL,
  action text NOT NULL CHECK (action IN ('ALLOW', 'REVIEW', 'BLOCK')),
  reasons text NOT NULL,                 -- JSON array [{rule_id, detail, score}]
  rule_set_version text NOT NULL,
  latency_ns bigint NOT NULL
);
CREATE INDEX decisions_decided_at ON decisions (decided_at, transaction_id);

CREATE TABLE alerts (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  transaction_id text COLLATE "C" PRIMARY KEY
    REFERENCES decisions (transaction_id) ON DELETE CASCADE,
  account_id text COLLATE "C" NOT NULL,
  created_at bigint NOT NULL,
  action text NOT NULL CHECK (action IN ('ALLOW', 'REVIEW', 'BLOCK')),
  score double precision NOT NULL,
  summary text NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'investigating', 'closed'))
);
CREATE INDEX alerts_status_created ON alerts (status, created_at);
CREATE INDEX alerts_created ON alerts (created_at, seq);
CREATE INDEX alerts_account_created ON alerts (account_id, created_at);

CREATE TABLE labels (
  transaction_id text COLLATE "C" NOT NULL,
  source text COLLATE "C" NOT NULL,
  label smallint NOT NULL,
  labelled_at bigint NOT NULL,
  account_id text COLLATE "C" NOT NULL,
  merchant_id text NOT NULL,
  terminal_id text NOT NULL,
  transaction_ts bigint NOT NULL,
  PRIMARY KEY (transaction_id, source)
);
CREATE INDEX labels_account_ts ON labels (account_id, transaction_ts);

CREATE TABLE dead_letters (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source text COLLATE "C" NOT NULL,
  raw bytea NOT NULL,                    -- the input as received, byte for byte
  field text NOT NULL,
  reason text NOT NULL,
  received_at bigint NOT NULL
);
-- A replayed input is stored once; hashed because raw may exceed a b-tree entry.
CREATE UNIQUE INDEX dead_letters_source_raw ON dead_letters (source, sha256(raw));
CREATE INDEX dead_letters_received ON dead_letters (received_at);

-- How far each input source was consumed; committed with the rows it covers.
CREATE TABLE checkpoints (
  source text COLLATE "C" PRIMARY KEY,
  "offset" bigint NOT NULL,
  updated_at bigint NOT NULL
);

-- Row counts kept in step with the rows by write(), so counts() reads nine rows.
CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO counters (name, value) VALUES ('transactions', 0), ('decisions', 0), ('allow', 0),
  ('review', 0), ('block', 0), ('alerts', 0), ('open_alerts', 0), ('labels', 0),
  ('dead_letters', 0);

-- Engine state per Kafka partition: a snapshot of the account state and the offset it covers.
CREATE TABLE engine_checkpoints (
  consumer_group text NOT NULL,
  topic text NOT NULL,
  kafka_partition integer NOT NULL,
  "offset" bigint NOT NULL,
  snapshot bytea NOT NULL,
  snapshot_format integer NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (consumer_group, topic, kafka_partition)
);

CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  actor text NOT NULL,                   -- user name, API key prefix or 'system'
  action text NOT NULL,                  -- e.g. 'alert.close', 'rules.activate'
  target text NOT NULL DEFAULT '',
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor_at ON audit_log (actor, at);

CREATE TABLE model_registry (
  name text NOT NULL,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  format text NOT NULL,                  -- e.g. 'xgboost-json'
  sha256 text NOT NULL,
  model bytea NOT NULL,
  metrics jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL CHECK (status IN ('candidate', 'shadow', 'active', 'retired')),
  PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX model_registry_one_active ON model_registry (name) WHERE status = 'active';

CREATE TABLE rule_set_versions (
  version text PRIMARY KEY,
  created_at bigint NOT NULL,
  author text NOT NULL,
  source text NOT NULL,                  -- the rule-set YAML as loaded
  sha256 text NOT NULL,
  active boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX rule_set_versions_one_active ON rule_set_versions (active) WHERE active;

CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL UNIQUE,
  password_hash text NOT NULL,           -- argon2id (libsodium), never the password
  role text NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
  created_at bigint NOT NULL,
  disabled boolean NOT NULL DEFAULT false
);

CREATE TABLE api_keys (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  prefix text NOT NULL UNIQUE,           -- the public part shown in lists and logs
  key_hash text NOT NULL,                -- hash of the secret part, never the key
  created_at bigint NOT NULL,
  expires_at bigint,
  revoked_at bigint,
  last_used_at bigint
);
)sql"},
    // No reader uses transactions (account_id, ts): per-account views read alerts and labels by
    // account (as in SQLite, ADR 0003). With accounts arriving in random order it cost the
    // writer's backend about 3.8 us of CPU per transaction, a quarter of the write path
    // (bench/postgres_cost_breakdown.sh, ADR 0005).
    {2, R"sql(
DROP INDEX IF EXISTS transactions_account_ts;
)sql"},
    // Named allow/deny lists managed by `fraudwatch lists` and /api/lists (docs/rules.md).
    {3, R"sql(
CREATE TABLE named_lists (
  name text NOT NULL,
  value text NOT NULL,
  added_at bigint NOT NULL,            -- UTC microseconds
  PRIMARY KEY (name, value)
);
)sql"},
    // The models' part of a decision (docs/models.md): scores, model version and the top
    // feature contributions of flagged decisions, as one JSON object; NULL without models.
    {4, R"sql(
ALTER TABLE decisions ADD COLUMN model text;
)sql"},
    // The dashboard's "transactions of one account, newest first" needs (account_id, ts); to pay
    // for it, the primary key (id, ts) becomes a hash index on id. The key never enforced
    // anything the decisions ledger does not (a transaction is inserted only with a new
    // decision), and point lookups by id go through a hash index as well. Measured per
    // transaction in the backend's COPY (bench/postgres_copy_instructions.sh, ADR
    // 0010): primary key b-tree ~9.6k instructions, hash on id
    // ~3.5k, (account_id, ts) ~11.6k. Building these on a large existing database locks the
    // partitions while it runs: see docs/production.md.
    {5, R"sql(
ALTER TABLE transactions DROP CONSTRAINT IF EXISTS transactions_pkey;
CREATE INDEX transactions_id ON transactions USING hash (id);
CREATE INDEX transactions_account_ts ON transactions (account_id, ts);
)sql"},
    // The model registry (docs/models.md, "Registry"), as in SQLite's migration 6. Migration 1's
    // model_registry (models as blobs, keyed by name and a number) was never written by any
    // fraudwatch, so it is replaced: a registered version is a model folder, found by its path,
    // and the statuses are candidate, champion, shadow and retired. The partial unique index
    // allows at most one champion and at most one shadow.
    {6, R"sql(
DROP TABLE IF EXISTS model_registry;
CREATE TABLE model_registry (
  version text COLLATE "C" PRIMARY KEY,  -- model_version(folder)
  path text NOT NULL,                    -- the model folder, absolute
  metrics text NOT NULL,                 -- JSON object summarising the folder's metadata
  registered_at bigint NOT NULL,         -- UTC microseconds
  status text NOT NULL CHECK (status IN ('candidate', 'champion', 'shadow', 'retired')),
  status_at bigint NOT NULL              -- UTC microseconds of the last status change
);
CREATE UNIQUE INDEX model_registry_one_each ON model_registry (status)
  WHERE status IN ('champion', 'shadow');
)sql"},
    // A decision names its transaction's account, so a transaction is found by (account_id, ts,
    // id) through transactions_account_ts, and the hash index on transactions.id (migration 5)
    // goes: on the write path it was the costliest index left, about 1.6 us of the writer
    // backend's CPU per transaction, because every insert lands on a random bucket page
    // (ADR 0017). Decisions written before this migration get their account from their
    // transaction (a decision whose partition retention already dropped keeps NULL, and was
    // unreadable before as well). On a large database this rewrites `decisions`: run it in a
    // maintenance window (docs/production.md).
    {7, R"sql(
ALTER TABLE decisions ADD COLUMN account_id text COLLATE "C";
UPDATE decisions d SET account_id = t.account_id
  FROM transactions t WHERE t.id = d.transaction_id AND t.ts = d.tx_ts;
DROP INDEX IF EXISTS transactions_id;
DROP INDEX IF EXISTS decisions_decided_at;
CREATE INDEX decisions_decided_at ON decisions (decided_at);
)sql"},
}};

constexpr int64_t kMigrationLockKey = 0x6677'6d69'6772;  // pg_advisory_lock key ("fwmigr")

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
// Session set-up of the writer connection: staging tables emptied at every commit, and the
// statement that moves a staged batch into the real tables.

constexpr const char* kStageSql = R"sql(
CREATE TEMP TABLE fw_stage_tx (
  id text COLLATE "C", ts bigint, account_id text, amount_minor bigint, currency text, type text,
  channel text, merchant_id text, mcc integer, terminal_id text, country text,
  lat double precision, lon double precision, utc_offset_minutes smallint, device_id text,
  ip text, counterparty text, card_present boolean, card_token text, label smallint,
  fraud_pattern text, decided_at bigint, score double precision, action text, reasons text,
  rule_set_version text, latency_ns bigint, model text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE fw_stage_alerts (
  seq integer, transaction_id text COLLATE "C", account_id text, created_at bigint, action text,
  score double precision, summary text, status text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE fw_stage_labels (
  seq integer, transaction_id text, source text, label smallint, labelled_at bigint,
  account_id text, merchant_id text, terminal_id text, transaction_ts bigint
) ON COMMIT DELETE ROWS;
)sql";

// Decisions first: a row that is new there marks its transaction as new (first write wins),
// and only those transactions, and only alerts whose transaction is new or was stored before,
// are inserted. Returns the counter deltas.
constexpr const char* kMoveSql = R"sql(
WITH ins AS (
  INSERT INTO decisions (transaction_id, tx_ts, account_id, decided_at, score, action, reasons,
                         rule_set_version, latency_ns, model)
  SELECT id, ts, account_id, decided_at, score, action, reasons, rule_set_version, latency_ns,
         model
  FROM fw_stage_tx
  ON CONFLICT (transaction_id) DO NOTHING
  RETURNING transaction_id, action),
tx AS (
  INSERT INTO transactions (id, ts, account_id, amount_minor, currency, type, channel,
    merchant_id, mcc, terminal_id, country, lat, lon, utc_offset_minutes, device_id, ip,
    counterparty, card_present, card_token, label, fraud_pattern)
  SELECT s.id, s.ts, s.account_id, s.amount_minor, s.currency, s.type, s.channel,
    s.merchant_id, s.mcc, s.terminal_id, s.country, s.lat, s.lon, s.utc_offset_minutes,
    s.device_id, s.ip, s.counterparty, s.card_present, s.card_token, s.label, s.fraud_pattern
  FROM fw_stage_tx s JOIN ins ON ins.transaction_id = s.id
  RETURNING 1),
al AS (
  INSERT INTO alerts (transaction_id, account_id, created_at, action, score, summary, status)
  SELECT a.transaction_id, a.account_id, a.created_at, a.action, a.score, a.summary, a.status
  FROM fw_stage_alerts a
  WHERE EXISTS (SELECT 1 FROM ins WHERE ins.transaction_id = a.transaction_id)
     OR NOT EXISTS (SELECT 1 FROM fw_stage_tx s WHERE s.id = a.transaction_id)
  ORDER BY a.seq
  ON CONFLICT (transaction_id) DO NOTHING
  RETURNING status),
lb AS (
  INSERT INTO labels (transaction_id, source, label, labelled_at, account_id, merchant_id,
                      terminal_id, transaction_ts)
  SELECT transaction_id, source, label, labelled_at, account_id, merchant_id, terminal_id,
         transaction_ts
  FROM fw_stage_labels ORDER BY seq
  ON CONFLICT (transaction_id, source) DO NOTHING
  RETURNING 1)
SELECT (SELECT count(*) FROM tx),
       (SELECT count(*) FROM ins),
       (SELECT count(*) FROM ins WHERE action = 'ALLOW'),
       (SELECT count(*) FROM ins WHERE action = 'REVIEW'),
       (SELECT count(*) FROM ins WHERE action = 'BLOCK'),
       (SELECT count(*) FROM al),
       (SELECT count(*) FROM al WHERE status = 'open'),
       (SELECT count(*) FROM lb)
)sql";

constexpr const char* kDeadLetterSql =
    "INSERT INTO dead_letters (source, raw, field, reason, received_at) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source, sha256(raw)) DO NOTHING";
constexpr const char* kCheckpointSql =
    "INSERT INTO checkpoints (source, \"offset\", updated_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (source) DO UPDATE SET \"offset\" = excluded.\"offset\", "
    "updated_at = excluded.updated_at";
constexpr const char* kCountersSql =
    "UPDATE counters c SET value = c.value + d.delta FROM (VALUES ('transactions', $1::bigint), "
    "('decisions', $2::bigint), ('allow', $3::bigint), ('review', $4::bigint), "
    "('block', $5::bigint), ('alerts', $6::bigint), ('open_alerts', $7::bigint), "
    "('labels', $8::bigint), ('dead_letters', $9::bigint)) AS d(name, delta) "
    "WHERE c.name = d.name AND d.delta <> 0";

// Reading: the same columns in the same order as SQLite's reader.
constexpr const char* kTxColumns =
    "t.id, t.ts, t.account_id, t.amount_minor, t.currency, t.type, t.channel, t.merchant_id, "
    "t.mcc, t.terminal_id, t.country, t.lat, t.lon, t.utc_offset_minutes, t.device_id, t.ip, "
    "t.counterparty, t.card_present, t.card_token, t.label, t.fraud_pattern";
constexpr int kTxColumnCount = 21;
constexpr const char* kDecisionColumns =
    "d.decided_at, d.score, d.action, d.reasons, d.rule_set_version, d.latency_ns, d.model";
constexpr const char* kAlertColumns =
    "a.transaction_id, a.account_id, a.created_at, a.action, a.score, a.summary, a.status";
constexpr int kAlertColumnCount = 7;
// A decision's transaction, as `t`. LATERAL with LIMIT 1 keeps the plan a per-row lookup
// (transactions_account_ts on (d.account_id, d.tx_ts), and run-time pruning to the one
// partition of d.tx_ts): without a unique key on transactions (migration 5) the planner would
// otherwise expect almost no matches and hash-join whole tables. There is no index on
// transactions.id (migration 7): join through the decision's account and time.
constexpr const char* kTxLateral =
    "CROSS JOIN LATERAL (SELECT * FROM transactions t WHERE t.account_id = d.account_id "
    "AND t.ts = d.tx_ts AND t.id = d.transaction_id LIMIT 1) t ";

// Fields per row of the write path's binary COPYs (PostgresStore::append_*_fields).
constexpr int16_t kTxFields = 21;
constexpr int16_t kDecisionFields = 7;  // without transaction_id, tx_ts and account_id
constexpr int16_t kAlertFields = 7;
constexpr int16_t kLabelFields = 8;
constexpr size_t kCopyChunkBytes = 128 * 1024;

// ---------------------------------------------------------------------------------------------
// Encoding and decoding

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

std::string int_text(int64_t v) {
  std::string s;
  append_int(s, v);
  return s;
}

// A duplicate key: the direct COPY met a row that is already stored (or repeated in the batch).
bool is_unique_violation(const Error& e) {
  return e.reason.find("[SQLSTATE 23505]") != std::string::npos;
}

// Errors no retry can fix: data exceptions (class 22: invalid byte sequence, value too long,
// out of range), integrity violations (class 23: check, foreign key) and an index entry too
// large (54000). Everything else (connection, shutdown, deadlock, resources) may pass later.
bool is_data_error(const Error& e) {
  return e.reason.find("[SQLSTATE 22") != std::string::npos ||
         e.reason.find("[SQLSTATE 23") != std::string::npos ||
         e.reason.find("[SQLSTATE 54000]") != std::string::npos;
}

Error corrupt(std::string field, std::string_view value) {
  return make_error(std::move(field), "stored value '" + std::string(value) +
                                          "' is not valid; the database was changed outside "
                                          "fraudwatch or is corrupt: restore it from a backup");
}

Result<Transaction> read_transaction(const PGresult* r, int row, int c) {
  Transaction tx;
  tx.id = pg_text(r, row, c + 0);
  tx.ts = pg_int64(r, row, c + 1);
  tx.account_id = pg_text(r, row, c + 2);
  tx.amount.minor = pg_int64(r, row, c + 3);
  std::string currency = pg_text(r, row, c + 4);
  auto cur = Currency::parse(currency);
  if (!cur.ok()) return corrupt("transactions.currency", currency);
  tx.amount.currency = *cur;
  std::string type = pg_text(r, row, c + 5);
  auto t = parse_tx_type(type);
  if (!t) return corrupt("transactions.type", type);
  tx.type = *t;
  std::string channel = pg_text(r, row, c + 6);
  auto ch = parse_channel(channel);
  if (!ch) return corrupt("transactions.channel", channel);
  tx.channel = *ch;
  tx.merchant_id = pg_text(r, row, c + 7);
  tx.mcc = static_cast<uint16_t>(pg_int64(r, row, c + 8));
  tx.terminal_id = pg_text(r, row, c + 9);
  if (!pg_null(r, row, c + 10)) {
    std::string country = pg_text(r, row, c + 10);
    auto co = Country::parse(country);
    if (!co) return corrupt("transactions.country", country);
    tx.country = *co;
  }
  tx.has_location = !pg_null(r, row, c + 11);
  if (tx.has_location) {
    tx.lat = pg_double(r, row, c + 11);
    tx.lon = pg_double(r, row, c + 12);
  }
  if (!pg_null(r, row, c + 13)) {
    tx.utc_offset_minutes = static_cast<int16_t>(pg_int64(r, row, c + 13));
  }
  tx.device_id = pg_text(r, row, c + 14);
  tx.ip = pg_text(r, row, c + 15);
  tx.counterparty = pg_text(r, row, c + 16);
  tx.card_present = PQgetvalue(r, row, c + 17)[0] == 't';
  tx.card_token = pg_text(r, row, c + 18);
  tx.label =
      pg_null(r, row, c + 19) ? Label::kUnknown : static_cast<Label>(pg_int64(r, row, c + 19));
  tx.fraud_pattern = pg_text(r, row, c + 20);
  tx.finalize_keys();
  return tx;
}

Result<Decision> read_decision(const PGresult* r, int row, int c, const std::string& tx_id) {
  Decision d;
  d.transaction_id = tx_id;
  if (pg_null(r, row, c)) return d;
  d.decided_at = pg_int64(r, row, c + 0);
  d.score = pg_double(r, row, c + 1);
  std::string action = pg_text(r, row, c + 2);
  auto a = parse_action(action);
  if (!a) return corrupt("decisions.action", action);
  d.action = *a;
  auto reasons = parse_reasons_json(pg_text(r, row, c + 3));
  if (!reasons.ok()) return reasons.error();
  d.reasons = std::move(reasons).value();
  d.rule_set_version = pg_text(r, row, c + 4);
  d.latency_ns = pg_int64(r, row, c + 5);
  if (!pg_null(r, row, c + 6)) {
    if (Status st = parse_model_json(pg_text(r, row, c + 6), d); !st.ok()) return st.error();
  }
  return d;
}

Result<Alert> read_alert(const PGresult* r, int row, int c) {
  Alert a;
  a.transaction_id = pg_text(r, row, c + 0);
  a.account_id = pg_text(r, row, c + 1);
  a.created_at = pg_int64(r, row, c + 2);
  std::string action = pg_text(r, row, c + 3);
  auto act = parse_action(action);
  if (!act) return corrupt("alerts.action", action);
  a.action = *act;
  a.score = pg_double(r, row, c + 4);
  a.summary = pg_text(r, row, c + 5);
  std::string status = pg_text(r, row, c + 6);
  auto st = parse_alert_status(status);
  if (!st) return corrupt("alerts.status", status);
  a.status = *st;
  return a;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ---------------------------------------------------------------------------------------------
// Schema version and migrations

Result<int> current_version(PgConnection& c) {
  auto exists = c.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists.ok()) return exists.error();
  if (PQgetvalue(exists->get(), 0, 0)[0] != 't') return 0;
  auto v = c.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!v.ok()) return v.error();
  return static_cast<int>(pg_int64(v->get(), 0, 0));
}

Error newer_schema(const PgConnection& c, int version) {
  return make_error("database", "database (" + c.describe() + ") has schema version " +
                                    std::to_string(version) + " but this fraudwatch knows up to " +
                                    std::to_string(kMigrations.back().version) +
                                    "; upgrade fraudwatch");
}

Result<MigrationOutcome> migrate(PgConnection& c, const Clock& clock, int up_to_version) {
  auto lock = c.exec("SELECT pg_advisory_lock(" + int_text(kMigrationLockKey) + ")");
  if (!lock.ok()) return lock.error();
  auto run = [&]() -> Result<MigrationOutcome> {
    auto created = c.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "applied_at bigint NOT NULL)");
    if (!created.ok()) return created.error();
    auto v = current_version(c);
    if (!v.ok()) return v.error();
    MigrationOutcome out{*v, *v};
    if (*v > kMigrations.back().version) return newer_schema(c, *v);
    for (const Migration& m : kMigrations) {
      if (m.version <= out.to) continue;
      if (m.version > up_to_version) break;
      std::string sql = std::string("BEGIN;\n") + m.sql +
                        ";\nINSERT INTO schema_migrations (version, applied_at) VALUES (" +
                        std::to_string(m.version) + ", " + int_text(clock.now()) + ");\nCOMMIT;";
      auto applied = c.exec(sql);
      if (!applied.ok()) {
        (void)c.exec("ROLLBACK");
        Error e = applied.error();
        e.reason = "migration " + std::to_string(m.version) + " failed: " + e.reason;
        return e;
      }
      out.to = m.version;
    }
    return out;
  };
  auto out = run();
  (void)c.exec("SELECT pg_advisory_unlock(" + int_text(kMigrationLockKey) + ")");
  return out;
}

std::string create_partition_sql(int64_t day) {
  return "CREATE TABLE IF NOT EXISTS " + transactions_partition_name(day) +
         " PARTITION OF transactions FOR VALUES FROM (" + int_text(day * kMicrosPerDay) + ") TO (" +
         int_text((day + 1) * kMicrosPerDay) + ")";
}

void quiet_notices(PgConnection& c) {
  // CREATE ... IF NOT EXISTS emits notices; libpq would print them on stderr.
  PQsetNoticeProcessor(
      c.get(), [](void*, const char*) {}, nullptr);
}

Result<PgConnection> connect(const std::string& url, const std::string& name) {
  auto c = PgConnection::open(url, name);
  if (c.ok()) quiet_notices(*c);
  return c;
}

// ---------------------------------------------------------------------------------------------
// A small pool of read connections, opened on first use, separate from the writer.

class ReadPool {
 public:
  ReadPool(std::string url, size_t size) : url_(std::move(url)), size_(std::max<size_t>(1, size)) {}

  // Runs f(PgConnection&) on a pooled connection. A connection found broken afterwards is
  // dropped, so the next call connects afresh (after an outage reads recover on their own).
  template <typename F>
  auto with(F&& f) -> decltype(f(std::declval<PgConnection&>())) {
    std::unique_ptr<PgConnection> c;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
      if (!idle_.empty()) {
        c = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (!c) {
      auto opened = connect(url_, "fraudwatch-reader");
      if (!opened.ok()) {
        release(nullptr);
        return opened.error();
      }
      c = std::make_unique<PgConnection>(std::move(opened).value());
    }
    auto out = f(*c);
    release(c->connected() ? std::move(c) : nullptr);
    return out;
  }

 private:
  void release(std::unique_ptr<PgConnection> c) {
    {
      std::lock_guard lock(mu_);
      if (c) {
        idle_.push_back(std::move(c));
      } else {
        --open_;
      }
    }
    cv_.notify_one();
  }

  const std::string url_;
  const size_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mu_
  size_t open_ = 0;                                  // guarded by mu_: idle + in use
};

// ---------------------------------------------------------------------------------------------

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresOptions& options, int version)
      : url_(options.url),
        clock_(options.clock != nullptr ? options.clock : &SystemClock::instance()),
        version_(version),
        readers_(options.url, options.read_connections) {}

  Status write(const WriteBatch& batch) override;
  Result<std::optional<int64_t>> checkpoint(const std::string& source) override;
  Result<StoreCounts> counts() override;
  Result<std::vector<AlertRow>> recent_alerts(size_t limit) override;
  Result<std::vector<DecisionRow>> recent_decisions(size_t limit) override;
  Result<std::optional<DecisionRow>> find_transaction(const std::string& id) override;
  Result<std::vector<DeadLetter>> recent_dead_letters(size_t limit) override;
  Result<std::vector<DecisionRow>> account_transactions(const std::string& account_id,
                                                        size_t limit) override;
  int schema_version() override { return version_; }
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

  // Connects the writer (if it is not) and sets up its session.
  Status ensure_writer();

 private:
  Status validate(const WriteBatch& batch);
  Status ensure_partitions(const WriteBatch& batch);
  Status write_rows(const WriteBatch& batch);
  enum class FastOutcome { kStored, kConflict };
  Result<FastOutcome> write_rows_direct(const WriteBatch& batch,
                                        std::array<int64_t, kCounterNames.size()>& delta);
  Status write_rows_staged(const WriteBatch& batch,
                           std::array<int64_t, kCounterNames.size()>& delta);
  // Append one row's fields (kTxFields, kDecisionFields, ...) in COPY's binary format to buf_;
  // the caller writes the row header with the field count first.
  void append_tx_fields(const Transaction& tx);
  void append_decision_fields(const Decision& d);
  void append_alert_fields(const Alert& a);
  void append_label_fields(const LabelEvent& l);
  // One binary COPY (`sql`, FROM STDIN (FORMAT binary)) of `rows` rows, each appended to buf_
  // by encode(i). Sent in parts of about kCopyChunkBytes, so the server parses and inserts the
  // first rows while the next are encoded, and buf_ stays small enough to stay in cache.
  template <typename Encode>
  Status copy_rows(const char* sql, size_t rows, Encode&& encode);

  // Constant after construction.
  const std::string url_;
  const Clock* const clock_;
  const int version_;

  // Writer state: used only inside write() by one thread at a time.
  PgConnection writer_;
  std::set<int64_t> known_days_;  // partitions known to exist
  std::unordered_set<std::string_view> seen_;
  std::vector<const Scored*> unique_;
  std::vector<const Scored*> by_account_;  // unique_ in (account_id, ts) order
  std::string buf_;
  uint64_t direct_conflicts_ = 0;  // batches that fell back to the staging path

  ReadPool readers_;  // thread-safe
};

Status PostgresStore::ensure_writer() {
  if (writer_.connected()) return Status::Ok();
  auto c = connect(url_, "fraudwatch-writer");
  if (!c.ok()) return c.error();
  writer_ = std::move(c).value();
  if (auto r = writer_.exec(kStageSql); !r.ok()) return r.error();
  if (auto st = writer_.prepare("fw_move", kMoveSql); !st.ok()) return st;
  if (auto st = writer_.prepare("fw_dead_letter", kDeadLetterSql); !st.ok()) return st;
  if (auto st = writer_.prepare("fw_checkpoint", kCheckpointSql); !st.ok()) return st;
  if (auto st = writer_.prepare("fw_counters", kCountersSql); !st.ok()) return st;
  return Status::Ok();
}

Status PostgresStore::validate(const WriteBatch& batch) {
  for (const Scored& sc : batch.scored) {
    if (sc.tx.id.empty()) {
      return make_error("transaction.id", "is empty; every transaction needs an id to be stored");
    }
    if (!sc.decision.transaction_id.empty() && sc.decision.transaction_id != sc.tx.id) {
      return make_error("decision.transaction_id",
                        "'" + sc.decision.transaction_id + "' does not match its transaction '" +
                            sc.tx.id + "'; pair each decision with its own transaction");
    }
  }
  for (const LabelEvent& l : batch.labels) {
    if (l.label == Label::kUnknown) {
      return make_error("label.label", "is unknown for transaction '" + l.transaction_id +
                                           "'; a label event must say fraud or legitimate");
    }
  }
  return Status::Ok();
}

Status PostgresStore::ensure_partitions(const WriteBatch& batch) {
  // Partition DDL takes a strong lock on the parent, so it runs in its own short transaction
  // before the batch, and only for days not seen before (normally once a day).
  for (const Scored& sc : batch.scored) {
    int64_t day = floor_div(sc.tx.ts, kMicrosPerDay);
    if (known_days_.count(day) != 0) continue;
    auto r = writer_.exec(create_partition_sql(day));
    if (!r.ok()) return r.error();
    known_days_.insert(day);
  }
  return Status::Ok();
}

Status PostgresStore::write(const WriteBatch& batch) {
  if (batch.empty()) return Status::Ok();
  if (auto st = validate(batch); !st.ok()) return mark_permanent(st.error());
  if (auto st = ensure_writer(); !st.ok()) return st;
  if (auto st = ensure_partitions(batch); !st.ok()) return st;
  if (auto r = writer_.exec("BEGIN"); !r.ok()) return r.error();
  Status st = write_rows(batch);
  if (st.ok()) {
    // If the connection dies after COMMIT was sent, the batch may or may not be stored; the
    // retry of the same batch is then skipped row by row, so nothing is stored twice.
    auto r = writer_.exec("COMMIT");
    if (!r.ok()) st = r.error();
  }
  if (!st.ok()) {
    if (writer_.connected()) (void)writer_.exec("ROLLBACK");
    // A partition dropped behind our back (retention) must be re-created on the retry.
    known_days_.clear();
    if (is_data_error(st.error())) st = mark_permanent(st.error());
  }
  seen_.clear();
  unique_.clear();
  by_account_.clear();
  return st;
}

void PostgresStore::append_tx_fields(const Transaction& tx) {
  copy_binary_text(buf_, tx.id);
  copy_binary_int64(buf_, tx.ts);
  copy_binary_text(buf_, tx.account_id);
  copy_binary_int64(buf_, tx.amount.minor);
  copy_binary_text(buf_, tx.amount.currency.code());
  copy_binary_text(buf_, to_string(tx.type));
  copy_binary_text(buf_, to_string(tx.channel));
  copy_binary_text(buf_, tx.merchant_id);
  copy_binary_int32(buf_, tx.mcc);
  copy_binary_text(buf_, tx.terminal_id);
  if (tx.country.known()) {
    copy_binary_text(buf_, tx.country.code());
  } else {
    copy_binary_null(buf_);
  }
  if (tx.has_location) {
    copy_binary_double(buf_, tx.lat);
    copy_binary_double(buf_, tx.lon);
  } else {
    copy_binary_null(buf_);
    copy_binary_null(buf_);
  }
  if (tx.utc_offset_minutes) {
    copy_binary_int16(buf_, *tx.utc_offset_minutes);
  } else {
    copy_binary_null(buf_);
  }
  copy_binary_text(buf_, tx.device_id);
  copy_binary_text(buf_, tx.ip);
  copy_binary_text(buf_, tx.counterparty);
  copy_binary_bool(buf_, tx.card_present);
  copy_binary_text(buf_, tx.card_token);
  if (tx.label != Label::kUnknown) {
    copy_binary_int16(buf_, static_cast<int16_t>(tx.label));
  } else {
    copy_binary_null(buf_);
  }
  copy_binary_text(buf_, tx.fraud_pattern);
}

void PostgresStore::append_decision_fields(const Decision& d) {
  copy_binary_int64(buf_, d.decided_at);
  copy_binary_double(buf_, d.score);
  copy_binary_text(buf_, to_string(d.action));
  const size_t reasons = copy_binary_text_begin(buf_);
  append_reasons_json(buf_, d.reasons);
  copy_binary_text_end(buf_, reasons);
  copy_binary_text(buf_, d.rule_set_version);
  copy_binary_int64(buf_, d.latency_ns);
  if (has_model_part(d)) {
    const size_t model = copy_binary_text_begin(buf_);
    append_model_json(buf_, d);
    copy_binary_text_end(buf_, model);
  } else {
    copy_binary_null(buf_);
  }
}

void PostgresStore::append_alert_fields(const Alert& a) {
  copy_binary_text(buf_, a.transaction_id);
  copy_binary_text(buf_, a.account_id);
  copy_binary_int64(buf_, a.created_at);
  copy_binary_text(buf_, to_string(a.action));
  copy_binary_double(buf_, a.score);
  copy_binary_text(buf_, a.summary);
  copy_binary_text(buf_, to_string(a.status));
}

void PostgresStore::append_label_fields(const LabelEvent& l) {
  copy_binary_text(buf_, l.transaction_id);
  copy_binary_text(buf_, l.source);
  copy_binary_int16(buf_, static_cast<int16_t>(l.label));
  copy_binary_int64(buf_, l.labelled_at);
  copy_binary_text(buf_, l.account_id);
  copy_binary_text(buf_, l.merchant_id);
  copy_binary_text(buf_, l.terminal_id);
  copy_binary_int64(buf_, l.transaction_ts);
}

template <typename Encode>
Status PostgresStore::copy_rows(const char* sql, size_t rows, Encode&& encode) {
  if (Status st = writer_.copy_begin(sql); !st.ok()) return st;
  buf_.clear();
  copy_binary_header(buf_);
  Status st = Status::Ok();
  for (size_t i = 0; i < rows && st.ok(); ++i) {
    encode(i);
    if (buf_.size() >= kCopyChunkBytes) {
      st = writer_.copy_put(buf_);
      buf_.clear();
    }
  }
  if (st.ok()) {
    copy_binary_trailer(buf_);
    st = writer_.copy_put(buf_);
  }
  buf_.clear();
  auto copied = writer_.copy_end();  // also after a failed put: leaves the COPY state
  if (!st.ok()) return st;
  if (!copied.ok()) return copied.error();
  return Status::Ok();
}

// The common case: nothing in the batch is stored yet (repeats only come from redelivery after
// a crash or an outage). COPY straight into the real tables inside a savepoint; the unique
// indexes then do the duplicate check for free, and the first unique violation (SQLSTATE
// 23505) rolls back to the savepoint and reports kConflict, so the caller takes the staging
// path that skips stored rows. Any other error is returned as is.
Result<PostgresStore::FastOutcome> PostgresStore::write_rows_direct(
    const WriteBatch& batch, std::array<int64_t, kCounterNames.size()>& delta) {
  if (auto r = writer_.exec("SAVEPOINT fw_direct"); !r.ok()) return r.error();
  Status st = Status::Ok();
  if (!unique_.empty()) {
    // Each table's rows go in the order of its busiest index (ADR 0017): decisions by
    // decided_at, so decisions_decided_at only ever grows at its right edge (equal times are
    // ordered by heap position, which grows with the COPY), and transactions by (account_id,
    // ts), so consecutive inserts into transactions_account_ts find their pages in cache. The
    // account order (string comparisons, ~7 ms for 32,768 rows) is sorted on another thread
    // while the server inserts the decisions, instead of leaving the server idle meanwhile.
    by_account_.assign(unique_.begin(), unique_.end());
    std::future<void> account_order = std::async(std::launch::async, [this] {
      std::sort(by_account_.begin(), by_account_.end(), [](const Scored* a, const Scored* b) {
        return std::tie(a->tx.account_id, a->tx.ts) < std::tie(b->tx.account_id, b->tx.ts);
      });
    });
    std::stable_sort(unique_.begin(), unique_.end(), [](const Scored* a, const Scored* b) {
      return a->decision.decided_at < b->decision.decided_at;
    });
    st = copy_rows(
        "COPY decisions (transaction_id, tx_ts, account_id, decided_at, score, action, reasons, "
        "rule_set_version, latency_ns, model) FROM STDIN (FORMAT binary)",
        unique_.size(), [&](size_t i) {
          const Scored& sc = *unique_[i];
          copy_binary_row(buf_, 3 + kDecisionFields);
          copy_binary_text(buf_, sc.tx.id);
          copy_binary_int64(buf_, sc.tx.ts);
          copy_binary_text(buf_, sc.tx.account_id);
          append_decision_fields(sc.decision);
        });
    account_order.wait();
    if (st.ok()) {
      st = copy_rows(
          "COPY transactions (id, ts, account_id, amount_minor, currency, type, channel, "
          "merchant_id, mcc, terminal_id, country, lat, lon, utc_offset_minutes, device_id, ip, "
          "counterparty, card_present, card_token, label, fraud_pattern) FROM STDIN "
          "(FORMAT binary)",
          by_account_.size(), [&](size_t i) {
            copy_binary_row(buf_, kTxFields);
            append_tx_fields(by_account_[i]->tx);
          });
    }
  }
  if (st.ok() && !batch.alerts.empty()) {
    st = copy_rows(
        "COPY alerts (transaction_id, account_id, created_at, action, score, summary, status) "
        "FROM STDIN (FORMAT binary)",
        batch.alerts.size(), [&](size_t i) {
          copy_binary_row(buf_, kAlertFields);
          append_alert_fields(batch.alerts[i]);
        });
  }
  if (st.ok() && !batch.labels.empty()) {
    st = copy_rows(
        "COPY labels (transaction_id, source, label, labelled_at, account_id, merchant_id, "
        "terminal_id, transaction_ts) FROM STDIN (FORMAT binary)",
        batch.labels.size(), [&](size_t i) {
          copy_binary_row(buf_, kLabelFields);
          append_label_fields(batch.labels[i]);
        });
  }
  if (!st.ok()) {
    if (!is_unique_violation(st.error()) || !writer_.connected()) return st.error();
    if (auto r = writer_.exec("ROLLBACK TO SAVEPOINT fw_direct"); !r.ok()) return r.error();
    return FastOutcome::kConflict;
  }
  if (auto r = writer_.exec("RELEASE SAVEPOINT fw_direct"); !r.ok()) return r.error();
  delta[kTransactions] += static_cast<int64_t>(unique_.size());
  delta[kDecisions] += static_cast<int64_t>(unique_.size());
  for (const Scored* sc : unique_) {
    switch (sc->decision.action) {
      case Action::kAllow:
        delta[kAllow]++;
        break;
      case Action::kReview:
        delta[kReview]++;
        break;
      case Action::kBlock:
        delta[kBlock]++;
        break;
    }
  }
  delta[kAlerts] += static_cast<int64_t>(batch.alerts.size());
  for (const Alert& a : batch.alerts) {
    if (a.status == AlertStatus::kOpen) delta[kOpenAlerts]++;
  }
  delta[kLabels] += static_cast<int64_t>(batch.labels.size());
  return FastOutcome::kStored;
}

// The general case: COPY into the session's staging tables, then one statement inserts what
// is new (ON CONFLICT DO NOTHING) and returns the counter deltas.
Status PostgresStore::write_rows_staged(const WriteBatch& batch,
                                        std::array<int64_t, kCounterNames.size()>& delta) {
  if (!unique_.empty()) {
    Status st =
        copy_rows("COPY fw_stage_tx FROM STDIN (FORMAT binary)", unique_.size(), [&](size_t i) {
          copy_binary_row(buf_, kTxFields + kDecisionFields);
          append_tx_fields(unique_[i]->tx);
          append_decision_fields(unique_[i]->decision);
        });
    if (!st.ok()) return st;
  }

  if (!batch.alerts.empty()) {
    Status st = copy_rows("COPY fw_stage_alerts FROM STDIN (FORMAT binary)", batch.alerts.size(),
                          [&](size_t i) {
                            copy_binary_row(buf_, 1 + kAlertFields);
                            copy_binary_int32(buf_, static_cast<int32_t>(i));
                            append_alert_fields(batch.alerts[i]);
                          });
    if (!st.ok()) return st;
  }

  if (!batch.labels.empty()) {
    Status st = copy_rows("COPY fw_stage_labels FROM STDIN (FORMAT binary)", batch.labels.size(),
                          [&](size_t i) {
                            copy_binary_row(buf_, 1 + kLabelFields);
                            copy_binary_int32(buf_, static_cast<int32_t>(i));
                            append_label_fields(batch.labels[i]);
                          });
    if (!st.ok()) return st;
  }

  if (!unique_.empty() || !batch.alerts.empty() || !batch.labels.empty()) {
    auto moved = writer_.exec_prepared("fw_move", {});
    if (!moved.ok()) return moved.error();
    const PGresult* r = moved->get();
    for (size_t i = 0; i < 8; ++i) {
      size_t counter = i == 7 ? kLabels : i;  // columns are in Counter order up to open_alerts
      delta[counter] = pg_int64(r, 0, static_cast<int>(i));
    }
  }
  return Status::Ok();
}

Status PostgresStore::write_rows(const WriteBatch& batch) {
  // First occurrence of an id in the batch wins, as across batches.
  unique_.reserve(batch.scored.size());
  for (const Scored& sc : batch.scored) {
    if (seen_.insert(sc.tx.id).second) unique_.push_back(&sc);
  }
  std::array<int64_t, kCounterNames.size()> delta{};

  if (!unique_.empty() || !batch.alerts.empty() || !batch.labels.empty()) {
    Status st = Status::Ok();
    auto direct = write_rows_direct(batch, delta);
    if (!direct.ok()) {
      st = direct.error();
    } else if (*direct == FastOutcome::kConflict) {
      direct_conflicts_++;
      st = write_rows_staged(batch, delta);
    }
    if (!st.ok()) {
      Error e = st.error();
      if (e.reason.find("alerts_transaction_id_fkey") != std::string::npos) {
        e.field = "alert";
        e.reason += "; an alert refers to a transaction that is neither in the batch nor stored";
      }
      return e;
    }
  }

  for (const DeadLetter& dl : batch.dead_letters) {
    std::string received = int_text(dl.received_at);
    auto r = writer_.exec_prepared(
        "fw_dead_letter",
        {{dl.source}, {dl.raw, /*binary=*/true}, {dl.field}, {dl.reason}, {received}});
    if (!r.ok()) return r.error();
    delta[kDeadLetters] += std::strtoll(PQcmdTuples(r->get()), nullptr, 10);
  }

  const Timestamp now = batch.checkpoints.empty() ? 0 : clock_->now();
  const std::string now_text = int_text(now);
  for (const SourceCheckpoint& c : batch.checkpoints) {
    std::string offset = int_text(c.offset);
    auto r = writer_.exec_prepared("fw_checkpoint", {{c.source}, {offset}, {now_text}});
    if (!r.ok()) return r.error();
  }

  if (std::any_of(delta.begin(), delta.end(), [](int64_t d) { return d != 0; })) {
    std::array<std::string, kCounterNames.size()> text;
    std::vector<PgParam> params;
    for (size_t i = 0; i < delta.size(); ++i) {
      text[i] = int_text(delta[i]);
      params.push_back({text[i]});
    }
    auto r = writer_.exec_prepared("fw_counters", params);
    if (!r.ok()) return r.error();
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Reading: each read is one statement on a pooled connection, so it sees one snapshot.

Result<std::optional<int64_t>> PostgresStore::checkpoint(const std::string& source) {
  return readers_.with([&](PgConnection& c) -> Result<std::optional<int64_t>> {
    auto r = c.exec_params("SELECT \"offset\" FROM checkpoints WHERE source = $1", {{source}});
    if (!r.ok()) return r.error();
    if (PQntuples(r->get()) == 0) return std::optional<int64_t>();
    return std::optional<int64_t>(pg_int64(r->get(), 0, 0));
  });
}

Result<StoreCounts> PostgresStore::counts() {
  return readers_.with([&](PgConnection& c) -> Result<StoreCounts> {
    auto r = c.exec("SELECT name, value FROM counters");
    if (!r.ok()) return r.error();
    StoreCounts out;
    std::array<int64_t*, kCounterNames.size()> fields = {
        &out.transactions, &out.decisions,   &out.allow,  &out.review,      &out.block,
        &out.alerts,       &out.open_alerts, &out.labels, &out.dead_letters};
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      std::string name = pg_text(r->get(), row, 0);
      for (size_t i = 0; i < kCounterNames.size(); ++i) {
        if (name == kCounterNames[i]) *fields[i] = pg_int64(r->get(), row, 1);
      }
    }
    return out;
  });
}

Result<std::vector<AlertRow>> PostgresStore::recent_alerts(size_t limit) {
  static const std::string sql =
      std::string("SELECT ") + kAlertColumns + ", " + kTxColumns +
      ", d.reasons, d.model FROM (SELECT * FROM alerts ORDER BY created_at DESC, seq DESC "
      "LIMIT $1) a JOIN decisions d ON d.transaction_id = a.transaction_id " +
      kTxLateral + "ORDER BY a.created_at DESC, a.seq DESC";
  std::string lim = int_text(static_cast<int64_t>(limit));
  return readers_.with([&](PgConnection& c) -> Result<std::vector<AlertRow>> {
    auto r = c.exec_params(sql, {{lim}});
    if (!r.ok()) return r.error();
    std::vector<AlertRow> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      AlertRow a;
      auto alert = read_alert(r->get(), row, 0);
      if (!alert.ok()) return alert.error();
      a.alert = std::move(alert).value();
      auto tx = read_transaction(r->get(), row, kAlertColumnCount);
      if (!tx.ok()) return tx.error();
      a.tx = std::move(tx).value();
      auto reasons = parse_reasons_json(pg_text(r->get(), row, kAlertColumnCount + kTxColumnCount));
      if (!reasons.ok()) return reasons.error();
      a.reasons = std::move(reasons).value();
      if (const int mc = kAlertColumnCount + kTxColumnCount + 1; !pg_null(r->get(), row, mc)) {
        Status st = parse_model_json(pg_text(r->get(), row, mc), a.decision);
        if (!st.ok()) return st.error();
      }
      out.push_back(std::move(a));
    }
    return out;
  });
}

Result<std::vector<DecisionRow>> PostgresStore::recent_decisions(size_t limit) {
  static const std::string sql =
      std::string("SELECT ") + kTxColumns + ", " + kDecisionColumns +
      " FROM (SELECT * FROM decisions ORDER BY decided_at DESC, transaction_id DESC LIMIT $1) d " +
      kTxLateral + "ORDER BY d.decided_at DESC, d.transaction_id DESC";
  std::string lim = int_text(static_cast<int64_t>(limit));
  return readers_.with([&](PgConnection& c) -> Result<std::vector<DecisionRow>> {
    auto r = c.exec_params(sql, {{lim}});
    if (!r.ok()) return r.error();
    std::vector<DecisionRow> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      auto tx = read_transaction(r->get(), row, 0);
      if (!tx.ok()) return tx.error();
      auto d = read_decision(r->get(), row, kTxColumnCount, tx->id);
      if (!d.ok()) return d.error();
      out.push_back(DecisionRow{std::move(tx).value(), std::move(d).value()});
    }
    return out;
  });
}

Result<std::optional<DecisionRow>> PostgresStore::find_transaction(const std::string& id) {
  static const std::string sql = std::string("SELECT ") + kTxColumns + ", " + kDecisionColumns +
                                 " FROM decisions d " + kTxLateral + "WHERE d.transaction_id = $1";
  return readers_.with([&](PgConnection& c) -> Result<std::optional<DecisionRow>> {
    auto r = c.exec_params(sql, {{id}});
    if (!r.ok()) return r.error();
    if (PQntuples(r->get()) == 0) return std::optional<DecisionRow>();
    auto tx = read_transaction(r->get(), 0, 0);
    if (!tx.ok()) return tx.error();
    auto d = read_decision(r->get(), 0, kTxColumnCount, tx->id);
    if (!d.ok()) return d.error();
    return std::optional<DecisionRow>(DecisionRow{std::move(tx).value(), std::move(d).value()});
  });
}

Result<std::vector<DeadLetter>> PostgresStore::recent_dead_letters(size_t limit) {
  std::string lim = int_text(static_cast<int64_t>(limit));
  return readers_.with([&](PgConnection& c) -> Result<std::vector<DeadLetter>> {
    // Binary results: raw comes back byte for byte, received_at as 8 big-endian bytes.
    auto r = c.exec_params(
        "SELECT source, raw, field, reason, received_at FROM dead_letters "
        "ORDER BY id DESC LIMIT $1",
        {{lim}}, /*binary_result=*/true);
    if (!r.ok()) return r.error();
    std::vector<DeadLetter> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      DeadLetter dl;
      dl.source = pg_text(r->get(), row, 0);
      dl.raw = pg_text(r->get(), row, 1);
      dl.field = pg_text(r->get(), row, 2);
      dl.reason = pg_text(r->get(), row, 3);
      uint64_t be = 0;
      if (PQgetlength(r->get(), row, 4) == 8) std::memcpy(&be, PQgetvalue(r->get(), row, 4), 8);
      dl.received_at = static_cast<int64_t>(be64toh(be));
      out.push_back(std::move(dl));
    }
    return out;
  });
}

// Reads transactions_account_ts (migration 5): per partition, an index range scan backwards
// on the account, merged across partitions newest first; each decision by its primary key.
Result<std::vector<DecisionRow>> PostgresStore::account_transactions(const std::string& account_id,
                                                                     size_t limit) {
  static const std::string sql =
      std::string("SELECT ") + kTxColumns + ", " + kDecisionColumns +
      " FROM transactions t LEFT JOIN decisions d ON d.transaction_id = t.id "
      "WHERE t.account_id = $1 ORDER BY t.ts DESC, t.id DESC LIMIT $2";
  std::string lim = int_text(static_cast<int64_t>(limit));
  return readers_.with([&](PgConnection& c) -> Result<std::vector<DecisionRow>> {
    auto r = c.exec_params(sql, {{account_id}, {lim}});
    if (!r.ok()) return r.error();
    std::vector<DecisionRow> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      auto tx = read_transaction(r->get(), row, 0);
      if (!tx.ok()) return tx.error();
      auto d = read_decision(r->get(), row, kTxColumnCount, tx->id);
      if (!d.ok()) return d.error();
      out.push_back(DecisionRow{std::move(tx).value(), std::move(d).value()});
    }
    return out;
  });
}

// Keyset pages in (ts, id) order. `t.ts >= $1` repeats the row comparison's bound so the planner
// prunes the day partitions before the cursor; the partitions are ranges of ts, so the ordered
// scan reads (and sorts) only the first partitions from there until the page is full. A reader
// connection is held for one page at a time.
Status PostgresStore::scan_transactions(
    Timestamp before, size_t page_size,
    const std::function<bool(std::vector<Transaction>&)>& on_page) {
  if (page_size == 0) return make_error("page_size", "must be at least 1");
  static const std::string sql =
      std::string("SELECT ") + kTxColumns +
      " FROM transactions t WHERE t.ts >= $1 AND (t.ts, t.id) > ($1, "
      "$2::text COLLATE \"C\") AND t.ts < $3 ORDER BY t.ts, t.id LIMIT $4";
  Timestamp last_ts = INT64_MIN;
  std::string last_id;
  const std::string end = int_text(before == 0 ? INT64_MAX : before);
  const std::string lim = int_text(static_cast<int64_t>(page_size));
  std::vector<Transaction> page;
  for (;;) {
    page.clear();
    const std::string from = int_text(last_ts);
    Status read = readers_.with([&](PgConnection& c) -> Status {
      auto r = c.exec_params(sql, {{from}, {last_id}, {end}, {lim}});
      if (!r.ok()) return r.error();
      for (int row = 0; row < PQntuples(r->get()); ++row) {
        auto tx = read_transaction(r->get(), row, 0);
        if (!tx.ok()) return tx.error();
        page.push_back(std::move(tx).value());
      }
      return Status::Ok();
    });
    if (!read.ok()) return read;
    if (page.empty()) return Status::Ok();
    last_ts = page.back().ts;
    last_id = page.back().id;
    const bool full = page.size() == page_size;
    if (!on_page(page) || !full) return Status::Ok();
  }
}

Result<std::vector<LabelEvent>> PostgresStore::label_events() {
  return readers_.with([&](PgConnection& c) -> Result<std::vector<LabelEvent>> {
    auto r = c.exec(
        "SELECT transaction_id, source, label, labelled_at, account_id, merchant_id, "
        "terminal_id, transaction_ts FROM labels ORDER BY labelled_at, transaction_id, source");
    if (!r.ok()) return r.error();
    std::vector<LabelEvent> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      LabelEvent l;
      l.transaction_id = pg_text(r->get(), row, 0);
      l.source = pg_text(r->get(), row, 1);
      const int64_t label = pg_int64(r->get(), row, 2);
      if (label != 0 && label != 1) return corrupt("labels.label", pg_text(r->get(), row, 2));
      l.label = static_cast<Label>(label);
      l.labelled_at = pg_int64(r->get(), row, 3);
      l.account_id = pg_text(r->get(), row, 4);
      l.merchant_id = pg_text(r->get(), row, 5);
      l.terminal_id = pg_text(r->get(), row, 6);
      l.transaction_ts = pg_int64(r->get(), row, 7);
      out.push_back(std::move(l));
    }
    return out;
  });
}

}  // namespace

std::string transactions_partition_name(int64_t day) {
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day, y, m, d);
  char buf[48];
  std::snprintf(buf, sizeof buf, "transactions_%04lld%02u%02u", static_cast<long long>(y), m, d);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Partition checkpoints: engine_checkpoints (migration 1). The snapshot travels as a binary
// parameter and comes back as a binary column, so any bytes (NULs included) round-trip without
// escaping and without doubling in size.

namespace {
// engine_checkpoints.snapshot_format: the state is the engine's self-describing blob (it
// carries its own magic and format version, features/partition_snapshot.h).
constexpr int kSnapshotFormatEngineBlob = 1;

// Binary-format integers arrive in network byte order.
int64_t be_int(const PGresult* r, int col) {
  const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r, 0, col));
  uint64_t v = 0;
  for (int i = 0; i < PQgetlength(r, 0, col); ++i) v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}
}  // namespace

Status PostgresStore::save_partition_checkpoint(const PartitionCheckpoint& cp) {
  if (auto st = check_partition_checkpoint(cp); !st.ok()) return st;
  if (auto st = ensure_writer(); !st.ok()) return st;
  const std::string partition = std::to_string(cp.partition);
  const std::string offset = std::to_string(cp.offset);
  const std::string format = std::to_string(kSnapshotFormatEngineBlob);
  const std::string saved_at = std::to_string(cp.saved_at);
  // Autocommit: the statement is its own transaction, durable when it returns (fsync'd WAL,
  // synchronous_commit as the server is configured).
  auto r = writer_.exec_params(
      "INSERT INTO engine_checkpoints (consumer_group, topic, kafka_partition, \"offset\", "
      "snapshot, snapshot_format, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
      "ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET "
      "\"offset\" = excluded.\"offset\", snapshot = excluded.snapshot, "
      "snapshot_format = excluded.snapshot_format, updated_at = excluded.updated_at",
      {{cp.group},
       {cp.topic},
       {partition},
       {offset},
       {cp.state, /*binary=*/true},
       {format},
       {saved_at}});
  if (!r.ok()) {
    if (is_data_error(r.error())) return mark_permanent(r.error());
    return r.error();
  }
  return Status::Ok();
}

Result<std::optional<PartitionCheckpoint>> PostgresStore::load_partition_checkpoint(
    const std::string& group, const std::string& topic, int32_t partition) {
  return readers_.with([&](PgConnection& c) -> Result<std::optional<PartitionCheckpoint>> {
    auto r = c.exec_params(
        "SELECT \"offset\", snapshot, updated_at FROM engine_checkpoints "
        "WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3",
        {{group}, {topic}, {std::to_string(partition)}}, /*binary_result=*/true);
    if (!r.ok()) return r.error();
    const PGresult* res = r->get();
    if (PQntuples(res) == 0) return std::optional<PartitionCheckpoint>();
    if (PQgetlength(res, 0, 0) != 8 || PQgetlength(res, 0, 2) != 8) {
      return make_error("engine_checkpoints",
                        "unexpected column types; the schema was changed "
                        "outside fraudwatch");
    }
    PartitionCheckpoint cp;
    cp.group = group;
    cp.topic = topic;
    cp.partition = partition;
    cp.offset = be_int(res, 0);
    cp.state.assign(PQgetvalue(res, 0, 1), static_cast<size_t>(PQgetlength(res, 0, 1)));
    cp.saved_at = be_int(res, 2);
    return std::optional<PartitionCheckpoint>(std::move(cp));
  });
}

// Named lists: on a pooled connection, one transaction per call.

namespace {

Result<size_t> change_list(ReadPool& pool, const Clock& clock, const std::string& name,
                           const std::vector<std::string>& values, bool add) {
  if (auto st = check_list_name(name); !st.ok()) return st.error();
  if (auto st = check_list_values(values); !st.ok()) return st.error();
  return pool.with([&](PgConnection& c) -> Result<size_t> {
    if (auto r = c.exec("BEGIN"); !r.ok()) return r.error();
    const std::string now = std::to_string(clock.now());
    const std::string sql =
        add ? "INSERT INTO named_lists (name, value, added_at) VALUES ($1, $2, $3) "
              "ON CONFLICT DO NOTHING"
            : "DELETE FROM named_lists WHERE name = $1 AND value = $2";
    size_t changed = 0;
    for (const std::string& v : values) {
      std::vector<PgParam> params = {{name}, {v}};
      if (add) params.push_back({now});
      auto r = c.exec_params(sql, params);
      if (!r.ok()) {
        (void)c.exec("ROLLBACK");
        return r.error();
      }
      changed += static_cast<size_t>(std::strtoull(PQcmdTuples(r->get()), nullptr, 10));
    }
    if (auto r = c.exec("COMMIT"); !r.ok()) {
      (void)c.exec("ROLLBACK");
      return r.error();
    }
    return changed;
  });
}

}  // namespace

Result<size_t> PostgresStore::add_list_values(const std::string& name,
                                              const std::vector<std::string>& values) {
  return change_list(readers_, *clock_, name, values, true);
}

Result<size_t> PostgresStore::remove_list_values(const std::string& name,
                                                 const std::vector<std::string>& values) {
  return change_list(readers_, *clock_, name, values, false);
}

Result<std::vector<std::string>> PostgresStore::list_values(const std::string& name) {
  if (auto st = check_list_name(name); !st.ok()) return st.error();
  return readers_.with([&](PgConnection& c) -> Result<std::vector<std::string>> {
    // COLLATE "C": byte order, as SQLite sorts.
    auto r = c.exec_params(
        "SELECT value FROM named_lists WHERE name = $1 ORDER BY value COLLATE \"C\"", {{name}});
    if (!r.ok()) return r.error();
    std::vector<std::string> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) out.push_back(pg_text(r->get(), row, 0));
    if (out.empty()) return unknown_list(name);
    return out;
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> PostgresStore::lists() {
  return readers_.with(
      [&](PgConnection& c) -> Result<std::vector<std::pair<std::string, int64_t>>> {
        auto r = c.exec(
            "SELECT name, count(*) FROM named_lists GROUP BY name ORDER BY name COLLATE \"C\"");
        if (!r.ok()) return r.error();
        std::vector<std::pair<std::string, int64_t>> out;
        for (int row = 0; row < PQntuples(r->get()); ++row) {
          out.emplace_back(pg_text(r->get(), row, 0), pg_int64(r->get(), row, 1));
        }
        return out;
      });
}

// Model registry: on a pooled connection, one transaction per call.

namespace {

constexpr int64_t kRegistryLockKey = 0x6677'6d6f'6465;  // pg_advisory_xact_lock key ("fwmode")

constexpr const char* kRegistryColumns =
    "SELECT version, path, metrics, registered_at, status, status_at FROM model_registry ";

Result<RegisteredModel> read_registered_model(const PGresult* r, int row) {
  RegisteredModel m;
  m.version = pg_text(r, row, 0);
  m.path = pg_text(r, row, 1);
  m.metrics = pg_text(r, row, 2);
  m.registered_at = pg_int64(r, row, 3);
  const std::string status = pg_text(r, row, 4);
  auto parsed = parse_model_status(status);
  if (!parsed) {
    return make_error("model_registry.status", "stored value '" + status +
                                                   "' is not valid; the database was changed "
                                                   "outside fraudwatch");
  }
  m.status = *parsed;
  m.status_at = pg_int64(r, row, 5);
  return m;
}

}  // namespace

Result<bool> PostgresStore::register_model(const RegisteredModel& m) {
  if (Status st = check_registered_model(m); !st.ok()) return st.error();
  return readers_.with([&](PgConnection& c) -> Result<bool> {
    const std::string at = std::to_string(m.registered_at);
    // xmax = 0 tells a fresh insert from an update of an existing row.
    auto r = c.exec_params(
        "INSERT INTO model_registry (version, path, metrics, registered_at, status, status_at) "
        "VALUES ($1, $2, $3, $4, 'candidate', $4) ON CONFLICT (version) DO UPDATE SET "
        "path = excluded.path, metrics = excluded.metrics RETURNING (xmax = 0)",
        {{m.version}, {m.path}, {m.metrics}, {at}});
    if (!r.ok()) return r.error();
    return PQntuples(r->get()) == 1 && pg_text(r->get(), 0, 0) == "t";
  });
}

Result<std::vector<RegisteredModel>> PostgresStore::registered_models() {
  return readers_.with([&](PgConnection& c) -> Result<std::vector<RegisteredModel>> {
    auto r =
        c.exec(std::string(kRegistryColumns) + "ORDER BY registered_at, version COLLATE \"C\"");
    if (!r.ok()) return r.error();
    std::vector<RegisteredModel> out;
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      auto m = read_registered_model(r->get(), row);
      if (!m.ok()) return m.error();
      out.push_back(std::move(m).value());
    }
    return out;
  });
}

Result<std::vector<ModelStatusChange>> PostgresStore::set_model_status(const std::string& version,
                                                                       ModelStatus to,
                                                                       Timestamp at) {
  if (Status st = check_model_version(version); !st.ok()) return st.error();
  return readers_.with([&](PgConnection& c) -> Result<std::vector<ModelStatusChange>> {
    auto fail = [&](Error e) -> Result<std::vector<ModelStatusChange>> {
      (void)c.exec("ROLLBACK");
      return e;
    };
    if (auto r = c.exec("BEGIN"); !r.ok()) return r.error();
    // Status changes from several processes run one at a time, so each sees the roles the
    // previous one left (READ COMMITTED alone would let two new champions meet the index).
    if (auto r = c.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kRegistryLockKey) + ")");
        !r.ok()) {
      return fail(r.error());
    }
    const std::string target(to_string(to));
    auto r = c.exec_params(std::string(kRegistryColumns) + "WHERE version = $1 OR status = $2",
                           {{version}, {target}});
    if (!r.ok()) return fail(r.error());
    std::vector<RegisteredModel> rows;
    for (int row = 0; row < PQntuples(r->get()); ++row) {
      auto m = read_registered_model(r->get(), row);
      if (!m.ok()) return fail(m.error());
      rows.push_back(std::move(m).value());
    }
    auto planned = plan_model_status_change(rows, version, to);
    if (!planned.ok()) return fail(planned.error());
    const std::vector<ModelStatusChange>& changes = *planned;
    if (changes.empty()) {
      (void)c.exec("ROLLBACK");
      return changes;
    }
    const std::string when = std::to_string(at);
    for (const ModelStatusChange& ch : changes) {  // displaced versions first: frees the role
      const std::string status(to_string(ch.to));
      auto u =
          c.exec_params("UPDATE model_registry SET status = $2, status_at = $3 WHERE version = $1",
                        {{ch.version}, {status}, {when}});
      if (!u.ok()) return fail(u.error());
    }
    if (auto cr = c.exec("COMMIT"); !cr.ok()) return fail(cr.error());
    return changes;
  });
}

int postgres_latest_schema_version() { return kMigrations.back().version; }

Result<MigrationOutcome> migrate_postgres(const std::string& url, const Clock& clock,
                                          int up_to_version) {
  auto c = connect(url, "fraudwatch-migrate");
  if (!c.ok()) return c.error();
  return migrate(*c, clock, up_to_version);
}

Result<MaintenanceOutcome> maintain_postgres(const std::string& url, Timestamp now, int days_ahead,
                                             int retention_days) {
  auto conn = connect(url, "fraudwatch-maintain");
  if (!conn.ok()) return conn.error();
  PgConnection& c = *conn;
  auto v = current_version(c);
  if (!v.ok()) return v.error();
  if (*v < kMigrations.back().version) {
    return make_error("database", "database (" + c.describe() + ") has schema version " +
                                      std::to_string(*v) + ", older than this build's " +
                                      std::to_string(kMigrations.back().version) +
                                      "; run fraudwatch db migrate first");
  }
  MaintenanceOutcome out;
  const int64_t today = floor_div(now, kMicrosPerDay);
  auto existing = c.exec(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
      "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'transactions' "
      "AND pg_table_is_visible(p.oid) ORDER BY 1");
  if (!existing.ok()) return existing.error();
  std::set<std::string> names;
  for (int row = 0; row < PQntuples(existing->get()); ++row) {
    names.insert(pg_text(existing->get(), row, 0));
  }
  for (int64_t day = today; day <= today + std::max(0, days_ahead); ++day) {
    std::string name = transactions_partition_name(day);
    if (names.count(name) != 0) continue;
    auto r = c.exec(create_partition_sql(day));
    if (!r.ok()) return r.error();
    out.created.push_back(name);
  }
  if (retention_days <= 0) return out;
  const int64_t first_kept = today - retention_days;
  const std::string cutoff_name = transactions_partition_name(first_kept);
  for (const std::string& name : names) {
    // Names sort like their days (fixed-width YYYYMMDD after the same prefix).
    if (name.size() != cutoff_name.size() || name >= cutoff_name) continue;
    auto r = c.exec("DROP TABLE IF EXISTS " + name);
    if (!r.ok()) return r.error();
    out.dropped.push_back(name);
  }
  std::string cutoff = int_text(first_kept * kMicrosPerDay);
  auto del = c.exec_params("DELETE FROM decisions WHERE decided_at < $1", {{cutoff}});
  if (!del.ok()) return del.error();
  out.decisions_deleted = std::strtoll(PQcmdTuples(del->get()), nullptr, 10);
  if (!out.dropped.empty() || out.decisions_deleted > 0) {
    auto recount = c.exec(R"sql(
BEGIN;
UPDATE counters c SET value = n.value FROM (
  SELECT 'transactions' AS name, (SELECT count(*) FROM transactions) AS value
  UNION ALL SELECT 'decisions', count(*) FROM decisions
  UNION ALL SELECT 'allow', count(*) FROM decisions WHERE action = 'ALLOW'
  UNION ALL SELECT 'review', count(*) FROM decisions WHERE action = 'REVIEW'
  UNION ALL SELECT 'block', count(*) FROM decisions WHERE action = 'BLOCK'
  UNION ALL SELECT 'alerts', count(*) FROM alerts
  UNION ALL SELECT 'open_alerts', count(*) FROM alerts WHERE status = 'open') n
WHERE c.name = n.name;
COMMIT;)sql");
    if (!recount.ok()) {
      (void)c.exec("ROLLBACK");
      return recount.error();
    }
  }
  return out;
}

Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options) {
  const Clock& clock = options.clock != nullptr ? *options.clock : SystemClock::instance();
  auto c = connect(options.url, "fraudwatch-migrate");
  if (!c.ok()) return c.error();
  int version = 0;
  if (options.migrate) {
    auto m = migrate(*c, clock, INT_MAX);
    if (!m.ok()) return m.error();
    version = m->to;
  } else {
    auto v = current_version(*c);
    if (!v.ok()) return v.error();
    version = *v;
    if (version > kMigrations.back().version) return newer_schema(*c, version);
    if (version < kMigrations.back().version) {
      return make_error("database", "database (" + c->describe() + ") has schema version " +
                                        std::to_string(version) + ", older than this build's " +
                                        std::to_string(kMigrations.back().version) +
                                        "; run fraudwatch db migrate (or set "
                                        "storage.migrate: true)");
    }
  }
  auto maintained =
      maintain_postgres(options.url, clock.now(), options.partition_days_ahead, /*retention=*/0);
  if (!maintained.ok()) return maintained.error();
  auto store = std::make_unique<PostgresStore>(options, version);
  if (Status st = store->ensure_writer(); !st.ok()) return st.error();
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace fw
