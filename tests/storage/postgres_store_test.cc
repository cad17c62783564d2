// PostgreSQL-specific behaviour beyond the shared Store contract: migrations and their errors,
// partitions and retention, reconnecting after the server drops the connection, and password
// redaction. Runs against the server scripts/with-postgres.sh starts; skips without it.
#include "storage/postgres_store.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/time.h"
#include "storage/pg_connection.h"
#include "storage/store_test_data.h"
#include "testing/postgres.h"

namespace fw {
namespace {

using storage_testing::minimal_scored;

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::test_postgres_url()) {
      GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
    }
    url_ = testing::create_test_database();
    ASSERT_FALSE(url_.empty());
  }

  PgConnection connect() {
    auto c = PgConnection::open(url_, "test");
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(c).value() : PgConnection();
  }

  int64_t scalar(PgConnection& c, const std::string& sql) {
    auto r = c.exec(sql);
    EXPECT_TRUE(r.ok()) << r.error().message();
    return r.ok() ? pg_int64(r->get(), 0, 0) : -1;
  }

  std::string url_;
  ManualClock clock_{1'700'000'000'000'000};  // 2023-11-14T22:13:20Z
};

TEST_F(PostgresStoreTest, MigratesOnceAndRecordsTheVersion) {
  auto first = migrate_postgres(url_, clock_);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->from, 0);
  EXPECT_EQ(first->to, postgres_latest_schema_version());
  auto again = migrate_postgres(url_, clock_);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->from, again->to);
  PgConnection c = connect();
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM schema_migrations"), postgres_latest_schema_version());
  EXPECT_EQ(scalar(c, "SELECT applied_at FROM schema_migrations WHERE version = 1"), clock_.now());
  for (const char* table : {"transactions", "decisions", "alerts", "labels", "dead_letters",
                            "audit_log", "model_registry", "rule_set_versions", "users", "api_keys",
                            "engine_checkpoints", "checkpoints"}) {
    EXPECT_EQ(scalar(c, std::string("SELECT count(*) FROM ") + table), 0) << table;
  }
  // The dashboard's indexes exist: by account and time (migration 5), by alert status and time,
  // recent decisions (migration 7: on decided_at alone).
  EXPECT_EQ(scalar(c,
                   "SELECT count(*) FROM pg_indexes WHERE indexname IN "
                   "('decisions_decided_at', 'alerts_status_created', 'alerts_account_created', "
                   "'labels_account_ts', 'transactions_account_ts')"),
            5);
  EXPECT_EQ(scalar(c,
                   "SELECT count(*) FROM pg_indexes WHERE indexname = 'decisions_decided_at' "
                   "AND indexdef LIKE '%(decided_at)'"),
            1);
  // The one index on transactions is (account_id, ts): a transaction is found by id through its
  // decision's account and time (migration 7), so nothing indexes transactions.id.
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM pg_indexes WHERE tablename = 'transactions'"), 1);
}

// A database written by schema 6 (transactions found through a hash index on id, decisions
// without account_id) keeps every row readable after migration 7 drops that index.
TEST_F(PostgresStoreTest, UpgradeFromSchema6KeepsOldTransactionsFindable) {
  auto six = migrate_postgres(url_, clock_, /*up_to_version=*/6);
  ASSERT_TRUE(six.ok()) << six.error().message();
  ASSERT_EQ(six->to, 6);
  PgConnection c = connect();
  const int64_t ts = clock_.now();
  const std::string t = std::to_string(ts);
  for (const std::string& sql : std::vector<std::string>{
           "CREATE TABLE " + transactions_partition_name(ts / kMicrosPerDay) +
               " PARTITION OF transactions FOR VALUES FROM (" +
               std::to_string(ts / kMicrosPerDay * kMicrosPerDay) + ") TO (" +
               std::to_string((ts / kMicrosPerDay + 1) * kMicrosPerDay) + ")",
           "INSERT INTO transactions (id, ts, account_id, amount_minor, currency, type, channel) "
           "VALUES ('old-1', " +
               t + ", 'acct-7', 1999, 'EUR', 'card_purchase', 'ecommerce')",
           "INSERT INTO decisions (transaction_id, tx_ts, decided_at, score, action, reasons, "
           "rule_set_version, latency_ns) VALUES ('old-1', " +
               t + ", " + t + ", 0.5, 'REVIEW', '[]', 'v1', 100)",
           // A decision whose transaction retention already dropped.
           "INSERT INTO decisions (transaction_id, tx_ts, decided_at, score, action, reasons, "
           "rule_set_version, latency_ns) VALUES ('gone', 5, 5, 0.1, 'ALLOW', '[]', 'v1', 100)",
       }) {
    auto r = c.exec(sql);
    ASSERT_TRUE(r.ok()) << r.error().message() << "\n" << sql;
  }
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM pg_indexes WHERE indexname = 'transactions_id'"), 1);

  auto store = open_postgres_store({.url = url_, .clock = &clock_});  // migrates to the latest
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(scalar(c, "SELECT max(version) FROM schema_migrations"),
            postgres_latest_schema_version());
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM pg_indexes WHERE indexname = 'transactions_id'"), 0);
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM decisions WHERE account_id = 'acct-7'"), 1);
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM decisions WHERE account_id IS NULL"), 1);

  auto found = (*store)->find_transaction("old-1");
  ASSERT_TRUE(found.ok()) << found.error().message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->tx.account_id, "acct-7");
  EXPECT_EQ((*found)->decision.action, Action::kReview);
  auto recent = (*store)->recent_decisions(10);
  ASSERT_TRUE(recent.ok()) << recent.error().message();
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].tx.id, "old-1");

  // New writes carry the account on the decision and are found the same way.
  WriteBatch b;
  b.scored.push_back(minimal_scored("new-1", ts + 1));
  ASSERT_TRUE((*store)->write(b).ok());
  EXPECT_EQ(scalar(c,
                   "SELECT count(*) FROM decisions d JOIN transactions t ON "
                   "t.id = d.transaction_id WHERE d.account_id = t.account_id"),
            2);
  EXPECT_TRUE((*store)->find_transaction("new-1")->has_value());
}

