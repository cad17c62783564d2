// End-to-end: the real fraudwatch binary, killed with SIGKILL mid-stream and restarted, loses no
// transaction it acknowledged as stored and stores none twice; Ctrl-C flushes everything; the
// HTTP server answers while it runs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <set>

#include "server/raw_http_client.h"
#include "sources/simulator.h"
#include "storage/sqlite_store.h"
#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;
using fw::testing::TempDir;

constexpr uint64_t kCount = 40000;

std::vector<std::string> demo_args(const TempDir& dir, uint64_t count) {
  std::vector<std::string> args = {fw::testing::fraudwatch_binary().string(),
                                   "demo",
                                   "--port",
                                   "0",
                                   "--data-dir",
                                   dir.path().string(),
                                   "--rate",
                                   "0",
                                   "--seed",
                                   "7",
                                   "--customers",
                                   "3000",
                                   "--merchants",
                                   "300",
                                   "--shards",
                                   "2",
                                   "--batch-size",
                                   "500",
                                   "--log-level",
                                   "debug",
                                   "--quiet"};
  if (count > 0) {
    args.push_back("--count");
    args.push_back(std::to_string(count));
  }
  return args;
}

// The integer that follows the first `prefix` in `text`, or -1.
int64_t number_after(const std::string& text, const std::string& prefix) {
  size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  size_t start = at + prefix.size();
  size_t end = start;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) ||
                               (end == start && text[end] == '-'))) {
    ++end;
  }
  return end > start ? std::stoll(text.substr(start, end - start)) : -1;
}

// Offset of the checkpoint in a "stored N transactions, M alerts; checkpoint K" log line.
int64_t checkpoint_of(const std::string& line) { return number_after(line, "checkpoint "); }

std::set<std::string> stored_ids(const std::string& db) {
  std::set<std::string> ids;
  sqlite3* h = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(h, "SELECT id FROM transactions", -1, &st, nullptr), SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    ids.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return ids;
}

std::set<std::string> expected_ids(uint64_t n) {
  SimulatorConfig c;
  c.seed = 7;
  c.customers = 3000;
  c.merchants = 300;
  Simulator sim(c);
  std::vector<Transaction> txs;
  sim.next_batch(n, txs);
  std::set<std::string> ids;
  for (const Transaction& tx : txs) ids.insert(tx.id);
  return ids;
}

TEST(DemoCrash, SigkillAndRestartLosesNothingAcknowledgedAndDuplicatesNothing) {
  TempDir dir;
  const std::string db = dir.file("fraudwatch.db");
  int64_t acknowledged = -1;
  {
    ChildProcess first(demo_args(dir, kCount));
    // Wait until at least a few batches are acknowledged, then kill without warning.
    for (;;) {
      auto line = first.wait_for("checkpoint");
      ASSERT_TRUE(line) << first.transcript();
      acknowledged = checkpoint_of(*line);
      if (acknowledged >= 5000) break;
    }
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(), 128 + SIGKILL);
  }
  ASSERT_LT(acknowledged, static_cast<int64_t>(kCount)) << "killed too late to test anything";

  // Everything acknowledged before the kill is there.
  std::set<std::string> after_kill = stored_ids(db);
  std::set<std::string> all = expected_ids(kCount);
  std::set<std::string> acked = expected_ids(static_cast<uint64_t>(acknowledged));
  for (const std::string& id : acked) ASSERT_TRUE(after_kill.count(id)) << id;

  ChildProcess second(demo_args(dir, kCount));
  EXPECT_TRUE(second.wait_for("resuming the simulated stream")) << second.transcript();
  EXPECT_EQ(second.wait(), 0) << second.transcript();

  std::set<std::string> final_ids = stored_ids(db);
  EXPECT_EQ(final_ids, all);
  auto store = open_sqlite_store({.path = db});
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transactions, static_cast<int64_t>(kCount));
  EXPECT_EQ(counts->decisions, static_cast<int64_t>(kCount));
  EXPECT_EQ(counts->allow + counts->review + counts->block, static_cast<int64_t>(kCount));
  EXPECT_EQ(counts->alerts, counts->review + counts->block);
}

TEST(DemoCrash, CtrlCFlushesEverythingProducedAndServesHttpMeanwhile) {
  TempDir dir;
  ChildProcess demo(demo_args(dir, 0));
  auto url = demo.wait_for("dashboard: http://");
  ASSERT_TRUE(url) << demo.transcript();
  const int64_t port_number = number_after(*url, "127.0.0.1:");
  ASSERT_GT(port_number, 0) << *url;
  const uint16_t port = static_cast<uint16_t>(port_number);
  ASSERT_TRUE(demo.wait_for("checkpoint")) << demo.transcript();

  {
    fw::testing::RawHttpClient client(port);
    ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto health = client.read_response();
    EXPECT_EQ(health.status, 200);
    EXPECT_NE(health.body.find("ok"), std::string::npos);
    ASSERT_TRUE(client.send("GET /api/alerts?limit=5 HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto alerts = client.read_response();
    EXPECT_EQ(alerts.status, 200);
    EXPECT_NE(alerts.body.find("\"alerts\""), std::string::npos);
    ASSERT_TRUE(client.send("GET /api/alerts?limit=x HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(client.read_response().status, 400);
    ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto page = client.read_response();
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("fraudwatch"), std::string::npos);
  }

  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait(), 0) << demo.transcript();
  const std::string& out = demo.transcript();
  const int64_t scored = number_after(out, "scored ");
  const int64_t final_checkpoint = number_after(out, "(checkpoint ");
  auto store = open_sqlite_store({.path = dir.file("fraudwatch.db")});
  ASSERT_TRUE(store.ok());
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_GT(scored, 0);
  EXPECT_EQ(counts->transactions, scored);
  EXPECT_EQ(counts->decisions, scored);
  EXPECT_EQ(final_checkpoint, scored) << "the checkpoint must cover everything stored";
}

TEST(Cli, BadFlagsAndConfigSayWhatIsWrong) {
  TempDir dir;
  {
    ChildProcess p({fw::testing::fraudwatch_binary().string(), "demo", "--port", "70000"});
    EXPECT_EQ(p.wait(), 2);
    EXPECT_NE(p.transcript().find("--port"), std::string::npos) << p.transcript();
  }
  {
    std::string cfg = dir.file("bad.yaml");
    FILE* f = fopen(cfg.c_str(), "w");
    fputs("engine:\n  shardz: 2\n", f);
    fclose(f);
    ChildProcess p({fw::testing::fraudwatch_binary().string(), "demo", "--config", cfg});
    EXPECT_EQ(p.wait(), 2);
    EXPECT_NE(p.transcript().find("engine.shardz"), std::string::npos) << p.transcript();
    EXPECT_NE(p.transcript().find("unknown setting"), std::string::npos) << p.transcript();
  }
  {
    ChildProcess p({fw::testing::fraudwatch_binary().string(), "replay", "--input",
                    dir.file("missing.jsonl"), "--out", dir.file("o.csv")});
    EXPECT_EQ(p.wait(), 2);
    EXPECT_NE(p.transcript().find("missing.jsonl"), std::string::npos) << p.transcript();
  }
}

}  // namespace
}  // namespace fw
