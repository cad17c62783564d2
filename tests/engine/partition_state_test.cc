// Engine::snapshot_partition / restore_partition: a partition's account state moves between
// engines (processes) and scoring continues as if it had never moved.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/batch_tracker.h"
#include "engine/engine.h"
#include "features/partition_snapshot.h"

namespace fw {
namespace {

// Collects every piece the engine hands out. Thread-safe.
class PieceSink final : public DecisionSink {
 public:
  void consume(ScoredBatch&& batch) override {
    std::lock_guard lock(mu);
    pieces.push_back(std::move(batch));
  }
  std::map<std::string, Decision> decisions() {
    std::lock_guard lock(mu);
    std::map<std::string, Decision> out;
    for (const ScoredBatch& p : pieces) {
      for (const Scored& s : p.scored) out[s.tx.id] = s.decision;
    }
    return out;
  }
  std::mutex mu;
  std::vector<ScoredBatch> pieces;
};

Transaction make_tx(const std::string& id, const std::string& account, int32_t partition,
                    Timestamp ts, int64_t minor = 1000) {
  Transaction tx;
  tx.id = id;
  tx.account_id = account;
  tx.ts = ts;
  tx.amount = {minor, Currency::of("EUR")};
  tx.country = *Country::parse("DE");
  tx.partition = partition;
  tx.finalize_keys();
  return tx;
}

bool fired(const Decision& d, std::string_view rule) {
  for (const Reason& r : d.reasons) {
    if (r.rule_id == rule) return true;
  }
  return false;
}

// An engine with a ManualClock, its own sink, started.
struct TestEngine {
  explicit TestEngine(int shards) {
    config.shards = shards;
    config.clock = &clock;
    config.features.initial_accounts = 1024;  // small tables, quick to set up
    config.features.initial_merchants = 64;
    engine = std::make_unique<Engine>(config, RuleSet::defaults(), sink);
    engine->start();
  }
  void submit(std::vector<Transaction> txs) {
    SourceBatch b;
    b.txs = std::move(txs);
    engine->submit(std::move(b));
  }
  ManualClock clock{1'000'000};
  EngineConfig config;
  PieceSink sink;
  std::unique_ptr<Engine> engine;
};

TEST(PartitionState, VelocityRuleFiresAfterTheMoveExactlyAsWithoutIt) {
  // "burst" lives in partition 3. Two of its four transactions within 40 s are scored before
  // the partition moves to another engine (with a different shard count), two after.
  TestEngine before(2), after(3), reference(2);
  std::vector<Transaction> first, second;
  for (int i = 0; i < 4; ++i) {
    auto& part = i < 2 ? first : second;
    part.push_back(make_tx("v" + std::to_string(i), "burst", 3, kMicrosPerSecond * 10 * i));
    for (int k = 0; k < 20; ++k) {  // neighbours in partitions 0..3 on every shard
      const std::string acct = "n" + std::to_string(k);
      part.push_back(make_tx(acct + "-" + std::to_string(i), acct, k % 4,
                             kMicrosPerSecond * (10 * i + 1), 5000 + k));
    }
  }
  reference.submit(first);
  reference.submit(second);
  reference.engine->stop();

  before.submit(first);
  const std::string blob = before.engine->snapshot_partition(3, /*evict=*/true);
  ASSERT_TRUE(after.engine->restore_partition(blob).ok());
  std::vector<Transaction> moved, stayed;
  for (Transaction& tx : second) (tx.partition == 3 ? moved : stayed).push_back(tx);
  after.submit(moved);
  before.submit(stayed);
  before.engine->stop();
  after.engine->stop();

  std::map<std::string, Decision> got = before.sink.decisions();
  for (auto& [id, d] : after.sink.decisions()) got[id] = d;
  const std::map<std::string, Decision> want = reference.sink.decisions();
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [id, w] : want) {
    const Decision& g = got.at(id);
    EXPECT_EQ(g.action, w.action) << id;
    EXPECT_EQ(g.score, w.score) << id;
    ASSERT_EQ(g.reasons.size(), w.reasons.size()) << id;
    for (size_t r = 0; r < w.reasons.size(); ++r) {
      EXPECT_EQ(g.reasons[r].rule_id, w.reasons[r].rule_id) << id;
      EXPECT_EQ(g.reasons[r].detail, w.reasons[r].detail) << id;
    }
  }
  EXPECT_FALSE(fired(got.at("v2"), "velocity"));
  EXPECT_TRUE(fired(got.at("v3"), "velocity")) << "the burst's first half moved with partition 3";
}

TEST(PartitionState, WithoutTheSnapshotTheMovedBurstIsMissed) {
  // The control for the test above: a fresh engine that did not restore sees only two.
  TestEngine fresh(3);
  std::vector<Transaction> txs;
  for (int i = 2; i < 4; ++i)
    txs.push_back(make_tx("v" + std::to_string(i), "burst", 3, kMicrosPerSecond * 10 * i));
  fresh.submit(txs);
  fresh.engine->stop();
  EXPECT_FALSE(fired(fresh.sink.decisions().at("v3"), "velocity"));
}

TEST(PartitionState, EvictionFreesOnlyThatPartitionsAccounts) {
  TestEngine t(2);
  std::vector<Transaction> txs;
  for (int k = 0; k < 100; ++k)
    txs.push_back(make_tx("t" + std::to_string(k), "a" + std::to_string(k), k % 5, k));
  t.submit(txs);
  const std::string kept = t.engine->snapshot_partition(1, /*evict=*/false);
  t.engine->drain();
  EXPECT_EQ(t.engine->metrics().accounts, 100u);
  const std::string evicted = t.engine->snapshot_partition(1, /*evict=*/true);
  EXPECT_EQ(kept, evicted) << "the same state, whether or not it is evicted";
  EXPECT_EQ(t.engine->metrics().accounts, 80u);
  auto snap = decode_partition_snapshot(evicted);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->accounts.size(), 20u);
  // Partition 1 is empty now; the others are whole.
  EXPECT_EQ(decode_partition_snapshot(t.engine->snapshot_partition(1, false))->accounts.size(), 0u);
  for (int p : {0, 2, 3, 4}) {
    EXPECT_EQ(decode_partition_snapshot(t.engine->snapshot_partition(p, false))->accounts.size(),
              20u);
  }
  t.engine->stop();
}

