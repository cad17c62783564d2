#include "rules/rule_set.h"

#include <gtest/gtest.h>

#include <fstream>
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
  ASSERT_EQ(d->rules().size(), 4u);
  EXPECT_EQ(d->rules()[0].kind, RuleKind::kLargeAmount);
  EXPECT_EQ(d->rules()[0].params.threshold_milli, 10'000'000);
  EXPECT_EQ(d->rules()[1].params.max_count, 3);
  EXPECT_EQ(d->rules()[3].params.max_speed_kmh, 900);
  EXPECT_EQ(d->rules()[3].params.country_change_seconds, 3600);
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

TEST(RuleSetConfig, ErrorsNameTheFileTheKeyAndTheProblem) {
  EXPECT_EQ(error_of(R"(name: t
rules:
  - {id: velocity, score: 0.5}
  - {id: unusual_hour, score: 0.2}
  - {id: large_amount, score: 1.5}
)"),
            "rules.yaml: rules[2].score: must be between 0 and 1, got 1.5");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: velocity, scroe: 0.5}\n"),
            "rules.yaml: rules[0].scroe: unknown key 'scroe' (expected one of: id, description, "
            "enabled, score, action, params)");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: speeding, score: 0.5}\n"),
            "rules.yaml: rules[0].id: unknown rule id 'speeding' (known: large_amount, velocity, "
            "unusual_hour, impossible_travel)");
  EXPECT_EQ(error_of("name: t\npolicy: {review_at: 0.5, blok_at: 0.9}\nrules: []\n"),
            "rules.yaml: policy.blok_at: unknown key 'blok_at' (expected one of: review_at, "
            "block_at)");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: velocity, score: 0.5, params: {max_cnt: 3}}\n"),
            "rules.yaml: rules[0].params.max_cnt: unknown key 'max_cnt' (expected one of: "
            "max_count)");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: velocity, score: 0.5, params: {max_count: 9}}\n"),
            "rules.yaml: rules[0].params.max_count: must be between 1 and 8, got 9");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: velocity, score: high}\n"),
            "rules.yaml: rules[0].score: must be a number, got 'high'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: velocity, score: 0.5, action: deny}\n"),
            "rules.yaml: rules[0].action: must be 'review' or 'block', got 'deny'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: velocity, score: 0.5}\n  - {id: velocity, "
                     "score: 0.1}\n"),
            "rules.yaml: rules[1].id: duplicate rule id 'velocity'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: velocity}\n"),
            "rules.yaml: rules[0].score: is required: a number between 0 and 1");
  EXPECT_EQ(error_of("name: t\npolicy: {review_at: 0.95}\nrules: []\n"),
            "rules.yaml: policy.review_at: must not be above block_at (0.9), got 0.95");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: large_amount, score: 0.5, params: {threshold: "
                     "\"10.0001\"}}\n"),
            "rules.yaml: rules[0].params.threshold: must be a decimal amount in major units with "
            "at most 3 decimals, got '10.0001'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: large_amount, score: 0.5, params: "
                     "{currency_thresholds: {EURO: 5}}}\n"),
            "rules.yaml: rules[0].params.currency_thresholds.EURO: currency must be a "
            "three-letter ISO 4217 code, got 'EURO'");
  EXPECT_EQ(error_of("name: t\nrules:\n  - {id: unusual_hour, score: 0.5, params: {from_hour: 3, "
                     "to_hour: 3}}\n"),
            "rules.yaml: rules[0].params.to_hour: must differ from from_hour (3): the range would "
            "be empty or the whole day");
  EXPECT_EQ(error_of("rules: []\n"),
            "rules.yaml: name: is required: a short name for this rule set, e.g. 'default'");
  EXPECT_EQ(error_of("name: t\n"),
            "rules.yaml: rules: is required: a list of rules (id, score, ...)");
  EXPECT_EQ(error_of("name: t\nextra: 1\nrules: []\n"),
            "rules.yaml: extra: unknown key 'extra' (expected one of: name, policy, rules)");
  std::string bad_yaml = error_of("name: t\nrules: [\n");
  EXPECT_EQ(bad_yaml.rfind("rules.yaml: invalid YAML at line ", 0), 0u) << bad_yaml;
}

TEST(RuleSetConfig, MissingFileIsAnError) {
  auto r = RuleSet::from_file("/nonexistent/rules.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "/nonexistent/rules.yaml: cannot open the rule set file: check the path and its "
            "permissions");
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

TEST(RuleSetEvaluate, ThresholdIsComparedInTheCurrencysMinorUnits) {
  auto set = RuleSet::from_yaml_string(
      "name: t\nrules:\n  - {id: large_amount, score: 0.5, params: {threshold: \"99.995\"}}\n",
      "t.yaml");
  ASSERT_TRUE(set.ok()) << set.error().message();
  Transaction tx;
  FeatureVector f;
  Decision d;
  tx.amount = Money{9999, Currency::of("EUR")};  // 99.99 <= 99.995
  (*set)->evaluate(tx, f, d);
  EXPECT_TRUE(d.reasons.empty());
  tx.amount = Money{10000, Currency::of("EUR")};  // 100.00 > 99.995
  (*set)->evaluate(tx, f, d);
  ASSERT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0].detail, "amount 100.00 EUR above 99.995 EUR");
  EXPECT_EQ(d.action, Action::kReview);
}

}  // namespace
}  // namespace fw
