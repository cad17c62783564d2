#include "rules/rule_set.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>

#include "testing/paths.h"

namespace fw {
namespace {

std::string error_of(std::string_view yaml) {
  auto r = RuleSet::from_yaml_string(yaml, "rules.yaml");
  EXPECT_FALSE(r.ok()) << yaml;
  return r.ok() ? "" : r.error().message();
}

constexpr std::string_view kMinimal = R"(name: t
rules:
  - id: velocity
    when: tx_count_1m > 3
    score: 0.5
)";

TEST(RuleSetConfig, DefaultsEqualTheShippedConfigFile) {
  const std::string path = (testing::source_dir() / "config/rules.yaml").string();
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), RuleSet::default_yaml())
      << "config/rules.yaml and the built-in default differ";
  auto loaded = RuleSet::from_file(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_EQ((*loaded)->version(), RuleSet::defaults()->version());

  auto d = RuleSet::defaults();
  EXPECT_EQ(d->name(), "default");
  EXPECT_EQ(d->review_at(), 0.5);
  EXPECT_EQ(d->block_at(), 0.9);
  std::vector<std::string> ids;
  for (const Rule& r : d->rules()) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{
                     "large_amount", "velocity", "unusual_hour", "impossible_travel",
                     "device_velocity", "structuring", "micro_then_large",
                     "new_device_large_transfer", "dormant_reactivation", "high_risk_mcc",
                     "unexpected_international", "round_amount_transfer", "trusted_account"}));
  EXPECT_EQ(d->rules().back().action, RuleAction::kAllow);
  EXPECT_EQ(d->rules()[3].severity, Severity::kHigh);
  EXPECT_EQ(d->rules()[3].tags, std::vector<std::string>{"geo"});
}

TEST(RuleSetConfig, VersionIsNameAndContentHash) {
  auto a = RuleSet::from_yaml_string(kMinimal, "a.yaml");
  ASSERT_TRUE(a.ok()) << a.error().message();
  const std::string& v = (*a)->version();
  ASSERT_EQ(v.size(), std::string("t@").size() + 12) << v;
  EXPECT_EQ(v.substr(0, 2), "t@");
  EXPECT_EQ(v.find_first_not_of("0123456789abcdef", 2), std::string::npos) << v;
  auto b = RuleSet::from_yaml_string(std::string(kMinimal) + "# changed\n", "a.yaml");
  ASSERT_TRUE(b.ok());
  EXPECT_NE((*b)->version(), v);
  auto c = RuleSet::from_yaml_string(kMinimal, "other-name.yaml");
  EXPECT_EQ((*c)->version(), v);  // the source name is not content
}

