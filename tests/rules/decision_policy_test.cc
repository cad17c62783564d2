#include "rules/decision_policy.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fw {
namespace {

// The model-aware policy, case by case, in the precedence order of decision_policy.h.
TEST(DecisionPolicy, ModelAndAnomalyScoresJoinTheRulesInPrecedenceOrder) {
  const DecisionPolicy rules{0.5, 0.9};
  ModelPolicy model = default_model_policy(0.6);
  EXPECT_DOUBLE_EQ(model.review_at, 0.6);
  EXPECT_DOUBLE_EQ(model.block_at, 0.8);
  EXPECT_TRUE(std::isnan(model.anomaly_review_at));

  PolicyInputs in;
  in.rule_score = 0.1;
  in.model_score = 0.3;
  EXPECT_EQ(decide(in, rules, model).action, Action::kAllow);
  EXPECT_DOUBLE_EQ(decide(in, rules, model).score, 0.3);  // max(rules, model)
  in.model_score = 0.6;
  EXPECT_EQ(decide(in, rules, model).action, Action::kReview);
  in.model_score = 0.85;
  EXPECT_EQ(decide(in, rules, model).action, Action::kBlock);
  in.allow_listed = true;  // an allow list beats the model
  EXPECT_EQ(decide(in, rules, model).action, Action::kAllow);
  in.force_block = true;  // a block rule beats the allow list
  EXPECT_EQ(decide(in, rules, model).action, Action::kBlock);

  // No model (NaN): only the rules decide, as in the rules-only policy.
  PolicyInputs none;
  none.rule_score = 0.55;
  EXPECT_EQ(decide(none, rules, model).action, Action::kReview);
  EXPECT_DOUBLE_EQ(decide(none, rules, model).score, 0.55);
  none.rule_score = 0.2;
  EXPECT_EQ(decide(none, rules, model).action, decide(none, rules).action);

  // Anomaly: its own REVIEW threshold, and its weight as one more scoring rule.
  PolicyInputs odd;
  odd.anomaly_score = 0.7;
  EXPECT_EQ(decide(odd, rules, model).action, Action::kAllow);  // off by default
  model.anomaly_review_at = 0.65;
  EXPECT_EQ(decide(odd, rules, model).action, Action::kReview);
  model.anomaly_review_at = NAN;
  model.anomaly_weight = 1;
  odd.rule_score = 0.5;  // 1 - (1 - 0.5)(1 - 0.7) = 0.85: REVIEW by the rule thresholds
  EXPECT_NEAR(decide(odd, rules, model).score, 0.85, 1e-12);
  EXPECT_EQ(decide(odd, rules, model).action, Action::kReview);
  odd.anomaly_score = 0.8;  // 0.9: BLOCK
  EXPECT_EQ(decide(odd, rules, model).action, Action::kBlock);
}

}  // namespace
}  // namespace fw
