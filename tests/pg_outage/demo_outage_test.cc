// End to end: `fraudwatch demo` storing into PostgreSQL while the server stops and comes back.
// /ready turns 503 during the outage and 200 after it, the log says so, and when the demo ends
// every produced transaction is in the database exactly once.
// Stops the shared test server, so it runs alone (RUN_SERIAL, tests/CMakeLists.txt).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include "server/raw_http_client.h"
#include "storage/pg_connection.h"
#include "testing/paths.h"
#include "testing/postgres.h"
#include "testing/process.h"

namespace fw {
namespace {

using Steady = std::chrono::steady_clock;

int64_t number_after(const std::string& text, const std::string& prefix) {
  size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  size_t start = at + prefix.size(), end = start;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  return end > start ? std::stoll(text.substr(start, end - start)) : -1;
}

testing::RawResponse get(uint16_t port, const std::string& path) {
  testing::RawHttpClient client(port);
  if (!client.connected() || !client.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")) {
    testing::RawResponse r;
    r.error = "cannot connect";
    return r;
  }
  return client.read_response();
}

int64_t scalar(const std::string& url, const std::string& sql) {
  auto c = PgConnection::open(url, "demo-outage-test");
  if (!c.ok()) return -1;
  auto r = c->exec(sql);
  return r.ok() ? pg_int64(r->get(), 0, 0) : -1;
}

// Polls until `done()` or the deadline, reading the demo's log meanwhile so it never blocks on
// a full pipe.
template <typename F>
bool wait_until(testing::ChildProcess& demo, F done, std::chrono::seconds deadline) {
  const auto until = Steady::now() + deadline;
  while (!done()) {
    if (Steady::now() > until) return false;
    demo.read_line(50);
  }
  return true;
}

TEST(DemoOutage, ReadyReportsTheOutageAndTheDemoCatchesUpWithoutLossOrDuplicates) {
  if (!testing::test_postgres_url()) {
    GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
  }
  const std::string url = testing::create_test_database();
  ASSERT_FALSE(url.empty());
  constexpr int64_t kCount = 60000;
  testing::ChildProcess demo({testing::fraudwatch_binary().string(), "demo", "--database-url", url,
                              "--port", "0", "--rate", "5000", "--count", std::to_string(kCount),
                              "--customers", "3000", "--merchants", "300", "--shards", "2",
                              "--batch-size", "500", "--quiet"});
  auto line = demo.wait_for("dashboard: http://");
  ASSERT_TRUE(line) << demo.transcript();
  const auto port = static_cast<uint16_t>(number_after(*line, "127.0.0.1:"));
  ASSERT_GT(port, 0) << *line;
  const testing::RawResponse ready = get(port, "/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_NE(ready.body.find(R"("rejected":0)"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find(R"("abandoned":0)"), std::string::npos) << ready.body;
  const testing::RawResponse metrics = get(port, "/metrics");
  EXPECT_NE(metrics.body.find("\nfraudwatch_store_rejected_total 0\n"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("\nfraudwatch_store_abandoned_total 0\n"), std::string::npos)
      << metrics.body;

  ASSERT_TRUE(wait_until(
      demo,
      [&] { return scalar(url, "SELECT value FROM counters WHERE name = 'transactions'") >= 5000; },
      std::chrono::seconds(120)))
      << demo.transcript();
  std::string detail;
  ASSERT_TRUE(testing::stop_test_postgres(detail)) << detail;

  testing::RawResponse during;
  const bool failing = wait_until(
      demo,
      [&] {
        during = get(port, "/ready");
        return during.status == 503;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(failing) << demo.transcript();
  EXPECT_NE(during.body.find("store failing"), std::string::npos) << during.body;
  EXPECT_NE(during.body.find(R"("abandoned":0)"), std::string::npos) << during.body;
  EXPECT_NE(get(port, "/metrics").body.find("\nfraudwatch_store_healthy 0\n"), std::string::npos);
  EXPECT_EQ(get(port, "/health").status, 200) << "alive, though not ready";

  detail.clear();
  ASSERT_TRUE(testing::start_test_postgres(detail)) << detail;
  EXPECT_TRUE(wait_until(
      demo, [&] { return get(port, "/ready").status == 200; }, std::chrono::seconds(60)))
      << demo.transcript();

  EXPECT_EQ(demo.wait(), 0) << demo.transcript();
  const std::string& log = demo.transcript();
  EXPECT_NE(log.find("store write of"), std::string::npos) << log;
  EXPECT_NE(log.find("store writes recovered"), std::string::npos) << log;
  EXPECT_EQ(scalar(url, "SELECT count(*) FROM transactions"), kCount);
  EXPECT_EQ(scalar(url, "SELECT count(DISTINCT id) FROM transactions"), kCount);
  EXPECT_EQ(scalar(url, "SELECT count(*) FROM decisions"), kCount);
  EXPECT_EQ(scalar(url, "SELECT value FROM counters WHERE name = 'transactions'"), kCount);
  EXPECT_EQ(scalar(url, "SELECT \"offset\" FROM checkpoints"), kCount);
}

// Ctrl-C while the database is down: the demo gives up after --shutdown-timeout, says how many
// transactions were not stored, exits 1; restarted, it re-reads them from the checkpoint and
// the database ends up with every transaction exactly once.
TEST(DemoOutage, CtrlCWhileTheDatabaseIsDownGivesUpAfterTheTimeoutAndNothingIsLost) {
  if (!testing::test_postgres_url()) {
    GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
  }
  const std::string url = testing::create_test_database();
  ASSERT_FALSE(url.empty());
  const std::vector<std::string> common = {testing::fraudwatch_binary().string(),
                                           "demo",
                                           "--database-url",
                                           url,
                                           "--port",
                                           "0",
                                           "--customers",
                                           "3000",
                                           "--merchants",
                                           "300",
                                           "--shards",
                                           "2",
                                           "--batch-size",
                                           "500",
                                           "--quiet"};
  std::vector<std::string> first_args = common;
  for (const char* a : {"--rate", "5000", "--shutdown-timeout", "2"}) first_args.push_back(a);
  testing::ChildProcess demo(first_args);
  auto line = demo.wait_for("dashboard: http://");
  ASSERT_TRUE(line) << demo.transcript();
  const auto port = static_cast<uint16_t>(number_after(*line, "127.0.0.1:"));
  ASSERT_GT(port, 0) << *line;
  ASSERT_TRUE(wait_until(
      demo,
      [&] { return scalar(url, "SELECT value FROM counters WHERE name = 'transactions'") >= 2000; },
      std::chrono::seconds(120)))
      << demo.transcript();

  std::string detail;
  ASSERT_TRUE(testing::stop_test_postgres(detail)) << detail;
  const bool failing = wait_until(
      demo, [&] { return get(port, "/ready").status == 503; }, std::chrono::seconds(60));
  EXPECT_TRUE(failing) << demo.transcript();
  demo.signal(SIGINT);
  const int code = demo.wait();
  detail.clear();
  const bool restarted = testing::start_test_postgres(detail);  // for the tests after this one
  ASSERT_TRUE(restarted) << detail;
  EXPECT_EQ(code, 1) << demo.transcript();
  const std::string& log = demo.transcript();
  EXPECT_NE(log.find("were NOT stored"), std::string::npos) << log;
  EXPECT_NE(log.find("will be re-read from it"), std::string::npos) << log;
  const int64_t checkpoint = scalar(url, "SELECT \"offset\" FROM checkpoints");
  EXPECT_GE(checkpoint, 2000);
  // Stored rows may run past the checkpoint (pieces of a source batch not yet complete).
  EXPECT_GE(scalar(url, "SELECT count(*) FROM transactions"), checkpoint);

  // Restarted with the same settings, it resumes at the checkpoint: nothing lost, nothing twice.
  constexpr int64_t kCount = 40000;
  std::vector<std::string> second_args = common;
  for (const char* a : {"--count", "40000"}) second_args.push_back(a);
  testing::ChildProcess again(second_args);
  EXPECT_EQ(again.wait(), 0) << again.transcript();
  EXPECT_EQ(scalar(url, "SELECT count(*) FROM transactions"), kCount);
  EXPECT_EQ(scalar(url, "SELECT count(DISTINCT id) FROM transactions"), kCount);
  EXPECT_EQ(scalar(url, "SELECT \"offset\" FROM checkpoints"), kCount);
}

// `fraudwatch bench --database-url` with the database gone mid-run: it does not retry for
// ever but gives up after --store-timeout with exit code 1 and says why.
TEST(BenchOutage, GivesUpAfterTheStoreTimeoutWhenTheDatabaseGoesAway) {
  if (!testing::test_postgres_url()) {
    GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
  }
  const std::string url = testing::create_test_database();
  ASSERT_FALSE(url.empty());
  testing::ChildProcess bench({testing::fraudwatch_binary().string(), "bench", "--database-url",
                               url, "--transactions", "400000", "--accounts", "20000",
                               "--store-timeout", "1"});
  ASSERT_TRUE(wait_until(
      bench,
      [&] { return scalar(url, "SELECT value FROM counters WHERE name = 'transactions'") > 0; },
      std::chrono::seconds(240)))
      << bench.transcript();
  std::string detail;
  ASSERT_TRUE(testing::stop_test_postgres(detail)) << detail;
  const int code = bench.wait();
  detail.clear();
  const bool restarted = testing::start_test_postgres(detail);  // for the tests after this one
  ASSERT_TRUE(restarted) << detail;
  EXPECT_EQ(code, 1) << bench.transcript();
  const std::string& log = bench.transcript();
  EXPECT_NE(log.find("gave up: store writes failed for 1 s"), std::string::npos) << log;
  EXPECT_NE(log.find("transactions were not stored"), std::string::npos) << log;
}

}  // namespace
}  // namespace fw