TEST_F(PostgresStoreTest, RefusesASchemaNewerThanTheBuild) {
  ASSERT_TRUE(migrate_postgres(url_, clock_).ok());
  PgConnection c = connect();
  ASSERT_TRUE(c.exec("INSERT INTO schema_migrations VALUES (999, 0)").ok());
  auto store = open_postgres_store({.url = url_, .clock = &clock_});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().reason.find("schema version 999"), std::string::npos)
      << store.error().reason;
  EXPECT_NE(store.error().reason.find("upgrade fraudwatch"), std::string::npos);
  auto migrated = migrate_postgres(url_, clock_);
  ASSERT_FALSE(migrated.ok());
  EXPECT_NE(migrated.error().reason.find("upgrade fraudwatch"), std::string::npos);
}

TEST_F(PostgresStoreTest, WithoutMigrateAnOldSchemaIsRefusedWithTheFix) {
  auto store = open_postgres_store({.url = url_, .migrate = false, .clock = &clock_});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().reason.find("fraudwatch db migrate"), std::string::npos)
      << store.error().reason;
  PgConnection c = connect();
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM pg_tables WHERE tablename = 'transactions'"), 0)
      << "nothing may be created without migrate";
  ASSERT_TRUE(migrate_postgres(url_, clock_).ok());
  auto ok = open_postgres_store({.url = url_, .migrate = false, .clock = &clock_});
  ASSERT_TRUE(ok.ok()) << ok.error().message();
}

