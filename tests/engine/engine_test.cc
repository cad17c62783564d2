#include "engine/engine.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "engine/batch_tracker.h"
#include "engine/latency_histogram.h"

namespace fw {
namespace {

// Collects every piece the engine hands out. Thread-safe.
class CollectingSink final : public DecisionSink {
 public:
  void consume(ScoredBatch&& batch) override {
    std::lock_guard lock(mu_);
    pieces.push_back(std::move(batch));
  }
  std::mutex mu_;
  std::vector<ScoredBatch> pieces;
};

Transaction make_tx(const std::string& id, const std::string& account, Timestamp ts,
                    int64_t minor = 1000) {
  Transaction tx;
  tx.id = id;
  tx.account_id = account;
  tx.ts = ts;
  tx.amount = {minor, Currency::of("EUR")};
  tx.country = *Country::parse("DE");
  tx.finalize_keys();
  return tx;
}

TEST(Engine, ScoresEveryTransactionExactlyOnceAcrossShards) {
  CollectingSink sink;
  ManualClock clock(1'000);
  EngineConfig config;
  config.shards = 3;
  config.clock = &clock;
  Engine engine(config, RuleSet::defaults(), sink);
  engine.start();
  const int kBatches = 20, kPerBatch = 97;
  for (int b = 0; b < kBatches; ++b) {
    SourceBatch batch;
    for (int i = 0; i < kPerBatch; ++i) {
      int n = b * kPerBatch + i;
      batch.txs.push_back(
          make_tx("t" + std::to_string(n), "acct" + std::to_string(n % 50), kMicrosPerSecond * n));
    }
    batch.source_offset_end = (b + 1) * kPerBatch;
    EXPECT_EQ(engine.submit(std::move(batch)), static_cast<uint64_t>(b));
  }
  engine.stop();

  std::set<std::string> ids;
  std::map<std::string, int> shard_of_account;
  for (const ScoredBatch& p : sink.pieces) {
    EXPECT_EQ(p.pieces, 3u);
    ASSERT_EQ(p.positions.size(), p.scored.size());
    for (const Scored& s : p.scored) {
      EXPECT_TRUE(ids.insert(s.tx.id).second) << "scored twice: " << s.tx.id;
      EXPECT_EQ(s.decision.transaction_id, s.tx.id);
      EXPECT_EQ(s.decision.decided_at, 1'000);
      EXPECT_EQ(s.decision.rule_set_version, RuleSet::defaults()->version());
      auto [it, inserted] = shard_of_account.try_emplace(s.tx.account_id, p.shard);
      EXPECT_EQ(it->second, p.shard) << "account on two shards";
    }
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kBatches * kPerBatch));
  EXPECT_EQ(sink.pieces.size(), static_cast<size_t>(kBatches * 3));
  EngineMetrics m = engine.metrics();
  EXPECT_EQ(m.transactions, static_cast<uint64_t>(kBatches * kPerBatch));
  EXPECT_EQ(m.by_action[0] + m.by_action[1] + m.by_action[2], m.transactions);
  EXPECT_EQ(m.latency.total(), m.transactions);
}

TEST(Engine, VelocityStateCarriesAcrossBatchesOnTheOwningShard) {
  CollectingSink sink;
  EngineConfig config;
  config.shards = 2;
  Engine engine(config, RuleSet::defaults(), sink);
  engine.start();
  // Five transactions of one account within 40 s, one per batch.
  for (int i = 0; i < 5; ++i) {
    SourceBatch batch;
    batch.txs.push_back(make_tx("v" + std::to_string(i), "burst", kMicrosPerSecond * 10 * i));
    engine.submit(std::move(batch));
  }
  engine.stop();
  std::map<std::string, Decision> by_id;
  for (const ScoredBatch& p : sink.pieces) {
    for (const Scored& s : p.scored) by_id[s.tx.id] = s.decision;
  }
  auto fired = [](const Decision& d, std::string_view rule) {
    for (const Reason& r : d.reasons) {
      if (r.rule_id == rule) return true;
    }
    return false;
  };
  EXPECT_FALSE(fired(by_id["v2"], "velocity"));  // 3rd in 60 s: within the limit of 3
  EXPECT_TRUE(fired(by_id["v3"], "velocity"));   // 4th in 60 s
  EXPECT_NE(by_id["v3"].action, Action::kAllow);
}

TEST(Engine, WarmUpBuildsStateWithoutDecisions) {
  CollectingSink sink;
  EngineConfig config;
  config.shards = 2;
  Engine engine(config, RuleSet::defaults(), sink);
  engine.start();
  SourceBatch warm;
  for (int i = 0; i < 3; ++i) warm.txs.push_back(make_tx("w" + std::to_string(i), "a", i));
  warm.warm_up = true;
  engine.submit(std::move(warm));
  SourceBatch live;
  live.txs.push_back(make_tx("live", "a", 10));
  engine.submit(std::move(live));
  engine.stop();
  size_t scored = 0;
  for (const ScoredBatch& p : sink.pieces) {
    for (const Scored& s : p.scored) {
      ++scored;
      EXPECT_EQ(s.tx.id, "live");
      bool velocity = false;
      for (const Reason& r : s.decision.reasons) velocity |= r.rule_id == "velocity";
      EXPECT_TRUE(velocity) << "the warm-up transactions must count in the 1-minute window";
    }
  }
  EXPECT_EQ(scored, 1u);
  EXPECT_EQ(sink.pieces.size(), 4u);  // an empty piece per shard for the warm-up batch too
  EXPECT_EQ(engine.metrics().warmed_up, 3u);
}

TEST(Engine, AlertSummarisesReasons) {
  Transaction tx = make_tx("t", "a", 0);
  Decision d;
  d.action = Action::kBlock;
  d.score = 0.95;
  d.decided_at = 7;
  d.reasons = {{"large_amount", "amount 12000.00 EUR above 10000.00 EUR", 0.6},
               {"velocity", "5 transactions in 60 s (limit 3)", 0.5}};
  Alert a = make_alert(tx, d);
  EXPECT_EQ(a.transaction_id, "t");
  EXPECT_EQ(a.account_id, "a");
  EXPECT_EQ(a.action, Action::kBlock);
  EXPECT_EQ(a.created_at, 7);
  EXPECT_EQ(a.summary, "amount 12000.00 EUR above 10000.00 EUR; 5 transactions in 60 s (limit 3)");
}

TEST(BatchTracker, CompletesInOrderOnlyWhenEveryPieceArrived) {
  BatchTracker t;
  std::vector<BatchTracker::Completed> done;
  t.piece_done(1, 2, 20);
  t.piece_done(1, 2, 20);
  t.take_completed(done);
  EXPECT_TRUE(done.empty());  // batch 0 is still missing
  t.piece_done(0, 2, 10);
  t.take_completed(done);
  EXPECT_TRUE(done.empty());  // batch 0 has one of two pieces
  t.piece_done(0, 2, 10);
  t.take_completed(done);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].source_offset_end, 10);
  EXPECT_EQ(done[1].source_offset_end, 20);
  EXPECT_EQ(t.next_expected(), 2u);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(LatencyHistogram, PercentilesWithinBucketPrecision) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 10000; ++v) h.record(v * 1000);  // 1 us .. 10 ms
  EXPECT_EQ(h.total(), 10000u);
  double p50 = static_cast<double>(h.percentile(0.5));
  double p99 = static_cast<double>(h.percentile(0.99));
  EXPECT_NEAR(p50, 5'000'000, 5'000'000 * 0.125);
  EXPECT_NEAR(p99, 9'900'000, 9'900'000 * 0.125);
  EXPECT_EQ(LatencyHistogram().percentile(0.5), 0u);
  for (uint64_t v : {0ull, 7ull, 8ull, 1000ull, 123456789ull}) {
    int b = latency_bucket(v);
    EXPECT_LE(latency_bucket_floor(b), v);
    EXPECT_GT(latency_bucket_floor(b + 1), v);
  }
}

}  // namespace
}  // namespace fw