TEST(PartitionState, SnapshotCoversEveryBatchSubmittedBeforeItAndNoneAfter) {
  TestEngine t(3);
  constexpr int kBatches = 40, kPerBatch = 50;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<Transaction> txs;
    for (int i = 0; i < kPerBatch; ++i) {
      const int n = b * kPerBatch + i;
      txs.push_back(make_tx("t" + std::to_string(n), "a" + std::to_string(n % 30), 7, n));
    }
    t.submit(std::move(txs));
  }
  const uint64_t seq_before = t.engine->next_seq();
  // No drain: most batches are still queued when the control item goes in behind them.
  const std::string blob = t.engine->snapshot_partition(7, /*evict=*/true);
  EXPECT_EQ(t.engine->next_seq(), seq_before) << "a control item takes no sequence number";
  auto snap = decode_partition_snapshot(blob);
  ASSERT_TRUE(snap.ok()) << snap.error().message();
  uint64_t folded = 0;
  for (const AccountState& a : snap->accounts) folded += a.tx_count;
  EXPECT_EQ(snap->accounts.size(), 30u);
  EXPECT_EQ(folded, static_cast<uint64_t>(kBatches * kPerBatch));

  // A batch after the evicting snapshot starts from empty state.
  t.submit({make_tx("late", "a0", 7, kBatches * kPerBatch)});
  const std::string after = t.engine->snapshot_partition(7, false);
  t.engine->stop();
  auto late = decode_partition_snapshot(after);
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(late->accounts.size(), 1u);
  EXPECT_EQ(late->accounts[0].tx_count, 1u);

  // The sink saw every batch, each in all its pieces, gap-free.
  BatchTracker tracker;
  for (const ScoredBatch& p : t.sink.pieces) tracker.piece_done(p.seq, p.pieces, 0);
  std::vector<BatchTracker::Completed> done;
  tracker.take_completed(done);
  EXPECT_EQ(done.size(), static_cast<size_t>(kBatches + 1));
  EXPECT_EQ(tracker.pending(), 0u);
  EXPECT_EQ(t.sink.pieces.size(), static_cast<size_t>((kBatches + 1) * 3));
}

TEST(PartitionState, RestoreIsOrderedBeforeLaterBatches) {
  TestEngine source(2), target(2);
  std::vector<Transaction> txs;
  for (int i = 0; i < 3; ++i) txs.push_back(make_tx("s" + std::to_string(i), "burst", 0, i));
  source.submit(txs);
  const std::string blob = source.engine->snapshot_partition(0, true);
  // Keep target's queues busy, then restore and submit straight away without draining.
  for (int b = 0; b < 10; ++b) {
    std::vector<Transaction> other;
    for (int i = 0; i < 100; ++i)
      other.push_back(make_tx("o" + std::to_string(b * 100 + i), "x" + std::to_string(i), 1, i));
    target.submit(std::move(other));
  }
  ASSERT_TRUE(target.engine->restore_partition(blob).ok());
  target.submit({make_tx("s3", "burst", 0, 10)});
  target.engine->stop();
  source.engine->stop();
  EXPECT_TRUE(fired(target.sink.decisions().at("s3"), "velocity"));
  EXPECT_EQ(target.engine->metrics().accounts, 101u);
}

TEST(PartitionState, AHostileBlobIsRefusedAndChangesNothing) {
  TestEngine t(2);
  t.submit({make_tx("a", "acct", 4, 0), make_tx("b", "other", 4, 1)});
  std::string blob = t.engine->snapshot_partition(4, false);
  const std::string good = blob;
  blob[blob.size() / 2] ^= 0x10;
  Status st = t.engine->restore_partition(blob);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "snapshot.checksum");
  st = t.engine->restore_partition(std::string_view(good).substr(0, good.size() - 1));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "snapshot.length");
  st = t.engine->restore_partition("");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "snapshot.header");
  EXPECT_EQ(t.engine->snapshot_partition(4, false), good) << "state untouched";
  t.engine->stop();
  // After stop() the calls run directly.
  EXPECT_EQ(t.engine->snapshot_partition(4, true), good);
  EXPECT_TRUE(t.engine->restore_partition(good).ok());
  EXPECT_EQ(t.engine->snapshot_partition(4, false), good);
}

}  // namespace
}  // namespace fw
