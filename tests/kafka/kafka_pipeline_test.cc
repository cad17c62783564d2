// `fraudwatch serve` on librdkafka's mock cluster, the parts of the pipeline beyond the happy
// path: backpressure when the store stops taking writes (input paused, bounded, nothing lost or
// doubled after it resumes), input deleted by retention before it was read (reported loudly),
// labels reaching the store and the engine, and PostgreSQL as the store (decisions and
// partition checkpoints).
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>
#include <signal.h>
#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kafka/kafka_testing.h"
#include "storage/postgres_store.h"
#include "testing/postgres.h"

namespace fw {
namespace {

using namespace fw::testing;  // NOLINT(google-build-using-namespace)

// Holds SQLite's write lock on a database file (BEGIN IMMEDIATE) until release(): every other
// connection's write waits, then fails with "database is locked", which the store writer retries.
class WriteLock {
 public:
  explicit WriteLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 30000);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }
  ~WriteLock() { release(); }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  // Rows in `table` as this connection sees them (inside its own transaction).
  int64_t count(const std::string& table) {
    sqlite3_stmt* st = nullptr;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db_, ("SELECT count(*) FROM " + table).c_str(), -1, &st, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
  }
  void release() {
    if (db_ == nullptr) return;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
    db_ = nullptr;
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(KafkaPipeline, BlockedStorePausesInputAndResumesWithoutLossOrDuplicates) {
  KafkaCluster cluster;
  TempDir dir;
  constexpr int kMaxInflight = 4;
  constexpr int kBatch = 256;  // engine.batch_size in write_serve_config
  const std::string config =
      write_serve_config(dir, cluster.brokers(), unique_group("pause"), 1,
                         "  max_inflight_batches: " + std::to_string(kMaxInflight) + "\n");
  ChildProcess serve(serve_args(config));
  const uint16_t port = serve_metrics_port(serve);
  ASSERT_GT(port, 0) << serve.transcript();
  ASSERT_TRUE(eventually([&] {
    return serve_metric(port, "fraudwatch_kafka_assigned_partitions") > 0;
  })) << serve.transcript();
  const std::string db = dir.file("fraudwatch.db");
  WriteLock lock(db);  // the store stops taking writes

  auto producer = KafkaProducer::create(cluster.config("unused"));
  ASSERT_TRUE(producer.ok()) << producer.error().message();
  const std::vector<Transaction> txs = simulated(6000, 21);
  produce_all(**producer, cluster.topics.transactions, txs);
  ASSERT_TRUE((*producer)->flush(30000));

  ASSERT_TRUE(eventually([&] { return serve_metric(port, "fraudwatch_kafka_paused") == 1; }))
      << serve.transcript();
  EXPECT_GE(serve_metric(port, "fraudwatch_kafka_pauses_total"), 1);
  // Bounded: at most the batches allowed in flight (plus the one that crossed the limit and a
  // partly filled one) were taken from Kafka, not the whole backlog.
  const double taken = serve_metric(port, "fraudwatch_kafka_messages_in_total");
  EXPECT_LE(taken, (kMaxInflight + 2) * kBatch) << serve.transcript();
  EXPECT_LE(serve_metric(port, "fraudwatch_kafka_inflight_batches"), kMaxInflight + 2);
  EXPECT_EQ(lock.count("transactions"), 0);  // (opening the store would wait for the lock)

  lock.release();  // the store catches up: input resumes and everything is stored
  ASSERT_TRUE(eventually([&] { return stored_transactions(db) >= 6000; })) << serve.transcript();
  EXPECT_TRUE(eventually([&] { return serve_metric(port, "fraudwatch_kafka_paused") == 0; }));
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.transcript();
  auto store = open_sqlite_store({.path = db});
  ASSERT_TRUE(store.ok());
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transactions, 6000);  // none lost, none twice
  EXPECT_EQ(counts->decisions, 6000);
  for (const Transaction& tx : {txs.front(), txs[3000], txs.back()}) {
    auto row = (*store)->find_transaction(tx.id);
    ASSERT_TRUE(row.ok() && row->has_value()) << tx.id;
  }
}

// The log start offset of `topic`/`partition` on the cluster, -1 when it cannot be read.
int64_t log_start(const std::string& brokers, const std::string& topic, int32_t partition) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", unique_group("watermarks"), err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) return -1;
  int64_t low = -1, high = -1;
  if (c->query_watermark_offsets(topic, partition, &low, &high, 10000) != RdKafka::ERR_NO_ERROR) {
    low = -1;
  }
  c->close();
  return low;
}

