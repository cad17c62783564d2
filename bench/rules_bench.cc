// BM_RulesEvaluate: the default rule set over precomputed features, reusing one Decision.
// Arg 0: realistic traffic where no rule fires (no allocation); arg 1: every 8th fires.
// Run: build/<release>/bench/fw_bench_rules
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "rules/rule_set.h"

namespace fw {
namespace {

void BM_RulesEvaluate(benchmark::State& state) {
  constexpr size_t kN = 1024;
  const bool some_fire = state.range(0) != 0;
  std::mt19937 rng(7);
  std::vector<Transaction> txs(kN);
  std::vector<FeatureVector> features(kN);
  for (size_t i = 0; i < kN; ++i) {
    txs[i].amount = Money{static_cast<int64_t>(rng() % 500'000), Currency::of("EUR")};
    txs[i].country = *Country::parse("DE");
    FeatureVector& f = features[i];
    f[FeatureId::kTxCount1m] = 1 + rng() % 3;
    f[FeatureId::kLocalHour] = 6 + rng() % 17;
    f[FeatureId::kHasPrevLocation] = 1;
    f[FeatureId::kDistanceFromPrevKm] = rng() % 100;
    f[FeatureId::kSpeedFromPrevKmh] = rng() % 300;
    f[FeatureId::kSecondsSinceOtherCountry] = -1;
    if (some_fire && i % 8 == 0) f[FeatureId::kTxCount1m] = 5;
  }
  auto rules = RuleSet::defaults();
  Decision d;
  size_t i = 0;
  for (auto _ : state) {
    rules->evaluate(txs[i], features[i], d);
    benchmark::DoNotOptimize(d.score);
    i = (i + 1) % kN;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RulesEvaluate)->Arg(0)->Arg(1)->ArgName("some_fire");

}  // namespace
}  // namespace fw
