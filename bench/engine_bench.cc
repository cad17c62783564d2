// Partition state moves: Engine::snapshot_partition / restore_partition of one partition of
// 100,000 accounts (of 400,000 in a 2-shard engine, 4 partitions), in MB/s of snapshot blob.
// Includes the control item's trip through the shard queues, the table walk, the copy into the
// blob and its checksum; restore includes decoding, validation, routing to shards, evicting the
// partition's old state and inserting. Run: build/<release>/bench/fw_bench_engine
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine/engine.h"

namespace fw {
namespace {

constexpr int kPartitions = 4;
constexpr int kAccountsPerPartition = 100'000;
constexpr int kAccounts = kPartitions * kAccountsPerPartition;

class NullSink final : public DecisionSink {
 public:
  void consume(ScoredBatch&&) override {}
};

struct Fixture {
  NullSink sink;
  std::unique_ptr<Engine> engine;

  Fixture() {
    EngineConfig config;
    config.shards = 2;
    config.features.initial_accounts = kAccounts;
    engine = std::make_unique<Engine>(config, RuleSet::defaults(), sink);
    engine->start();
    Timestamp ts = 1'772'409'600'000'000;      // 2026-03-02T00:00:00Z
    for (int round = 0; round < 2; ++round) {  // two transactions per account
      for (int first = 0; first < kAccounts; first += 4096) {
        SourceBatch batch;
        for (int a = first; a < std::min(kAccounts, first + 4096); ++a) {
          Transaction tx;
          tx.id = "t" + std::to_string(round) + "-" + std::to_string(a);
          tx.account_id = "acc" + std::to_string(a);
          tx.ts = ts += 1000;
          tx.amount = Money{1000 + a % 5000, Currency::of("EUR")};
          tx.country = *Country::parse("DE");
          tx.device_id = "dev" + std::to_string(a % 1000);
          tx.partition = a % kPartitions;
          tx.finalize_keys();
          batch.txs.push_back(std::move(tx));
        }
        engine->submit(std::move(batch));
      }
    }
    engine->drain();
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_SnapshotPartition(benchmark::State& state) {
  Engine& engine = *fixture().engine;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string blob = engine.snapshot_partition(1, /*evict=*/false);
    bytes = blob.size();
    benchmark::DoNotOptimize(blob.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["accounts"] = kAccountsPerPartition;
  state.counters["blob_MiB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK(BM_SnapshotPartition)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RestorePartition(benchmark::State& state) {
  Engine& engine = *fixture().engine;
  const std::string blob = engine.snapshot_partition(2, /*evict=*/false);
  for (auto _ : state) {
    Status st = engine.restore_partition(blob);  // replaces partition 2 with the same state
    if (!st.ok()) state.SkipWithError(st.error().message().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * blob.size()));
  state.counters["accounts"] = kAccountsPerPartition;
}
BENCHMARK(BM_RestorePartition)->Unit(benchmark::kMillisecond)->UseRealTime();

// The move as a rebalance does it: snapshot with eviction, then restore (here into the same
// engine, so the state is there for the next iteration).
void BM_MovePartition(benchmark::State& state) {
  Engine& engine = *fixture().engine;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string blob = engine.snapshot_partition(3, /*evict=*/true);
    bytes = blob.size();
    Status st = engine.restore_partition(blob);
    if (!st.ok()) state.SkipWithError(st.error().message().c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["accounts"] = kAccountsPerPartition;
}
BENCHMARK(BM_MovePartition)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace fw
