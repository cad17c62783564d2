// RuleSet: the first, compiled-in fraud rules (large_amount, velocity, unusual_hour,
// impossible_travel) with thresholds, scores and the decision policy loaded from YAML
// (config/rules.yaml, docs/rules.md). Immutable after load and shared by all shards through
// shared_ptr<const RuleSet>; evaluate() is const and thread-safe. A reload builds a new RuleSet
// and swaps the pointer. The later rule language adds kinds next to the compiled-in ones.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "features/schema.h"
#include "model/decision.h"
#include "model/transaction.h"

namespace fw {

enum class RuleKind : uint8_t { kLargeAmount, kVelocity, kUnusualHour, kImpossibleTravel };
inline constexpr int kRuleKindCount = 4;

// The rule id of a compiled-in kind: "large_amount", "velocity", ...
std::string_view rule_kind_id(RuleKind kind);

// Parameters of every kind; each rule reads only its own kind's fields (docs/rules.md).
struct RuleParams {
  // large_amount: fires when amount > threshold (exact, compared in minor units).
  int64_t threshold_milli = 10'000'000;  // major units x 1000 (10000.000)
  std::vector<std::pair<Currency, int64_t>> currency_threshold_milli;  // overrides per currency
  // velocity: fires when tx_count_1m > max_count.
  int max_count = 3;
  // unusual_hour: fires when local_hour is in [from_hour, to_hour) (wrapping past midnight).
  int from_hour = 1;
  int to_hour = 5;
  // impossible_travel: speed above max_speed_kmh over at least min_distance_km, or a country
  // change less than country_change_seconds after a transaction in another country.
  double max_speed_kmh = 900;
  double min_distance_km = 50;
  double country_change_seconds = 3600;
};

struct Rule {
  std::string id;  // == rule_kind_id(kind) for compiled-in kinds
  RuleKind kind = RuleKind::kLargeAmount;
  std::string description;
  bool enabled = true;
  double score = 0;             // contribution in [0, 1]
  std::optional<Action> force;  // kReview or kBlock when the rule forces an action
  RuleParams params;
};

class RuleSet {
 public:
  // Parses and validates a rule set. source_name names the input in errors
  // ("rules.yaml: rules[2].score: must be between 0 and 1, got 1.5").
  static Result<std::shared_ptr<const RuleSet>> from_yaml_string(std::string_view yaml,
                                                                 std::string_view source_name);
  static Result<std::shared_ptr<const RuleSet>> from_file(const std::string& path);
  // The built-in default, identical to config/rules.yaml. Parsed once; never fails.
  static std::shared_ptr<const RuleSet> defaults();
  // The text of the built-in default rule set.
  static std::string_view default_yaml();

  // Fills out.score, out.action, out.reasons and out.rule_set_version. Allocates nothing when
  // no rule fires and `out` is reused (its rule_set_version already has the capacity);
  // allocates only the reasons of fired rules.
  void evaluate(const Transaction& tx, const FeatureVector& features, Decision& out) const;

  // "<name>@<first 12 hex digits of a 64-bit hash of the YAML text>".
  const std::string& version() const { return version_; }
  const std::string& name() const { return name_; }
  const std::vector<Rule>& rules() const { return rules_; }
  double review_at() const { return review_at_; }
  double block_at() const { return block_at_; }

 private:
  RuleSet() = default;

  std::string name_;
  std::string version_;
  std::vector<Rule> rules_;  // in file order; disabled rules are kept but skipped
  double review_at_ = 0.5;
  double block_at_ = 0.9;
};

}  // namespace fw
