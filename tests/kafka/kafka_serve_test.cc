// `fraudwatch serve` against librdkafka's mock cluster (started here, in the test process, so the
// test can inject broker errors): every transaction decided and stored exactly once, undecodable
// input dead-lettered while consumption continues, a SIGKILLed group member's partitions taken
// over without loss or duplicates, and kcat as an independent client on both ends.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "kafka/kafka_producer.h"
#include "kafka/kafka_testing.h"
#include "model/json_codec.h"
#include "model/transaction_testing.h"
#include "sources/simulator.h"
#include "testing/process.h"

namespace fw {
namespace {

using namespace fw::testing;  // NOLINT(google-build-using-namespace)

// Kafka protocol API keys (the public headers do not name them).
constexpr int16_t kApiProduce = 0;
constexpr int16_t kApiFetch = 1;
constexpr int16_t kApiOffsetCommit = 8;

std::set<std::string> ids_in(const std::vector<ReadMessage>& messages) {
  std::set<std::string> ids;
  for (const ReadMessage& m : messages) {
    const std::string k = "\"transaction_id\":\"";
    size_t at = m.value.find(k);
    if (at == std::string::npos) continue;
    at += k.size();
    ids.insert(m.value.substr(at, m.value.find('"', at) - at));
  }
  return ids;
}

TEST(KafkaServe, EveryTransactionDecidedOnceAndBadInputDeadLettered) {
  KafkaCluster cluster;
  TempDir dir;
  const std::string config = write_serve_config(dir, cluster.brokers(), unique_group("once"));
  ChildProcess serve(serve_args(config));
  ASSERT_TRUE(serve.wait_for("fraudwatch serve:")) << serve.transcript();

  auto producer = KafkaProducer::create(cluster.config("unused"));
  ASSERT_TRUE(producer.ok()) << producer.error().message();
  const std::vector<Transaction> txs = simulated(3000);
  produce_all(**producer, cluster.topics.transactions,
              std::vector<Transaction>(txs.begin(), txs.begin() + 1500));
  // Hostile input in the middle of the stream: each becomes a dead letter, the rest goes on.
  Transaction good = full_transaction();
  const std::string json = to_json(good);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"A1", json.substr(0, json.size() / 2)},                      // truncated
      {"A1", std::string(70000, 'x')},                              // oversized
      {"A1", R"({"id":"w1","account_id":"A1","amount":{"x":1}})"},  // wrong-typed
      {"", json},                                                   // missing key
      {"someone-else", json},                                       // key is not the account
      {"A1", "\x01\x02 not json"},
  };
  for (const auto& [key, value] : bad) {
    (*producer)->produce(cluster.topics.transactions, key, value);
  }
  produce_all(**producer, cluster.topics.transactions,
              std::vector<Transaction>(txs.begin() + 1500, txs.end()));
  ASSERT_TRUE((*producer)->flush(30000));

  const std::string db = dir.file("fraudwatch.db");
  ASSERT_TRUE(eventually([&] { return stored_transactions(db) >= 3000; })) << serve.transcript();

  // Every decision reached the decisions topic too (at least once).
  std::set<std::string> want;
  for (const Transaction& tx : txs) want.insert(tx.id);
  std::vector<ReadMessage> decisions =
      read_topic(cluster.brokers(), cluster.topics.decisions, kPartitions,
                 [&](size_t n) { return n >= want.size(); });
  EXPECT_EQ(ids_in(decisions), want);

  std::vector<ReadMessage> dead = read_topic(cluster.brokers(), cluster.topics.dead_letters, 1,
                                             [&](size_t n) { return n >= bad.size(); });
  ASSERT_EQ(dead.size(), bad.size());
  // Different keys land on different partitions, so dead letters come in any order: match each
  // by its raw payload (kept byte for byte) and key.
  std::map<std::pair<std::string, std::string>, std::string> reasons;
  for (const ReadMessage& d : dead) {
    ASSERT_TRUE(d.headers.count("fraudwatch-reason")) << d.value.substr(0, 80);
    EXPECT_FALSE(d.headers.at("fraudwatch-reason").empty());
    reasons[{d.key, d.value}] = d.headers.at("fraudwatch-reason");
  }
  for (const auto& b : bad) ASSERT_TRUE(reasons.count(b)) << b.first << " " << b.second.size();
  EXPECT_NE(reasons[bad[1]].find("larger than"), std::string::npos) << reasons[bad[1]];
  EXPECT_NE(reasons[bad[2]].find("amount"), std::string::npos) << reasons[bad[2]];
  EXPECT_NE(reasons[bad[3]].find("no key"), std::string::npos) << reasons[bad[3]];
  EXPECT_NE(reasons[bad[4]].find("account id"), std::string::npos) << reasons[bad[4]];

  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.transcript();
  auto store = open_sqlite_store({.path = db});
  ASSERT_TRUE(store.ok());
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transactions, 3000);
  EXPECT_EQ(counts->decisions, 3000);
  EXPECT_EQ(counts->dead_letters, static_cast<int64_t>(bad.size()));
}

