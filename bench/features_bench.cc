// BM_FeatureProcess: FeatureEngine::process over 1M accounts chosen uniformly at random, from
// pre-generated transactions, with and without prefetching the account records of the next 16.
// Run: build/<release>/bench/fw_bench_features
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "features/feature_engine.h"

namespace fw {
namespace {

constexpr int kAccounts = 1'000'000;
constexpr size_t kTransactions = 1 << 20;
constexpr int kBatch = 16;

// prefix + n, built by appending (g++ 12 warns falsely about "x" + std::to_string(n) at -O3).
std::string id(const char* prefix, long n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

struct Fixture {
  std::vector<Transaction> txs;
  FeatureEngine engine{FeatureConfig{.initial_accounts = kAccounts, .initial_merchants = 4096}};
  Timestamp now = 1'772'409'600'000'000;  // 2026-03-02T00:00:00Z

  Fixture() {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int> account(0, kAccounts - 1);
    std::uniform_int_distribution<int> merchant(0, 4999);
    std::uniform_int_distribution<int64_t> amount(100, 50'000);
    std::uniform_real_distribution<double> lat(36, 60), lon(-9, 30);
    const char* countries[] = {"DE", "FR", "NL", "ES", "IT", "PL"};
    txs.resize(kTransactions);
    for (size_t i = 0; i < kTransactions; ++i) {
      Transaction& tx = txs[i];
      tx.id = id("t", static_cast<long>(i));
      tx.account_id = id("acc", account(rng));
      tx.amount = Money{amount(rng), Currency::of("EUR")};
      tx.merchant_id = id("m", merchant(rng));
      tx.terminal_id = tx.merchant_id;
      tx.terminal_id += "-1";
      tx.mcc = 5411;
      tx.country = *Country::parse(countries[i % 6]);
      tx.has_location = true;
      tx.lat = lat(rng);
      tx.lon = lon(rng);
      if (i % 3 == 0) tx.device_id = id("dev", account(rng) % 1000);
      tx.finalize_keys();
    }
    // Every account exists before measuring: the steady state, not the insert path.
    FeatureVector f;
    for (int a = 0; a < kAccounts; ++a) {
      Transaction tx = txs[0];
      tx.account_id = id("acc", a);
      tx.ts = next_ts();
      tx.finalize_keys();
      engine.process(tx, f);
    }
    for (Transaction& tx : txs) tx.ts = next_ts();
  }

  Timestamp next_ts() { return now += 1000; }  // 1000 tx/s of simulated time
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_FeatureProcess(benchmark::State& state) {
  Fixture& fx = fixture();
  const bool prefetch = state.range(0) != 0;
  FeatureVector out;
  size_t i = 0;
  for (auto _ : state) {
    // One batch of 16 per iteration; times advance so windows behave as in production.
    Transaction* batch = &fx.txs[i];
    for (int k = 0; k < kBatch; ++k) {
      batch[k].ts = fx.next_ts();
      if (prefetch) fx.engine.prefetch(batch[k]);
    }
    for (int k = 0; k < kBatch; ++k) {
      fx.engine.process(batch[k], out);
      benchmark::DoNotOptimize(out);
    }
    i = (i + kBatch) % kTransactions;
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["ns_per_tx"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kBatch),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["accounts"] = static_cast<double>(fx.engine.account_count());
  state.counters["MiB"] = static_cast<double>(fx.engine.memory_bytes()) / (1 << 20);
}
BENCHMARK(BM_FeatureProcess)->Arg(0)->Arg(1)->ArgName("prefetch16");

}  // namespace
}  // namespace fw
