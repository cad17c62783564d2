// StoreWriter against real stores (SQLite, and PostgreSQL under scripts/with-postgres.sh):
// a permanently refused transaction is isolated and kept as a dead letter while the rest of its
// batch is stored, and a writer told to give up abandons a failing batch instead of retrying
// for ever, without committing a checkpoint past what it abandoned.
#include "sinks/store_writer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"
#include "storage/store_test_data.h"
#include "testing/paths.h"
#include "testing/postgres.h"

namespace fw {
namespace {

using storage_testing::minimal_scored;

constexpr const char* kSource = "test-source";
constexpr Timestamp kTs = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

struct Backend {
  std::string name;
  bool needs_postgres = false;
  std::function<Result<std::unique_ptr<Store>>(const testing::TempDir& dir)> make;
};
std::ostream& operator<<(std::ostream& os, const Backend& b) { return os << b.name; }

class StoreWriterRefusal : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam().needs_postgres && !testing::test_postgres_url()) {
      GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
    }
    auto store = GetParam().make(dir_);
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(store).value();
  }

  // One source batch (seq 0, one piece) ending at source offset `offset`.
  static ScoredBatch piece(std::vector<Scored> scored, int64_t offset, uint64_t seq = 0) {
    ScoredBatch b;
    b.seq = seq;
    b.pieces = 1;
    b.source_offset_end = offset;
    b.scored = std::move(scored);
    return b;
  }

  StoreCounts counts() {
    auto c = store_->counts();
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? *c : StoreCounts{};
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

std::vector<Scored> ten_transactions() {
  std::vector<Scored> v;
  for (int i = 0; i < 10; ++i) {
    v.push_back(minimal_scored("tx-" + std::to_string(i), kTs + i,
                               i % 4 == 0 ? Action::kReview : Action::kAllow));
  }
  return v;
}

TEST_P(StoreWriterRefusal, RefusedTransactionBecomesADeadLetterAndTheRestIsStored) {
  std::vector<Scored> batch = ten_transactions();
  // Refused by every backend: a decision paired with another transaction.
  batch[6].decision.transaction_id = "someone-else";
  StoreWriter writer(*store_, {.checkpoint_source = kSource});
  writer.start();
  writer.consume(piece(std::move(batch), 10));
  writer.stop();

  const StoreWriterStats ws = writer.stats();
  EXPECT_EQ(ws.rejected, 1u);
  EXPECT_EQ(ws.abandoned, 0u);
  EXPECT_EQ(ws.stored, 9u);
  EXPECT_EQ(ws.checkpoint, 10);
  const StoreCounts c = counts();
  EXPECT_EQ(c.transactions, 9);
  EXPECT_EQ(c.decisions, 9);
  EXPECT_EQ(c.alerts, 3);  // tx-0, tx-4, tx-8 are REVIEW
  EXPECT_EQ(c.dead_letters, 1);
  auto found = store_->find_transaction("tx-6");
  ASSERT_TRUE(found.ok()) << found.error().message();
  EXPECT_FALSE(found->has_value());
  auto dead = store_->recent_dead_letters(10);
  ASSERT_TRUE(dead.ok()) << dead.error().message();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().field, "decision.transaction_id");
  EXPECT_NE(dead->front().reason.find("someone-else"), std::string::npos) << dead->front().reason;
  EXPECT_NE(dead->front().raw.find("\"tx-6\""), std::string::npos) << dead->front().raw;
  EXPECT_EQ(dead->front().source, std::string("store:") + kSource);
  auto cp = store_->checkpoint(kSource);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->value_or(-1), 10);
}

TEST_P(StoreWriterRefusal, SeveralRefusedTransactionsAreEachIsolated) {
  std::vector<Scored> batch = ten_transactions();
  batch[0].tx.id.clear();  // empty id
  batch[0].decision.transaction_id.clear();
  batch[9].decision.transaction_id = "other";
  StoreWriter writer(*store_, {.checkpoint_source = kSource});
  writer.start();
  writer.consume(piece(std::move(batch), 10));
  writer.stop();
  EXPECT_EQ(writer.stats().rejected, 2u);
  const StoreCounts c = counts();
  EXPECT_EQ(c.transactions, 8);
  EXPECT_EQ(c.dead_letters, 2);
  auto dead = store_->recent_dead_letters(10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 2u);
  EXPECT_EQ((*dead)[0].field, "decision.transaction_id");
  EXPECT_EQ((*dead)[1].field, "transaction.id");
}