TEST_F(PostgresStoreTest, UnreachableServerErrorNamesTheServerAndTheFix) {
  auto store = open_postgres_store({.url = "postgresql://fw:s3cret-pw@127.0.0.1:1/nodb"});
  ASSERT_FALSE(store.ok());
  const std::string msg = store.error().message();
  EXPECT_NE(msg.find("127.0.0.1:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("running and reachable"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("s3cret-pw"), std::string::npos) << "password leaked: " << msg;
}

TEST_F(PostgresStoreTest, UnknownUserIsReportedAsAnAuthenticationProblem) {
  auto store = open_postgres_store({.url = url_ + " user=nobody_here password=hunter2"});
  ASSERT_FALSE(store.ok());
  const std::string msg = store.error().message();
  EXPECT_NE(msg.find("authentication"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << "password leaked: " << msg;
}

TEST(RedactConninfo, HidesPasswordsInEveryForm) {
  EXPECT_EQ(redact_conninfo("postgresql://fw:pa:ss@db:5432/x?sslmode=require"),
            "postgresql://fw:***@db:5432/x?sslmode=require");
  EXPECT_EQ(redact_conninfo("postgres://fw@db/x?password=abc&sslmode=verify-full"),
            "postgres://fw@db/x?password=***&sslmode=verify-full");
  EXPECT_EQ(redact_conninfo("host=db password = 'a b\\'c' user=fw"),
            "host=db password = *** user=fw");
  EXPECT_EQ(redact_conninfo("host=db password=abc"), "host=db password=***");
  EXPECT_EQ(redact_conninfo("postgresql://db/x"), "postgresql://db/x");
  EXPECT_EQ(redact_conninfo(""), "");
}

TEST_F(PostgresStoreTest, PartitionsAreCreatedAheadAndDroppedAfterRetention) {
  auto store = open_postgres_store({.url = url_, .partition_days_ahead = 2, .clock = &clock_});
  ASSERT_TRUE(store.ok()) << store.error().message();
  PgConnection c = connect();
  const int64_t today = clock_.now() / kMicrosPerDay;
  for (int64_t d = today; d <= today + 2; ++d) {
    EXPECT_EQ(scalar(c, "SELECT count(*) FROM pg_tables WHERE tablename = '" +
                            transactions_partition_name(d) + "'"),
              1)
        << transactions_partition_name(d);
  }
  EXPECT_EQ(transactions_partition_name(today), "transactions_20231114");
  EXPECT_EQ(transactions_partition_name(-1), "transactions_19691231");

  // Rows 10 days old and today; the writer creates the old day's partition itself.
  WriteBatch b;
  b.scored.push_back(minimal_scored("old", clock_.now() - 10 * kMicrosPerDay));
  b.scored.back().decision.decided_at = clock_.now() - 10 * kMicrosPerDay;
  b.scored.push_back(minimal_scored("new", clock_.now()));
  b.scored.back().decision.decided_at = clock_.now();
  ASSERT_TRUE((*store)->write(b).ok());
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM transactions"), 2);

  auto kept = maintain_postgres(url_, clock_.now(), 2, /*retention_days=*/30);
  ASSERT_TRUE(kept.ok()) << kept.error().message();
  EXPECT_TRUE(kept->dropped.empty());
  auto dropped = maintain_postgres(url_, clock_.now(), 2, /*retention_days=*/7);
  ASSERT_TRUE(dropped.ok()) << dropped.error().message();
  ASSERT_EQ(dropped->dropped.size(), 1u);
  EXPECT_EQ(dropped->dropped[0], transactions_partition_name(today - 10));
  EXPECT_EQ(dropped->decisions_deleted, 1);
  EXPECT_EQ(scalar(c, "SELECT count(*) FROM transactions"), 1);
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transactions, 1);
  EXPECT_EQ(counts->decisions, 1);
  EXPECT_TRUE((*store)->find_transaction("new")->has_value());
  EXPECT_FALSE((*store)->find_transaction("old")->has_value());

  // The writer notices the dropped partition and re-creates it when old data arrives again.
  WriteBatch again;
  again.scored.push_back(minimal_scored("old-2", clock_.now() - 10 * kMicrosPerDay));
  Status st = (*store)->write(again);
  if (!st.ok()) st = (*store)->write(again);  // the first try may hit the cached partition
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_TRUE((*store)->find_transaction("old-2")->has_value());
}

TEST_F(PostgresStoreTest, WriterAndReadersReconnectAfterTheServerDropsThem) {
  auto store = open_postgres_store({.url = url_, .clock = &clock_});
  ASSERT_TRUE(store.ok()) << store.error().message();
  WriteBatch b1;
  b1.scored.push_back(minimal_scored("tx-1", 1));
  ASSERT_TRUE((*store)->write(b1).ok());
  ASSERT_TRUE((*store)->counts().ok());

  // What a server restart or a failover does to open connections.
  PgConnection admin = connect();
  ASSERT_TRUE(admin
                  .exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                        "datname = current_database() AND pid <> pg_backend_pid()")
                  .ok());

  WriteBatch b2;
  b2.scored.push_back(minimal_scored("tx-2", 2));
  b2.checkpoints.push_back({"src", 2});
  Status st = (*store)->write(b2);
  if (!st.ok()) {
    EXPECT_EQ(st.error().field, "database");
    st = (*store)->write(b2);  // the StoreWriter retries the same way
  }
  ASSERT_TRUE(st.ok()) << st.error().message();
  auto counts = (*store)->counts();
  if (!counts.ok()) counts = (*store)->counts();
  ASSERT_TRUE(counts.ok()) << counts.error().message();
  EXPECT_EQ(counts->transactions, 2);
  EXPECT_EQ((*store)->checkpoint("src")->value_or(-1), 2);
}

// make test sets FW_REQUIRE_POSTGRES=1: a PostgreSQL test that finds no server URL then fails
// instead of skipping quietly.
TEST(TestPostgresHelper, FailsInsteadOfSkippingWhenTheServerIsRequiredButMissing) {
  const char* url = std::getenv("FW_TEST_DATABASE_URL");
  const char* required = std::getenv("FW_REQUIRE_POSTGRES");
  const std::string saved_url = url != nullptr ? url : "";
  const std::string saved_required = required != nullptr ? required : "";
  unsetenv("FW_TEST_DATABASE_URL");
  setenv("FW_REQUIRE_POSTGRES", "1", 1);
  EXPECT_NONFATAL_FAILURE(EXPECT_FALSE(testing::test_postgres_url().has_value()),
                          "FW_TEST_DATABASE_URL is not set but FW_REQUIRE_POSTGRES=1");
  setenv("FW_REQUIRE_POSTGRES", "0", 1);
  EXPECT_FALSE(testing::test_postgres_url().has_value());  // not required: a plain skip
  if (url != nullptr) setenv("FW_TEST_DATABASE_URL", saved_url.c_str(), 1);
  if (required != nullptr) {
    setenv("FW_REQUIRE_POSTGRES", saved_required.c_str(), 1);
  } else {
    unsetenv("FW_REQUIRE_POSTGRES");
  }
}

}  // namespace
}  // namespace fw