TEST(RuleSetConfig, StructuralErrorsNameFileLineColumnKeyAndProblem) {
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: a, when: true, score: 0.5}\n"
                     "  - {id: b, when: true, score: 1.5}\n"),
            "rules.yaml:4:32: rules[1].score: must be between 0 and 1, got 1.5");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: a, when: true, scroe: 0.5}\n"),
            "rules.yaml:3:25: rules[0].scroe: unknown key 'scroe' (expected one of: id, "
            "description, when, score, action, severity, tags, enabled)");
  EXPECT_EQ(error_of("name: t\npolicy: {review_at: 0.5, blok_at: 0.9}\nrules: []\n"),
            "rules.yaml:2:26: policy.blok_at: unknown key 'blok_at' (expected one of: "
            "review_at, block_at)");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: a, when: true, score: high}\n"),
            "rules.yaml:3:32: rules[0].score: must be a number, got 'high'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: a, when: true, score: 0.5, action: deny}\n"),
            "rules.yaml:3:45: rules[0].action: must be one of score, review, block, allow; got "
            "'deny'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: a, when: true, score: 0.5, severity: huge}\n"),
            "rules.yaml:3:47: rules[0].severity: must be one of low, medium, high, critical; got "
            "'huge'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: a, when: true, score: 0.5}\n"
                     "  - {id: a, when: true, score: 0.1}\n"),
            "rules.yaml:4:10: rules[1].id: duplicate rule id 'a'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: a, when: true}\n"),
            "rules.yaml:3:5: rules[0].score: is required for action 'score': a number between 0 "
            "and 1");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: a, score: 0.5}\n"),
            "rules.yaml:3:5: rules[0].when: is required: an expression that is true when the rule "
            "fires, e.g. 'tx_count_1m > 3'");
  EXPECT_EQ(error_of("name: t\npolicy: {review_at: 0.95}\nrules: []\n"),
            "rules.yaml:2:21: policy.review_at: must not be above block_at (0.9), got 0.95");
  EXPECT_EQ(error_of("rules: []\n"),
            "rules.yaml: name: is required: a short name for this rule set, e.g. 'default'");
  EXPECT_EQ(error_of("name: t\n"),
            "rules.yaml: rules: is required: a list of rules (id, when, score, ...)");
  EXPECT_EQ(error_of("name: t\nextra: 1\nrules: []\n"),
            "rules.yaml:2:1: extra: unknown key 'extra' (expected one of: name, policy, lists, "
            "rules)");
  EXPECT_EQ(error_of("name: t\nlists: {a: {values: [[1]]}}\nrules: []\n"),
            "rules.yaml:2:22: lists.a.values[0]: must be a text value, got a list");
  const std::string bad_yaml = error_of("name: t\nrules: [\n");
  EXPECT_EQ(bad_yaml.rfind("rules.yaml:3:1: invalid YAML: ", 0), 0u) << bad_yaml;
  EXPECT_EQ(error_of("- 1\n- 2\n"), "rules.yaml:1:1: must be a mapping");
  // Hostile nesting is refused before yaml-cpp recurses into it.
  EXPECT_EQ(error_of("name: t\nrules: " + std::string(5000, '[')),
            "rules.yaml:2: nesting or indentation deeper than 128 levels; a rule set needs a "
            "handful");
  std::string dashes = "name: t\nrules:\n";
  for (int i = 0; i < 100; ++i) dashes += "- ";
  EXPECT_EQ(error_of(dashes + "x\n"),
            "rules.yaml:3: nesting or indentation deeper than 128 levels; a rule set needs a "
            "handful");
  EXPECT_EQ(
      error_of("name: t\nrules: []\ndesc: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
               "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
               "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[['\n"),
      "rules.yaml:3:1: desc: unknown key 'desc' (expected one of: name, policy, lists, "
      "rules)");  // brackets inside quotes do not count
  EXPECT_EQ(error_of(""), "rules.yaml: must be a mapping");
}

TEST(RuleSetConfig, ExpressionErrorsPointAtTheLineAndColumnInTheFile) {
  // Plain scalar on the key's line.
  EXPECT_EQ(error_of("name: t\nrules:\n  - id: big\n    when: amout > 100 EUR\n    score: 0.5\n"),
            "rules.yaml:4:11: unknown name 'amout'; did you mean 'amount'? (rule 'big')");
  // Quoted scalar: the quote is skipped.
  EXPECT_EQ(error_of("name: t\nrules:\n  - id: q\n    when: \"tx_count_1m > 5m\"\n"
                     "    score: 0.5\n"),
            "rules.yaml:4:12: cannot compare number and duration (give the number a unit: 30s, "
            "5m, 24h, 90d) (rule 'q')");
  // Block scalar: the error is on the expression's second line.
  EXPECT_EQ(error_of("name: t\nrules:\n  - id: b\n    when: |\n      tx_count_1m > 3\n"
                     "      and new_devise\n    score: 0.5\n"),
            "rules.yaml:6:11: unknown name 'new_devise'; did you mean 'new_device'? (rule 'b')");
  // Flow mapping.
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: f, when: \"type == 'tranfer'\", score: 0.5}\n"),
            "rules.yaml:3:28: unknown transaction type 'tranfer'; did you mean 'transfer'? (rule "
            "'f')");
}

