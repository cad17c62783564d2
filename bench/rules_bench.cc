// Rule evaluation cost over precomputed features, reusing one Decision.
//   BM_RulesEvaluate/some_fire:0|1  the default rule set (13 rules); arg 1 makes every 8th
//                                   transaction fire velocity (formats one reason).
//   BM_Rules50                      50 rules of the shapes analysts write (feature thresholds,
//                                   and/or chains, money per currency, text in hashed lists,
//                                   durations, arithmetic); nothing fires on most transactions.
//   BM_RulesCompile50               loading + compiling those 50 rules (a reload's cost).
// Run: build/<release>/bench/fw_bench_rules
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <random>
#include <string>
#include <vector>

#include "rules/rule_set.h"

namespace fw {
namespace {

constexpr size_t kN = 1024;

struct Data {
  std::vector<Transaction> txs;
  std::vector<FeatureVector> features;
};

Data make_data(bool some_fire) {
  std::mt19937 rng(7);
  Data d;
  d.txs.resize(kN);
  d.features.resize(kN);
  const char* merchants[] = {"m-1", "m-2", "m-3", "m-4", "m-5", "m-6", "m-7", "m-8"};
  for (size_t i = 0; i < kN; ++i) {
    Transaction& tx = d.txs[i];
    // Retail amounts up to 500 EUR: most transactions fire no rule, as in production.
    tx.amount = Money{100 + static_cast<int64_t>(rng() % 50'000), Currency::of("EUR")};
    tx.country = *Country::parse("DE");
    tx.type = static_cast<TxType>(rng() % kTxTypeCount);
    tx.channel = static_cast<Channel>(rng() % kChannelCount);
    tx.mcc = static_cast<uint16_t>(5000 + rng() % 1000);
    tx.merchant_id = merchants[rng() % 8];
    tx.device_id = fmt::format("dev-{}", rng() % 100);
    tx.account_id = fmt::format("acc-{}", rng() % 1000);
    tx.ts = 1'767'657'000'000'000 + static_cast<int64_t>(i) * 1'000'000;
    tx.finalize_keys();
    FeatureVector& f = d.features[i];
    f[FeatureId::kTxCount1m] = 1 + rng() % 3;
    f[FeatureId::kTxCount1h] = 1 + rng() % 5;
    // The hour's sum includes this transaction; earlier ones were 20-100 EUR each.
    f[FeatureId::kTxSum1h] = tx.amount.major_approx() +
                             (f[FeatureId::kTxCount1h] - 1) * static_cast<double>(20 + rng() % 80);
    f[FeatureId::kLocalHour] = 6 + rng() % 17;
    f[FeatureId::kHasPrev] = 1;
    f[FeatureId::kHasPrevLocation] = 1;
    f[FeatureId::kDistanceFromPrevKm] = rng() % 100;
    f[FeatureId::kSpeedFromPrevKmh] = rng() % 300;
    f[FeatureId::kSecondsSinceOtherCountry] = -1;
    f[FeatureId::kSecondsSincePrev] = rng() % 100'000;
    f[FeatureId::kAmountZscore] = (static_cast<double>(rng() % 400) - 200) / 100;
    f[FeatureId::kDistinctDevices24h] = 1;
    if (some_fire && i % 8 == 0) f[FeatureId::kTxCount1m] = 8;
  }
  return d;
}

void run(benchmark::State& state, const RuleSet& rules, const Data& data) {
  Decision d;
  size_t i = 0;
  for (auto _ : state) {
    rules.evaluate(data.txs[i], data.features[i], d);
    benchmark::DoNotOptimize(d.score);
    i = (i + 1) % kN;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RulesEvaluate(benchmark::State& state) {
  const Data data = make_data(state.range(0) != 0);
  run(state, *RuleSet::fresh_defaults(), data);
}
BENCHMARK(BM_RulesEvaluate)->Arg(0)->Arg(1)->ArgName("some_fire");

// 50 rules in ten shapes, five thresholds each.
std::string fifty_rules_yaml() {
  std::string y =
      "name: bench50\nlists:\n  bad_merchants: {values: [m-evil, m-worse, m-bad-1, m-bad-2]}\n"
      "  mccs: {values: ['7995', '6051', '4829', '5944', '5947']}\nrules:\n";
  const char* shapes[] = {
      "tx_count_1m > {}",
      "amount > {}000 EUR or amount > {}000 USD",
      "tx_count_1h > {} and amount_zscore > 2.5",
      "merchant_id in list(\"bad_merchants\") and tx_count_1m >= {}",
      "seconds_since_prev > {}d and type in [\"transfer\", \"withdrawal\"]",
      "local_hour between {} and 4 and amount > 500 EUR",
      "mcc in list(\"mccs\") and channel == \"ecommerce\" and amount_zscore > {}",
      "distinct_devices_24h >= {} and new_device",
      "has_prev_location and distance_from_prev_km >= 50 and speed_from_prev_kmh > {}00",
      "tx_count_1h >= 4 and major(amount) > {}0 * (tx_sum_1h - major(amount)) / (tx_count_1h - 1)",
  };
  int n = 0;
  for (int t = 0; t < 5; ++t) {
    for (const char* shape : shapes) {
      const int k = 3 + t;
      y += fmt::format("  - {{id: r{}, when: '{}', score: 0.1}}\n", n++,
                       fmt::format(fmt::runtime(shape), k, k));
    }
  }
  return y;
}

// Arg 0: nothing fires on most transactions; arg 1: every 8th fires 5 rules (tx_count_1m > k),
// which formats 5 reasons.
void BM_Rules50(benchmark::State& state) {
  auto rules = RuleSet::from_yaml_string(fifty_rules_yaml(), "bench50.yaml");
  if (!rules.ok()) {
    state.SkipWithError(rules.error().message().c_str());
    return;
  }
  const Data data = make_data(state.range(0) != 0);
  run(state, **rules, data);
  state.counters["rules"] = static_cast<double>((*rules)->rules().size());
}
BENCHMARK(BM_Rules50)->Arg(0)->Arg(1)->ArgName("some_fire");

void BM_RulesCompile50(benchmark::State& state) {
  const std::string yaml = fifty_rules_yaml();
  for (auto _ : state) {
    auto rules = RuleSet::from_yaml_string(yaml, "bench50.yaml");
    benchmark::DoNotOptimize(rules.ok());
  }
}
BENCHMARK(BM_RulesCompile50)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fw
