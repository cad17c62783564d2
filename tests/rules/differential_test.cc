// Differential test of rule evaluation: random rule sets over random transactions, where each
// generated expression carries its own meaning as a small tree evaluated here in plain C++.
// RuleSet::evaluate (prefilter, skipped guards, threaded dispatch, folded constants) and
// RuleSet::fires (the whole program from its entry point) must both agree with that tree on
// every rule and transaction, including NaN, infinities, boundaries and foreign currencies.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "rules/rule_set.h"

namespace fw {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The numeric features the generator reads, and the values they take (boundaries of the
// constants below, NaN, infinities).
const FeatureId kNumeric[] = {FeatureId::kTxCount1m,          FeatureId::kTxSum1h,
                              FeatureId::kAmountZscore,       FeatureId::kLocalHour,
                              FeatureId::kDistanceFromPrevKm, FeatureId::kSpeedFromPrevKmh};
const double kConstants[] = {-2.5, 0, 1, 2, 3, 3.5, 4, 50, 100, 500};
const double kValues[] = {-3, -2.5, 0,  1,   2,   2.5,  3,    3.25, 3.5,
                          4,  49.5, 50, 100, 501, kNan, kInf, -kInf};
const char* const kCmpText[] = {"==", "!=", "<", "<=", ">", ">="};
const char* const kMerchants[] = {"m-1", "m-2", "m-3", "m-bad"};
const int64_t kMinors[] = {0, 99, 100, 101, 1000, 5000, 50000, 50001};

bool compare(int cmp, double a, double b) {
  switch (cmp) {
    case 0:
      return a == b;
    case 1:
      return a != b;
    case 2:
      return a < b;
    case 3:
      return a <= b;
    case 4:
      return a > b;
    default:
      return a >= b;
  }
}

bool compare_int(int cmp, int64_t a, int64_t b) {
  switch (cmp) {
    case 0:
      return a == b;
    case 1:
      return a != b;
    case 2:
      return a < b;
    case 3:
      return a <= b;
    case 4:
      return a > b;
    default:
      return a >= b;
  }
}

// A generated expression: its text for the rule file and its meaning for the reference.
struct Expr {
  std::string text;
  std::function<bool(const Transaction&, const FeatureVector&)> eval;
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  Expr atom() {
    const FeatureId fid = kNumeric[pick(std::size(kNumeric))];
    const auto fi = static_cast<size_t>(fid);
    const std::string fname(feature_name(fid));
    const double k = kConstants[pick(std::size(kConstants))];
    const int cmp = static_cast<int>(pick(6));
    switch (pick(10)) {
      case 0:  // feature <cmp> constant
        return {fmt::format("{} {} {}", fname, kCmpText[cmp], k),
                [=](const Transaction&, const FeatureVector& f) {
                  return compare(cmp, f.values[fi], k);
                }};
      case 1:  // constant <cmp> feature
        return {fmt::format("{} {} {}", k, kCmpText[cmp], fname),
                [=](const Transaction&, const FeatureVector& f) {
                  return compare(cmp, k, f.values[fi]);
                }};
      case 2: {  // between
        const double hi = kConstants[pick(std::size(kConstants))];
        return {fmt::format("{} between {} and {}", fname, k, hi),
                [=](const Transaction&, const FeatureVector& f) {
                  return f.values[fi] >= k && f.values[fi] <= hi;
                }};
      }
      case 3: {  // money
        const int64_t minor = kMinors[pick(std::size(kMinors))];
        const bool eur = pick(2) == 0;
        const char* cur = eur ? "EUR" : "USD";
        const Currency c = eur ? Currency::of("EUR") : Currency::of("USD");
        return {fmt::format("amount {} {}.{:02} {}", kCmpText[cmp], minor / 100, minor % 100, cur),
                [=](const Transaction& tx, const FeatureVector&) {
                  return tx.amount.currency == c && compare_int(cmp, tx.amount.minor, minor);
                }};
      }
      case 4: {  // enumerated text
        const auto type = static_cast<TxType>(pick(kTxTypeCount));
        const bool eq = pick(2) == 0;
        return {
            fmt::format("type {} \"{}\"", eq ? "==" : "!=", to_string(type)),
            [=](const Transaction& tx, const FeatureVector&) { return (tx.type == type) == eq; }};
      }
      case 5: {
        const auto channel = static_cast<Channel>(pick(kChannelCount));
        return {fmt::format("channel == \"{}\"", to_string(channel)),
                [=](const Transaction& tx, const FeatureVector&) { return tx.channel == channel; }};
      }
      case 6:  // a named list
        return {"merchant_id in list(\"bad\")", [](const Transaction& tx, const FeatureVector&) {
                  return tx.merchant_id == "m-bad" || tx.merchant_id == "m-3";
                }};
      case 7: {  // arithmetic with constants on either side and two features
        const FeatureId gid = kNumeric[pick(std::size(kNumeric))];
        const auto gi = static_cast<size_t>(gid);
        const double m = kConstants[pick(std::size(kConstants))];
        return {fmt::format("({} - {}) * {} {} {}", fname, feature_name(gid), m, kCmpText[cmp], k),
                [=](const Transaction&, const FeatureVector& f) {
                  return compare(cmp, (f.values[fi] - f.values[gi]) * m, k);
                }};
      }
      case 8: {
        const double m = kConstants[pick(std::size(kConstants))];
        return {fmt::format("{} * {} + 1 {} {} / 2", m, fname, kCmpText[cmp], k),
                [=](const Transaction&, const FeatureVector& f) {
                  return compare(cmp, m * f.values[fi] + 1, k / 2);
                }};
      }
      default: {  // major(amount) against a feature ratio
        return {fmt::format("major(amount) {} {} * {} - 1", kCmpText[cmp], k, fname),
                [=](const Transaction& tx, const FeatureVector& f) {
                  const double major = tx.amount.currency.valid() ? tx.amount.major_approx() : 0;
                  return compare(cmp, major, k * f.values[fi] - 1);
                }};
      }
    }
  }

  Expr expr(int depth) {
    if (depth == 0 || pick(3) == 0) return atom();
    Expr a = expr(depth - 1);
    switch (pick(4)) {
      case 0:
        return {"not (" + a.text + ")",
                [a](const Transaction& tx, const FeatureVector& f) { return !a.eval(tx, f); }};
      case 1: {
        Expr b = expr(depth - 1);
        return {"(" + a.text + " or " + b.text + ")",
                [a, b](const Transaction& tx, const FeatureVector& f) {
                  return a.eval(tx, f) || b.eval(tx, f);
                }};
      }
      default: {
        Expr b = expr(depth - 1);
        return {"(" + a.text + " and " + b.text + ")",
                [a, b](const Transaction& tx, const FeatureVector& f) {
                  return a.eval(tx, f) && b.eval(tx, f);
                }};
      }
    }
  }

  // A rule's expression: a chain of top-level conjuncts (guards, which the prefilter sees).
  Expr rule() {
    Expr e = expr(2);
    const size_t more = pick(4);
    for (size_t i = 0; i < more; ++i) {
      Expr b = expr(1);
      e = {e.text + " and " + b.text, [a = e, b](const Transaction& tx, const FeatureVector& f) {
             return a.eval(tx, f) && b.eval(tx, f);
           }};
    }
    return e;
  }

  void transaction(Transaction& tx, FeatureVector& f) {
    for (FeatureId id : kNumeric) f[id] = kValues[pick(std::size(kValues))];
    tx.type = static_cast<TxType>(pick(kTxTypeCount));
    tx.channel = static_cast<Channel>(pick(kChannelCount));
    const Currency currencies[] = {Currency::of("EUR"), Currency::of("USD"), Currency::of("JPY")};
    tx.amount = Money{kMinors[pick(std::size(kMinors))], currencies[pick(3)]};
    tx.merchant_id = kMerchants[pick(std::size(kMerchants))];
    tx.finalize_keys();
  }

 private:
  std::mt19937 rng_;
};

// Runs the differential check with the AVX2 first-check pass allowed or not (RuleSet::
// set_wide_prefilter); restores the default afterwards.
class RuleSetDifferential : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { RuleSet::set_wide_prefilter(GetParam()); }
  void TearDown() override { RuleSet::set_wide_prefilter(true); }
};

TEST_P(RuleSetDifferential, FastPathAgreesWithTheReferenceOnRandomRulesAndTransactions) {
  Generator gen(20261202);
  size_t fired_total = 0, checked = 0;
  for (int set_no = 0; set_no < 150; ++set_no) {
    std::string yaml = "name: diff\nlists:\n  bad: {values: [m-bad, m-3]}\nrules:\n";
    std::vector<Expr> exprs;
    std::vector<bool> enabled;
    const size_t n = 1 + gen.pick(70);  // sometimes more than 64: two bitmask words
    for (size_t i = 0; i < n; ++i) {
      exprs.push_back(gen.rule());
      enabled.push_back(gen.pick(10) != 0);
      yaml += fmt::format("  - {{id: r{}, when: '{}', score: 0.1, enabled: {}}}\n", i,
                          exprs.back().text, enabled.back() ? "true" : "false");
    }
    auto set = RuleSet::from_yaml_string(yaml, "diff.yaml");
    ASSERT_TRUE(set.ok()) << set.error().message() << "\n" << yaml;
#if defined(__x86_64__) && defined(__GNUC__)
    // The pass under test is the one this rule set runs.
    ASSERT_EQ((*set)->wide_prefilter(), GetParam() && __builtin_cpu_supports("avx2"));
#else
    ASSERT_FALSE((*set)->wide_prefilter());
#endif
    Transaction tx;
    FeatureVector f;
    Decision d;
    for (int t = 0; t < 200; ++t) {
      gen.transaction(tx, f);
      (*set)->evaluate(tx, f, d);
      std::set<std::string> fired;
      for (const Reason& r : d.reasons) fired.insert(r.rule_id);
      for (size_t i = 0; i < n; ++i) {
        const bool expected = exprs[i].eval(tx, f);
        const std::string id = fmt::format("r{}", i);
        ASSERT_EQ((*set)->fires(i, tx, f), expected) << "fires(): " << exprs[i].text;
        ASSERT_EQ(fired.count(id) == 1, enabled[i] && expected)
            << "evaluate(): " << exprs[i].text << " (enabled " << enabled[i] << ")";
        fired_total += expected ? 1 : 0;
        ++checked;
      }
    }
  }
  // Neither always true nor always false, so the agreement says something.
  EXPECT_GT(fired_total, checked / 20);
  EXPECT_LT(fired_total, checked - checked / 20);
}

INSTANTIATE_TEST_SUITE_P(FirstCheckPass, RuleSetDifferential, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Avx2WhenAvailable" : "Portable");
                         });

}  // namespace
}  // namespace fw