TEST(RuleSetConfig, ABadRuleRejectsTheWholeSet) {
  auto r = RuleSet::from_yaml_string(
      "name: t\nrules:\n  - {id: ok, when: tx_count_1m > 3, score: 0.5}\n"
      "  - {id: bad, when: \"tx_count_1m >\", score: 0.5}\n",
      "rules.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "rules.yaml:4:35: expected a value, found end of expression (rule 'bad')");
}

TEST(RuleSetConfig, MissingFileIsAnError) {
  auto r = RuleSet::from_file("/nonexistent/rules.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(
      r.error().message().rfind("/nonexistent/rules.yaml: cannot read the rule set file: ", 0), 0u)
      << r.error().message();
}

TEST(RuleSetConfig, ListsComeFromValuesAndFilesRelativeToTheRuleFile) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "lists");
  {
    std::ofstream(dir.path() / "lists/bad_merchants.txt")
        << "# one merchant id per line\nm-evil\n  m-worse  # trailing comment\n\n";
    std::ofstream(dir.path() / "rules.yaml")
        << "name: t\nlists:\n  bad: {file: lists/bad_merchants.txt, values: [m-extra]}\n"
           "rules:\n  - {id: deny, when: 'merchant_id in list(\"bad\")', action: block}\n";
  }
  auto r = RuleSet::from_file((dir.path() / "rules.yaml").string());
  ASSERT_TRUE(r.ok()) << r.error().message();
  Transaction tx;
  FeatureVector f;
  for (const char* m : {"m-evil", "m-worse", "m-extra"}) {
    tx.merchant_id = m;
    tx.finalize_keys();
    EXPECT_TRUE((*r)->fires(0, tx, f)) << m;
  }
  tx.merchant_id = "m-good";
  tx.finalize_keys();
  EXPECT_FALSE((*r)->fires(0, tx, f));

  auto missing = RuleSet::from_yaml_string(
      "name: t\nlists:\n  bad: {file: /nonexistent/list.txt}\nrules: []\n", "rules.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(
      missing.error().message().rfind(
          "rules.yaml:3:15: lists.bad.file: cannot read list file '/nonexistent/list.txt'", 0),
      0u)
      << missing.error().message();
  EXPECT_EQ(error_of("name: t\nlists: {bad: {values: [a]}}\nrules:\n"
                     "  - {id: x, when: 'merchant_id in list(\"bda\")', score: 0.5}\n"),
            "rules.yaml:4:40: unknown list 'bda'; did you mean 'bad'? (rule 'x')");
  EXPECT_EQ(error_of("name: t\nlists: {c: {values: [DE, Germany]}}\nrules:\n"
                     "  - {id: x, when: 'country in list(\"c\")', score: 0.5}\n"),
            "rules.yaml:4:36: list 'c': 'Germany' is not a country code: two upper-case letters "
            "(\"DE\") (rule 'x')");
}

TEST(RuleSetEvaluate, NoRuleFiresGivesAllowWithEmptyReasons) {
  Transaction tx;
  tx.amount = Money{1000, Currency::of("EUR")};
  FeatureVector f;
  f[FeatureId::kTxCount1m] = 3;
  f[FeatureId::kLocalHour] = 5;
  f[FeatureId::kSecondsSinceOtherCountry] = 3600;
  Decision d;
  d.reasons.push_back(Reason{"stale", "from a previous evaluation", 1});
  RuleSet::defaults()->evaluate(tx, f, d);
  EXPECT_EQ(d.action, Action::kAllow);
  EXPECT_EQ(d.score, 0);
  EXPECT_TRUE(d.reasons.empty());
  EXPECT_EQ(d.rule_set_version, RuleSet::defaults()->version());
}

TEST(RuleSetEvaluate, ActionsFollowThePolicyPrecedence) {
  auto set = RuleSet::from_yaml_string(R"(name: t
policy: {review_at: 0.5, block_at: 0.9}
rules:
  - {id: s, when: tx_count_1m >= 1, score: 0.6}
  - {id: r, when: tx_count_1m >= 2, action: review, score: 0.1}
  - {id: allow, when: tx_count_1m >= 3, action: allow}
  - {id: b, when: tx_count_1m >= 4, action: block, score: 0}
)",
                                       "t.yaml");
  ASSERT_TRUE(set.ok()) << set.error().message();
  Transaction tx;
  FeatureVector f;
  Decision d;
  auto run = [&](double count) {
    f[FeatureId::kTxCount1m] = count;
    (*set)->evaluate(tx, f, d);
    return d.action;
  };
  EXPECT_EQ(run(0), Action::kAllow);
  EXPECT_EQ(run(1), Action::kReview);  // 0.6 >= review_at
  EXPECT_NEAR(d.score, 0.6, 1e-12);
  EXPECT_EQ(run(2), Action::kReview);  // forced review, 1 - 0.4 * 0.9 = 0.64
  EXPECT_NEAR(d.score, 0.64, 1e-12);
  EXPECT_EQ(run(3), Action::kAllow);  // the allow list overrides score and review
  EXPECT_NEAR(d.score, 0.64, 1e-12);  // the score stays visible
  EXPECT_EQ(d.reasons.back().rule_id, "allow");
  EXPECT_EQ(run(4), Action::kBlock);  // block beats the allow list
  EXPECT_EQ(d.reasons.size(), 4u);
}

