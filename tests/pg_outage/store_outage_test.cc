// The outage test: PostgreSQL stops in the middle of a stream and comes back. The StoreWriter
// must hold the engine back (consume() blocks once its bounded queue is full), report itself
// unhealthy (what /ready shows), reconnect, catch up, and leave every transaction stored
// exactly once with the checkpoint at the end of the stream.
// It stops the shared test server, so CTest runs it alone (RUN_SERIAL, tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "sinks/store_writer.h"
#include "storage/pg_connection.h"
#include "storage/postgres_store.h"
#include "testing/postgres.h"

namespace fw {
namespace {

using Steady = std::chrono::steady_clock;

// Waits until `done()` holds or the deadline passes; polls (no fixed sleeps decide anything).
bool wait_until(const std::function<bool()>& done, std::chrono::seconds deadline) {
  const auto until = Steady::now() + deadline;
  while (!done()) {
    if (Steady::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

Scored make_scored(uint64_t n) {
  Scored s;
  s.tx.id = "tx-" + std::to_string(n);
  s.tx.ts = 1'700'000'000'000'000 + static_cast<int64_t>(n) * 1000;
  s.tx.account_id = "acct-" + std::to_string(n % 97);
  s.tx.amount = Money{static_cast<int64_t>(n % 5000) + 1, Currency::of("EUR")};
  s.tx.finalize_keys();
  s.decision.transaction_id = s.tx.id;
  s.decision.decided_at = s.tx.ts + 10;
  s.decision.action = n % 50 == 0 ? Action::kReview : Action::kAllow;
  s.decision.score = n % 50 == 0 ? 0.7 : 0.01;
  s.decision.rule_set_version = "v1";
  return s;
}

TEST(StoreOutage, StopAndRestartMidStreamStoresEveryTransactionExactlyOnce) {
  if (!testing::test_postgres_url()) {
    GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
  }
  const std::string url = testing::create_test_database();
  ASSERT_FALSE(url.empty());
  auto store = open_postgres_store({.url = url});
  ASSERT_TRUE(store.ok()) << store.error().message();

  constexpr uint64_t kBatches = 300;
  constexpr uint64_t kPerBatch = 100;
  constexpr size_t kQueuePieces = 4;
  StoreWriter writer(**store, {.checkpoint_source = "outage-test",
                               .max_rows_per_write = 500,
                               .max_delay = std::chrono::milliseconds(20),
                               .queue_pieces = kQueuePieces});
  writer.start();

  std::atomic<uint64_t> handed_over{0};  // batches whose consume() returned
  std::thread producer([&] {
    for (uint64_t b = 0; b < kBatches; ++b) {
      ScoredBatch batch;
      batch.seq = b;
      batch.pieces = 1;
      batch.source_offset_end = static_cast<int64_t>((b + 1) * kPerBatch);
      for (uint64_t i = 0; i < kPerBatch; ++i)
        batch.scored.push_back(make_scored(b * kPerBatch + i));
      writer.consume(std::move(batch));
      handed_over = b + 1;
    }
  });

  // Let part of the stream reach the database, then take the server away.
  ASSERT_TRUE(wait_until([&] { return writer.stats().stored >= 20 * kPerBatch; },
                         std::chrono::seconds(120)));
  std::string detail;
  ASSERT_TRUE(testing::stop_test_postgres(detail)) << detail;

  const bool noticed =
      wait_until([&] { return !writer.stats().healthy; }, std::chrono::seconds(60));
  EXPECT_TRUE(noticed) << "the writer never reported the outage";
  EXPECT_NE(writer.stats().last_error.find("PostgreSQL"), std::string::npos)
      << writer.stats().last_error;
  // Backpressure: while nothing can be stored, the producer gets at most the queue's worth plus
  // the writer's pending group ahead of what was stored; it stays blocked in consume().
  const uint64_t stored_at_outage = writer.stats().stored;
  const uint64_t bound = stored_at_outage / kPerBatch + kQueuePieces + 500 / kPerBatch + 2;
  wait_until([&] { return handed_over.load() >= bound; }, std::chrono::seconds(2));
  EXPECT_LE(handed_over.load(), bound) << "the producer ran ahead of a dead store";
  EXPECT_LT(handed_over.load(), kBatches);
  EXPECT_GE(writer.stats().failed_writes, 1u);

  detail.clear();
  ASSERT_TRUE(testing::start_test_postgres(detail)) << detail;
  producer.join();
  EXPECT_TRUE(wait_until([&] { return writer.stats().healthy; }, std::chrono::seconds(60)))
      << "the writer did not recover";
  writer.stop();

  const StoreWriterStats ws = writer.stats();
  EXPECT_TRUE(ws.healthy);
  EXPECT_EQ(ws.checkpoint, static_cast<int64_t>(kBatches * kPerBatch));

  // Count in the database itself: every transaction exactly once, none missing.
  auto c = PgConnection::open(url, "outage-test");
  ASSERT_TRUE(c.ok()) << c.error().message();
  auto rows = c->exec("SELECT id FROM transactions");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  std::set<std::string> ids;
  for (int r = 0; r < PQntuples(rows->get()); ++r) ids.insert(pg_text(rows->get(), r, 0));
  EXPECT_EQ(static_cast<uint64_t>(PQntuples(rows->get())), kBatches * kPerBatch);
  EXPECT_EQ(ids.size(), kBatches * kPerBatch);
  for (uint64_t n = 0; n < kBatches * kPerBatch; n += 997) {
    EXPECT_EQ(ids.count("tx-" + std::to_string(n)), 1u) << n;
  }
  auto dup = c->exec(
      "SELECT (SELECT count(*) FROM decisions), (SELECT count(*) FROM alerts), "
      "(SELECT \"offset\" FROM checkpoints WHERE source = 'outage-test')");
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(pg_int64(dup->get(), 0, 0), static_cast<int64_t>(kBatches * kPerBatch));
  EXPECT_EQ(pg_int64(dup->get(), 0, 1), static_cast<int64_t>(kBatches * kPerBatch / 50));
  EXPECT_EQ(pg_int64(dup->get(), 0, 2), static_cast<int64_t>(kBatches * kPerBatch));
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok()) << counts.error().message();
  EXPECT_EQ(counts->transactions, static_cast<int64_t>(kBatches * kPerBatch));
  EXPECT_EQ(counts->alerts, static_cast<int64_t>(kBatches * kPerBatch / 50));
}

}  // namespace
}  // namespace fw