TEST(KafkaPipeline, InputDeletedByRetentionBeforeItWasReadIsReportedLoudly) {
  KafkaCluster cluster;
  TempDir dir;
  const std::string config = write_serve_config(dir, cluster.brokers(), unique_group("gap"));
  const std::string db = dir.file("fraudwatch.db");
  auto producer = KafkaProducer::create(cluster.config("unused"));
  ASSERT_TRUE(producer.ok());
  const std::vector<Transaction> txs = simulated(150, 22);
  {
    // A first member reads and commits offsets 0..99 of partition 0, then leaves.
    ChildProcess serve(serve_args(config));
    ASSERT_TRUE(serve.wait_for("kafka: assigned ")) << serve.transcript();
    produce_all(**producer, cluster.topics.transactions,
                std::vector<Transaction>(txs.begin(), txs.begin() + 100), 0);
    ASSERT_TRUE((*producer)->flush(30000));
    ASSERT_TRUE(eventually([&] { return stored_transactions(db) >= 100; })) << serve.transcript();
    serve.signal(SIGTERM);
    ASSERT_EQ(serve.wait(), 0) << serve.transcript();
  }
  // While nobody reads, more than the mock broker keeps per partition (about 5 MiB) arrives:
  // it deletes the oldest data, including offsets the group has not read yet.
  const std::string filler(900 * 1024, 'f');
  for (int i = 0; i < 8; ++i) {
    (*producer)->produce(cluster.topics.transactions, "filler", filler, {}, UINT64_MAX, 0);
    ASSERT_TRUE((*producer)->flush(30000));
  }
  produce_all(**producer, cluster.topics.transactions,
              std::vector<Transaction>(txs.begin() + 100, txs.end()), 0);
  ASSERT_TRUE((*producer)->flush(30000));
  const int64_t low = log_start(cluster.brokers(), cluster.topics.transactions, 0);
  ASSERT_GT(low, 100) << "the mock kept everything; this test needs its retention to bite";

  ChildProcess serve(serve_args(config));
  const uint16_t port = serve_metrics_port(serve);
  ASSERT_GT(port, 0) << serve.transcript();
  auto line = serve.wait_for("were deleted by the broker");
  ASSERT_TRUE(line) << serve.transcript();
  EXPECT_NE(line->find("transactions/0 offsets 100.." + std::to_string(low - 1)), std::string::npos)
      << *line;
  EXPECT_NE(line->find("error"), std::string::npos) << *line;
  EXPECT_TRUE(eventually([&] {
    return serve_metric(port, "fraudwatch_kafka_skipped_offsets_total") ==
           static_cast<double>(low - 100);
  })) << serve.transcript();
  // What is still there is read: the transactions after the filler are scored and stored.
  ASSERT_TRUE(eventually([&] { return stored_transactions(db) >= 150; })) << serve.transcript();
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.transcript();
  EXPECT_EQ(stored_transactions(db), 150);
}

TEST(KafkaPipeline, LabelsReachTheStoreAndTheEngine) {
  KafkaCluster cluster;
  TempDir dir;
  const std::string config = write_serve_config(dir, cluster.brokers(), unique_group("labels"));
  ChildProcess serve(serve_args(config));
  const uint16_t port = serve_metrics_port(serve);
  ASSERT_GT(port, 0) << serve.transcript();
  auto producer = KafkaProducer::create(cluster.config("unused"));
  ASSERT_TRUE(producer.ok());
  const std::vector<Transaction> txs = simulated(400, 23);
  produce_all(**producer, cluster.topics.transactions, txs);
  ASSERT_TRUE((*producer)->flush(30000));
  const std::string db = dir.file("fraudwatch.db");
  ASSERT_TRUE(eventually([&] { return stored_transactions(db) >= 400; })) << serve.transcript();

  // Verdicts arrive later, keyed by account like the transactions they judge.
  constexpr int kLabels = 60;
  for (int i = 0; i < kLabels; ++i) {
    const Transaction& tx = txs[static_cast<size_t>(i) * 5];
    LabelEvent l;
    l.transaction_id = tx.id;
    l.account_id = tx.account_id;
    l.merchant_id = tx.merchant_id;
    l.terminal_id = tx.terminal_id;
    l.transaction_ts = tx.ts;
    l.labelled_at = tx.ts + 3600 * kMicrosPerSecond;
    l.label = i % 3 == 0 ? Label::kLegit : Label::kFraud;
    l.source = "analyst";
    (*producer)->produce(cluster.topics.labels, l.account_id, to_json(l));
  }
  (*producer)->produce(cluster.topics.labels, "A1", R"({"transaction_id":"x","label":"maybe"})");
  ASSERT_TRUE((*producer)->flush(30000));

  auto stored_labels = [&] {
    auto s = open_sqlite_store({.path = db});
    if (!s.ok()) return int64_t{-1};
    auto c = (*s)->counts();
    return c.ok() ? c->labels : int64_t{-1};
  };
  ASSERT_TRUE(eventually([&] { return stored_labels() >= kLabels; })) << serve.transcript();
  EXPECT_TRUE(eventually([&] {
    return serve_metric(port, "fraudwatch_engine_labels_applied_total") == kLabels;
  })) << serve.transcript();
  EXPECT_EQ(serve_metric(port, "fraudwatch_kafka_labels_in_total"), kLabels);
  EXPECT_TRUE(
      eventually([&] { return serve_metric(port, "fraudwatch_kafka_dead_letters_total") == 1; }));
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.transcript();
  auto store = open_sqlite_store({.path = db});
  ASSERT_TRUE(store.ok());
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->labels, kLabels);
  EXPECT_EQ(counts->dead_letters, 1);
  EXPECT_EQ(counts->transactions, 400);
}