TEST(RuleSetEvaluate, ReasonsNameTheValuesTheRuleRead) {
  auto set = RuleSet::from_yaml_string(
      "name: t\nrules:\n  - {id: big, when: amount > 99.99 EUR and tx_count_1m >= 2 and "
      "merchant_id == \"m-1\", score: 0.5}\n",
      "t.yaml");
  ASSERT_TRUE(set.ok()) << set.error().message();
  Transaction tx;
  tx.amount = Money{10000, Currency::of("EUR")};
  tx.merchant_id = "m-1";
  tx.finalize_keys();
  FeatureVector f;
  f[FeatureId::kTxCount1m] = 2;
  Decision d;
  (*set)->evaluate(tx, f, d);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0].detail, "amount=100.00 EUR, tx_count_1m=2, merchant_id=\"m-1\"");
  tx.amount = Money{9999, Currency::of("EUR")};  // 99.99 is not above 99.99
  (*set)->evaluate(tx, f, d);
  EXPECT_TRUE(d.reasons.empty());
}

TEST(RuleSetEvaluate, ThePrefilterAgreesWithTheFullProgramOnEveryRule) {
  // Every comparison operator as a first guard, a bare true/false feature, rules without a
  // feature guard, at boundaries, NaN and infinities.
  auto set = RuleSet::from_yaml_string(R"(name: t
rules:
  - {id: gt, when: tx_count_1m > 3, score: 0.1}
  - {id: ge, when: tx_count_1m >= 3 and local_hour < 5, score: 0.1}
  - {id: lt, when: tx_count_1m < 3, score: 0.1}
  - {id: le, when: tx_count_1m <= 3.5, score: 0.1}
  - {id: eq, when: tx_count_1m == 3, score: 0.1}
  - {id: ne, when: tx_count_1m != 3, score: 0.1}
  - {id: flipped, when: 3 < tx_count_1m, score: 0.1}
  - {id: bool, when: new_device and local_hour >= 2, score: 0.1}
  - {id: between, when: local_hour between 1 and 4, score: 0.1}
  - {id: nofeature, when: 'mcc in [7995] or tx_count_1m > 100', score: 0.1}
  - {id: negative, when: amount_zscore > -2.5, score: 0.1}
)",
                                       "t.yaml");
  ASSERT_TRUE(set.ok()) << set.error().message();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> values = {0,   1,    2,    2.9999999, 3,   3.0000001, 3.5, 4,
                                      100, -2.5, -2.4, -3,        nan, inf,       -inf};
  Transaction tx;
  tx.mcc = 7995;
  FeatureVector f;
  Decision d;
  for (double count : values) {
    for (double hour : values) {
      for (double other : {0.0, 1.0, nan}) {
        f[FeatureId::kTxCount1m] = count;
        f[FeatureId::kLocalHour] = hour;
        f[FeatureId::kNewDevice] = other;
        f[FeatureId::kAmountZscore] = count;
        (*set)->evaluate(tx, f, d);
        std::set<std::string> fired;
        for (const Reason& r : d.reasons) fired.insert(r.rule_id);
        for (size_t i = 0; i < (*set)->rules().size(); ++i) {
          const std::string& id = (*set)->rules()[i].id;
          EXPECT_EQ(fired.count(id) == 1, (*set)->fires(i, tx, f))
              << id << " count=" << count << " hour=" << hour << " other=" << other;
        }
      }
    }
  }
}