TEST(KafkaServe, InjectedBrokerErrorsLoseNothing) {
  KafkaCluster cluster;
  TempDir dir;
  const std::string config = write_serve_config(dir, cluster.brokers(), unique_group("errors"));
  ChildProcess serve(serve_args(config));
  ASSERT_TRUE(serve.wait_for("kafka: assigned")) << serve.transcript();
  // Produce, fetch and commit requests fail with retriable errors for a while.
  rd_kafka_mock_push_request_errors(
      cluster.kafka->cluster(), kApiProduce, 6, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  rd_kafka_mock_push_request_errors(
      cluster.kafka->cluster(), kApiFetch, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  rd_kafka_mock_push_request_errors(
      cluster.kafka->cluster(), kApiOffsetCommit, 3, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
      RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
  auto producer = KafkaProducer::create(cluster.config("unused"));
  ASSERT_TRUE(producer.ok());
  const std::vector<Transaction> txs = simulated(2000, 12);
  produce_all(**producer, cluster.topics.transactions, txs);
  ASSERT_TRUE((*producer)->flush(60000));
  const std::string db = dir.file("fraudwatch.db");
  ASSERT_TRUE(eventually([&] { return stored_transactions(db) >= 2000; })) << serve.transcript();
  std::set<std::string> want;
  for (const Transaction& tx : txs) want.insert(tx.id);
  EXPECT_EQ(ids_in(read_topic(cluster.brokers(), cluster.topics.decisions, kPartitions,
                              [&](size_t n) { return n >= want.size(); })),
            want);
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.transcript();
  EXPECT_EQ(stored_transactions(db), 2000);
}

TEST(KafkaServe, SigkilledMemberLosesNothingAndStateFollowsThePartition) {
  KafkaCluster cluster;
  TempDir dir;
  const std::string group = unique_group("kill");
  const std::string config = write_serve_config(dir, cluster.brokers(), group);
  auto a = std::make_unique<ChildProcess>(serve_args(config));
  ASSERT_TRUE(a->wait_for("kafka: assigned ")) << a->transcript();
  auto b = std::make_unique<ChildProcess>(serve_args(config));
  // b joining makes a give everything back and take half again.
  auto b_line = b->wait_for("kafka: assigned ");
  ASSERT_TRUE(b_line) << b->transcript();
  auto a_line = a->wait_for("kafka: assigned");
  ASSERT_TRUE(a_line) << a->transcript();
  const bool a_owns_0 = a_line->find("transactions/0@") != std::string::npos;
  ASSERT_NE(a_owns_0, b_line->find("transactions/0@") != std::string::npos) << *a_line << "\n"
                                                                            << *b_line;

  auto producer = KafkaProducer::create(cluster.config("unused"));
  ASSERT_TRUE(producer.ok());
  const std::vector<Transaction> bulk = simulated(2000, 13);
  // A burst of 8 transactions on one account, 5 s apart, all on partition 0: half before the
  // owner dies, half after. The velocity rule (more than 3 in 60 s) must fire on the last ones,
  // which the new owner can only see if the account's state moved with the partition.
  std::vector<Transaction> burst;
  for (int i = 0; i < 8; ++i) {
    Transaction tx = full_transaction();
    tx.id = "burst-" + std::to_string(i);
    tx.account_id = "burst-account";
    tx.ts = bulk.back().ts + 3600 * kMicrosPerSecond + i * 5 * kMicrosPerSecond;
    tx.finalize_keys();
    burst.push_back(tx);
  }
  produce_all(**producer, cluster.topics.transactions,
              std::vector<Transaction>(bulk.begin(), bulk.begin() + 1000));
  const Timestamp after = SystemClock::instance().now();
  produce_all(**producer, cluster.topics.transactions,
              std::vector<Transaction>(burst.begin(), burst.begin() + 4), 0);
  ASSERT_TRUE((*producer)->flush(30000));
  const std::string db = dir.file("fraudwatch.db");
  auto stored = [&](const std::string& id) {
    auto s = open_sqlite_store({.path = db});
    if (!s.ok()) return false;
    auto row = (*s)->find_transaction(id);
    return row.ok() && row->has_value();
  };
  ASSERT_TRUE(eventually([&] { return stored("burst-3"); }));
  ChildProcess& victim = a_owns_0 ? *a : *b;
  ChildProcess& survivor = a_owns_0 ? *b : *a;
  // Let the victim save a state checkpoint after the first half of the burst was produced
  // (every 1 s while a partition has new messages), so the successor restores it and replays
  // only what follows it.
  ASSERT_TRUE(eventually([&] {
    auto s = open_sqlite_store({.path = db});
    if (!s.ok()) return false;
    auto cp = (*s)->load_partition_checkpoint(group, "transactions", 0);
    return cp.ok() && cp->has_value() && (*cp)->saved_at > after;
  })) << victim.transcript();
  victim.signal(SIGKILL);
  EXPECT_EQ(victim.wait(), 128 + SIGKILL);

  produce_all(**producer, cluster.topics.transactions,
              std::vector<Transaction>(burst.begin() + 4, burst.end()), 0);
  produce_all(**producer, cluster.topics.transactions,
              std::vector<Transaction>(bulk.begin() + 1000, bulk.end()));
  ASSERT_TRUE((*producer)->flush(30000));
  const int64_t total = static_cast<int64_t>(bulk.size() + burst.size());
  ASSERT_TRUE(
      eventually([&] { return stored_transactions(db) >= total; }, std::chrono::seconds(180)))
      << survivor.transcript();
  survivor.signal(SIGTERM);
  EXPECT_EQ(survivor.wait(), 0) << survivor.transcript();

  auto store = open_sqlite_store({.path = db});
  ASSERT_TRUE(store.ok());
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transactions, total);  // none missing, none twice
  EXPECT_EQ(counts->decisions, total);
  for (const Transaction& tx : bulk) ASSERT_TRUE(stored(tx.id)) << tx.id;
  auto last = (*store)->find_transaction("burst-7");
  ASSERT_TRUE(last.ok() && last->has_value());
  bool velocity = false;
  for (const Reason& r : (*last)->decision.reasons) velocity |= r.rule_id == "velocity";
  EXPECT_TRUE(velocity) << "the account's state did not follow its partition";
}

TEST(KafkaServe, KcatProducesTransactionsAndReadsTheDecisions) {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "kcat is not installed (scripts/install-deps.sh test installs it)";
  }
  KafkaCluster cluster;
  TempDir dir;
  const std::string config = write_serve_config(dir, cluster.brokers(), unique_group("kcat"));
  ChildProcess serve(serve_args(config));
  ASSERT_TRUE(serve.wait_for("fraudwatch serve:")) << serve.transcript();
  const std::vector<Transaction> txs = simulated(200, 14);
  {
    std::ofstream in(dir.file("in.txt"));
    for (const Transaction& tx : txs) in << tx.account_id << '|' << to_json(tx) << '\n';
  }
  const std::string produce = "kcat -b " + cluster.brokers() + " -t " +
                              cluster.topics.transactions + " -P -K '|' -l " + dir.file("in.txt") +
                              " 2>" + dir.file("kcat-p.err");
  ASSERT_EQ(std::system(produce.c_str()), 0);
  std::set<std::string> want;
  for (const Transaction& tx : txs) want.insert(tx.id);
  std::set<std::string> got;
  ASSERT_TRUE(eventually([&] {
    const std::string consume = "kcat -b " + cluster.brokers() + " -t " + cluster.topics.decisions +
                                " -C -o beginning -e -q > " + dir.file("out.txt") + " 2>" +
                                dir.file("kcat-c.err");
    if (std::system(consume.c_str()) != 0) return false;
    std::ifstream out(dir.file("out.txt"));
    std::vector<ReadMessage> lines;
    for (std::string line; std::getline(out, line);) lines.push_back({"", line, {}});
    got = ids_in(lines);
    return got == want;
  })) << got.size()
      << " of " << want.size() << "\n"
      << serve.transcript();
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 0) << serve.transcript();
  EXPECT_EQ(stored_transactions(dir.file("fraudwatch.db")), 200);
}

}  // namespace
}  // namespace fw