TEST(KafkaPipeline, PostgresStoresEveryDecisionOnceAndThePartitionCheckpoints) {
  if (!test_postgres_url()) GTEST_SKIP() << "not run under scripts/with-postgres.sh";
  const std::string url = create_test_database();
  ASSERT_FALSE(url.empty());
  KafkaCluster cluster;
  TempDir dir;
  const std::string group = unique_group("pg");
  const std::string config =
      write_serve_config(dir, cluster.brokers(), group, 1,
                         "storage:\n  backend: postgres\n  database_url: \"" + url + "\"\n");
  auto pg_counts = [&]() -> std::optional<StoreCounts> {
    auto s = open_postgres_store({.url = url, .migrate = false});
    if (!s.ok()) return std::nullopt;
    auto c = (*s)->counts();
    if (!c.ok()) return std::nullopt;
    return *c;
  };
  auto producer = KafkaProducer::create(cluster.config("unused"));
  ASSERT_TRUE(producer.ok());
  const std::vector<Transaction> txs = simulated(2000, 24);
  {
    ChildProcess serve(serve_args(config));
    ASSERT_TRUE(serve.wait_for("kafka: assigned ")) << serve.transcript();
    produce_all(**producer, cluster.topics.transactions,
                std::vector<Transaction>(txs.begin(), txs.begin() + 1000));
    ASSERT_TRUE((*producer)->flush(30000));
    ASSERT_TRUE(eventually([&] {
      auto c = pg_counts();
      return c && c->transactions >= 1000;
    })) << serve.transcript();
    serve.signal(SIGTERM);
    ASSERT_EQ(serve.wait(), 0) << serve.transcript();
  }
  // Leaving the group checkpointed every transactions partition into PostgreSQL, at the offset
  // the group committed; the total of those offsets is what was read.
  {
    auto s = open_postgres_store({.url = url, .migrate = false});
    ASSERT_TRUE(s.ok()) << s.error().message();
    int64_t covered = 0;
    for (int p = 0; p < kPartitions; ++p) {
      auto cp = (*s)->load_partition_checkpoint(group, cluster.topics.transactions, p);
      ASSERT_TRUE(cp.ok()) << cp.error().message();
      ASSERT_TRUE(cp->has_value()) << "partition " << p;
      EXPECT_FALSE((*cp)->state.empty());
      covered += (*cp)->offset;
    }
    EXPECT_EQ(covered, 1000);
  }
  // A second member of the group restores those checkpoints and goes on, with the first
  // half produced again (as after a crash before a commit): still each decision once.
  produce_all(**producer, cluster.topics.transactions, txs);
  ASSERT_TRUE((*producer)->flush(30000));
  ChildProcess serve(serve_args(config));
  ASSERT_TRUE(eventually([&] {
    auto c = pg_counts();
    return c && c->transactions >= 2000;
  })) << serve.transcript();
  const uint16_t port = serve_metrics_port(serve);
  ASSERT_GT(port, 0);
  ASSERT_TRUE(
      eventually([&] { return serve_metric(port, "fraudwatch_kafka_messages_in_total") >= 2000; }));
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.transcript();
  auto c = pg_counts();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->transactions, 2000);
  EXPECT_EQ(c->decisions, 2000);
}

}  // namespace
}  // namespace fw