TEST(RuleSetEvaluate, ThePrefilterAgreesWhenRulesShareAPrecondition) {
  // Families of rules that repeat a precondition and differ in one threshold: the prefilter
  // tests the check fewer rules share first. The order must not change which rules fire,
  // with the portable first-check pass and (where the CPU has it) the AVX2 one.
  const char* yaml = R"(name: t
rules:
  - {id: far3, when: has_prev_location and distance_from_prev_km >= 50 and speed_from_prev_kmh > 300, score: 0.1}
  - {id: far4, when: has_prev_location and distance_from_prev_km >= 50 and speed_from_prev_kmh > 400, score: 0.1}
  - {id: far5, when: distance_from_prev_km >= 50 and has_prev_location and speed_from_prev_kmh > 500, score: 0.1}
  - {id: web3, when: 'channel == "ecommerce" and amount_zscore > 3', score: 0.1}
  - {id: web4, when: 'channel == "ecommerce" and amount_zscore > 4', score: 0.1}
  - {id: web_only, when: 'channel == "ecommerce"', score: 0.1}
  - {id: eur, when: 'amount > 500 EUR and local_hour between 3 and 4', score: 0.1}
  - {id: eur2, when: 'amount > 500 EUR and local_hour between 4 and 5', score: 0.1}
)";
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const bool wide : {true, false}) {
    RuleSet::set_wide_prefilter(wide);
    auto set = RuleSet::from_yaml_string(yaml, "t.yaml");
    RuleSet::set_wide_prefilter(true);
    ASSERT_TRUE(set.ok()) << set.error().message();
    Transaction tx;
    FeatureVector f;
    Decision d;
    size_t fired_total = 0;
    for (double x : {0.0, 1.0, 3.0, 4.0, 4.5, 5.0, 50.0, 301.0, 450.0, 501.0, nan}) {
      for (double y : {0.0, 1.0, 3.5, 4.0, 4.5, 50.0, 350.0, 600.0, nan}) {
        for (const Channel ch : {Channel::kEcommerce, Channel::kPos}) {
          for (const int64_t minor : {50000, 50001}) {
            f[FeatureId::kHasPrevLocation] = x == 0 ? 0 : 1;
            f[FeatureId::kDistanceFromPrevKm] = x;
            f[FeatureId::kSpeedFromPrevKmh] = y;
            f[FeatureId::kAmountZscore] = y;
            f[FeatureId::kLocalHour] = x;
            tx.channel = ch;
            tx.amount = Money{minor, Currency::of("EUR")};
            (*set)->evaluate(tx, f, d);
            std::set<std::string> fired;
            for (const Reason& r : d.reasons) fired.insert(r.rule_id);
            for (size_t i = 0; i < (*set)->rules().size(); ++i) {
              const std::string& id = (*set)->rules()[i].id;
              const bool expected = (*set)->fires(i, tx, f);
              EXPECT_EQ(fired.count(id) == 1, expected)
                  << id << " x=" << x << " y=" << y << " wide=" << wide;
              fired_total += expected ? 1 : 0;
            }
          }
        }
      }
    }
    EXPECT_GT(fired_total, 100u);  // the grid reaches every rule family
  }
}