// A store that fails every write the way a database that is down does (not permanent).
class DownStore final : public Store {
 public:
  explicit DownStore(Store& real) : real_(real) {}
  Status write(const WriteBatch&) override {
    ++attempts;
    return make_error("database", "connection refused (the test's database is down)");
  }
  Result<std::optional<int64_t>> checkpoint(const std::string& s) override {
    return real_.checkpoint(s);
  }
  Result<StoreCounts> counts() override { return real_.counts(); }
  Result<std::vector<AlertRow>> recent_alerts(size_t n) override { return real_.recent_alerts(n); }
  Result<std::vector<DecisionRow>> recent_decisions(size_t n) override {
    return real_.recent_decisions(n);
  }
  Result<std::optional<DecisionRow>> find_transaction(const std::string& id) override {
    return real_.find_transaction(id);
  }
  Result<std::vector<DeadLetter>> recent_dead_letters(size_t n) override {
    return real_.recent_dead_letters(n);
  }
  Result<std::vector<DecisionRow>> account_transactions(const std::string& account,
                                                        size_t n) override {
    return real_.account_transactions(account, n);
  }
  int schema_version() override { return real_.schema_version(); }
  Status save_partition_checkpoint(const PartitionCheckpoint& cp) override {
    return real_.save_partition_checkpoint(cp);
  }
  Result<std::optional<PartitionCheckpoint>> load_partition_checkpoint(const std::string& group,
                                                                       const std::string& topic,
                                                                       int32_t partition) override {
    return real_.load_partition_checkpoint(group, topic, partition);
  }
  Result<size_t> add_list_values(const std::string& n, const std::vector<std::string>& v) override {
    return real_.add_list_values(n, v);
  }
  Result<size_t> remove_list_values(const std::string& n,
                                    const std::vector<std::string>& v) override {
    return real_.remove_list_values(n, v);
  }
  Result<std::vector<std::string>> list_values(const std::string& n) override {
    return real_.list_values(n);
  }
  Result<std::vector<std::pair<std::string, int64_t>>> lists() override { return real_.lists(); }
  Result<bool> register_model(const RegisteredModel& m) override { return real_.register_model(m); }
  Result<std::vector<RegisteredModel>> registered_models() override {
    return real_.registered_models();
  }
  Result<std::vector<ModelStatusChange>> set_model_status(const std::string& v, ModelStatus to,
                                                          Timestamp at) override {
    return real_.set_model_status(v, to, at);
  }
  Status scan_transactions(Timestamp before, size_t page_size,
                           const std::function<bool(std::vector<Transaction>&)>& on_page) override {
    return real_.scan_transactions(before, page_size, on_page);
  }
  Result<std::vector<LabelEvent>> label_events() override { return real_.label_events(); }
  std::atomic<int> attempts{0};

 private:
  Store& real_;
};

TEST_P(StoreWriterRefusal, GivesUpOnATransientFailureOnlyAfterTheDeadline) {
  DownStore down(*store_);
  StoreWriter writer(down, {.checkpoint_source = kSource});
  writer.start();
  writer.consume(piece(ten_transactions(), 10));
  // The writer keeps retrying until told to give up; then stop() returns.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (down.attempts.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(down.attempts.load(), 3) << "the writer retries a transient failure";
  writer.give_up_at(std::chrono::steady_clock::now());
  writer.consume(piece({minimal_scored("late", kTs + 100)}, 11, 1));
  writer.stop();
  const StoreWriterStats ws = writer.stats();
  EXPECT_EQ(ws.abandoned, 11u);
  EXPECT_EQ(ws.stored, 0u);
  EXPECT_EQ(ws.rejected, 0u);
  EXPECT_FALSE(ws.healthy);
  EXPECT_NE(ws.last_error.find("connection refused"), std::string::npos) << ws.last_error;
  EXPECT_EQ(counts().transactions, 0);
  auto cp = store_->checkpoint(kSource);
  ASSERT_TRUE(cp.ok());
  EXPECT_FALSE(cp->has_value()) << "no checkpoint may cover abandoned transactions";
}

// PostgreSQL refuses text that is not UTF-8 and NUL bytes; the writer isolates such a row.
TEST(StoreWriterPostgres, InvalidUtf8IsRefusedAndIsolated) {
  if (!testing::test_postgres_url()) {
    GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
  }
  auto store = open_postgres_store(PostgresOptions{.url = testing::create_test_database()});
  ASSERT_TRUE(store.ok()) << store.error().message();
  std::vector<Scored> batch = ten_transactions();
  batch[3].tx.merchant_id = "bad\xff\xfe";
  batch[7].tx.device_id = std::string("nul\0byte", 8);
  StoreWriter writer(**store, {.checkpoint_source = kSource});
  writer.start();
  ScoredBatch b;
  b.pieces = 1;
  b.source_offset_end = 10;
  b.scored = std::move(batch);
  writer.consume(std::move(b));
  writer.stop();
  EXPECT_EQ(writer.stats().rejected, 2u);
  auto c = (*store)->counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->transactions, 8);
  EXPECT_EQ(c->dead_letters, 2);
  auto dead = (*store)->recent_dead_letters(10);
  ASSERT_TRUE(dead.ok()) << dead.error().message();
  ASSERT_EQ(dead->size(), 2u);
  for (const DeadLetter& d : *dead) {
    EXPECT_NE(d.reason.find("SQLSTATE 22"), std::string::npos) << d.reason;
  }
}

const Backend kSqlite{"sqlite", false, [](const testing::TempDir& dir) {
                        return open_sqlite_store(SqliteOptions{.path = dir.file("store.db")});
                      }};
const Backend kPostgres{
    "postgres", true, [](const testing::TempDir&) {
      return open_postgres_store(PostgresOptions{.url = testing::create_test_database()});
    }};

INSTANTIATE_TEST_SUITE_P(Backends, StoreWriterRefusal, ::testing::Values(kSqlite, kPostgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param.name;
                         });

TEST(StoreWriterPrometheus, ExposesEveryCounterWithHelpAndType) {
  StoreWriterStats stats;
  stats.stored = 12;
  stats.rejected = 3;
  stats.abandoned = 4;
  stats.checkpoint = -1;
  stats.healthy = false;
  const std::string text = store_writer_prometheus(stats);
  EXPECT_NE(text.find("# TYPE fraudwatch_store_rejected_total counter\n"
                      "fraudwatch_store_rejected_total 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nfraudwatch_store_abandoned_total 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nfraudwatch_store_stored_total 12\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nfraudwatch_store_checkpoint -1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nfraudwatch_store_healthy 0\n"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace fw