TEST(RuleSetEvaluate, ThePrefilterAgreesOnCodesMoneyAndLaterGuards) {
  // The prefilter checks every top-level guard of one value against constants: enumerated
  // codes, amounts (one currency and any-of chains) and features in any position. Amounts are
  // checked as doubles, so values around 2^53 and the int64 limits must still agree.
  auto set = RuleSet::from_yaml_string(R"(name: t
lists:
  l: {values: [m-1]}
rules:
  - {id: type_eq, when: 'type == "transfer"', score: 0.1}
  - {id: chan_ne, when: 'channel != "ecommerce" and tx_count_1m > 1', score: 0.1}
  - {id: currency, when: 'currency == "EUR"', score: 0.1}
  - {id: country, when: 'country == "DE" and amount >= 100 EUR', score: 0.1}
  - {id: gt, when: 'amount > 100 EUR', score: 0.1}
  - {id: lt, when: 'amount < 100 EUR', score: 0.1}
  - {id: le, when: 'amount <= 100 EUR', score: 0.1}
  - {id: eq, when: 'amount == 100 EUR', score: 0.1}
  - {id: ne, when: 'amount != 100 EUR', score: 0.1}
  - {id: any, when: 'amount > 100 EUR or amount > 50 USD', score: 0.1}
  - {id: any_one_currency, when: 'amount < 1 EUR or amount <= 2 EUR', score: 0.1}
  - {id: any_eq, when: 'amount == 1 EUR or amount == 3 USD', score: 0.1}
  - {id: big, when: 'amount > 90071992547409.93 EUR', score: 0.1}
  - {id: big_eq, when: 'amount == 90071992547409.93 EUR', score: 0.1}
  - {id: later, when: 'merchant_id in list("l") and tx_count_1m >= 2 and amount > 5 EUR', score: 0.1}
  - {id: mixed, when: 'tx_count_1m + 1 > 2 and type != "deposit" and local_hour < 5', score: 0.1}
)",
                                       "t.yaml");
  ASSERT_TRUE(set.ok()) << set.error().message();
  const int64_t two53 = int64_t{1} << 53;
  const std::vector<int64_t> minors = {0,
                                       -1,
                                       99,
                                       100,
                                       101,
                                       199,
                                       200,
                                       201,
                                       5000,
                                       9999,
                                       10000,
                                       10001,
                                       two53 - 1,
                                       two53,
                                       two53 + 1,
                                       two53 + 2,
                                       two53 + 3,
                                       std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
  const std::vector<Currency> currencies = {Currency::of("EUR"), Currency::of("USD"), Currency{}};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Transaction tx;
  tx.merchant_id = "m-1";
  tx.finalize_keys();
  FeatureVector f;
  Decision d;
  int checked = 0;
  for (int type = 0; type < kTxTypeCount; ++type) {
    for (int channel = 0; channel < kChannelCount; ++channel) {
      for (const char* country : {"DE", "FR"}) {
        for (const Currency cur : currencies) {
          for (const int64_t minor : minors) {
            for (const double count : {1.0, 2.0, nan, inf, -inf}) {
              tx.type = static_cast<TxType>(type);
              tx.channel = static_cast<Channel>(channel);
              tx.country = *Country::parse(country);
              tx.amount = Money{minor, cur};
              f[FeatureId::kTxCount1m] = count;
              f[FeatureId::kLocalHour] = count;
              (*set)->evaluate(tx, f, d);
              std::set<std::string> fired;
              for (const Reason& r : d.reasons) fired.insert(r.rule_id);
              for (size_t i = 0; i < (*set)->rules().size(); ++i) {
                const std::string& id = (*set)->rules()[i].id;
                const bool full = (*set)->fires(i, tx, f);
                checked += full ? 1 : 0;
                ASSERT_EQ(fired.count(id) == 1, full)
                    << id << " type=" << type << " channel=" << channel << " country=" << country
                    << " minor=" << minor << " currency=" << cur.packed() << " count=" << count;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);  // the rules do fire, so agreement is not vacuous
}

TEST(RuleSetStats, CountsHitsPerRuleAndPerHourAcrossShards) {
  auto set = RuleSet::from_yaml_string(R"(name: t
rules:
  - {id: a, when: tx_count_1m >= 1, score: 0.1}
  - {id: b, when: tx_count_1m >= 2, score: 0.1}
  - {id: off, when: true, score: 0.1, enabled: false}
)",
                                       "t.yaml");
  ASSERT_TRUE(set.ok());
  Transaction tx;
  FeatureVector f;
  Decision d;
  const Timestamp h0 = 1'700'000'000LL * 1'000'000 / kMicrosPerHour * kMicrosPerHour;
  f[FeatureId::kTxCount1m] = 2;
  tx.ts = h0 + 10;
  (*set)->evaluate(tx, f, d, 0);
  (*set)->evaluate(tx, f, d, 1);
  tx.ts = h0 + kMicrosPerHour + 5;
  f[FeatureId::kTxCount1m] = 1;
  (*set)->evaluate(tx, f, d, 1);
  (*set)->evaluate(tx, f, d, 17);  // shares slot 1 with shard 1
  const std::vector<RuleHits> hits = (*set)->hits();
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, "a");
  EXPECT_EQ(hits[0].total, 4u);
  EXPECT_EQ(hits[0].last_hour, 2u);
  ASSERT_EQ(hits[0].per_hour.size(), 2u);
  EXPECT_EQ(hits[0].per_hour[0], (std::pair<Timestamp, uint64_t>{h0, 2}));
  EXPECT_EQ(hits[0].per_hour[1], (std::pair<Timestamp, uint64_t>{h0 + kMicrosPerHour, 2}));
  EXPECT_EQ(hits[1].total, 2u);
  EXPECT_EQ(hits[1].last_hour, 0u);
  EXPECT_EQ(hits[2].total, 0u);  // disabled
  // 24 hours later the first hour's bucket is reused and the old hour drops out.
  tx.ts = h0 + 24 * kMicrosPerHour;
  (*set)->evaluate(tx, f, d, 0);
  const std::vector<RuleHits> later = (*set)->hits();
  EXPECT_EQ(later[0].total, 5u);
  ASSERT_EQ(later[0].per_hour.size(), 2u);
  EXPECT_EQ(later[0].per_hour[0].first, h0 + kMicrosPerHour);
  EXPECT_EQ(later[0].per_hour[1], (std::pair<Timestamp, uint64_t>{h0 + 24 * kMicrosPerHour, 1}));
}

}  // namespace
}  // namespace fw
