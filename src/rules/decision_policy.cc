#include "rules/decision_policy.h"

namespace fw {
namespace {

// Scores are products of doubles; a score within this of a threshold counts as reaching it
// (1 - 0.5 * 0.2 must be 0.9).
constexpr double kScoreEpsilon = 1e-9;

}  // namespace

PolicyDecision decide(const PolicyInputs& in, const DecisionPolicy& policy) {
  PolicyDecision out;
  out.score = in.rule_score;
  if (in.force_block) {
    out.action = Action::kBlock;
  } else if (in.allow_listed) {
    out.action = Action::kAllow;
  } else if (in.rule_score >= policy.block_at - kScoreEpsilon) {
    out.action = Action::kBlock;
  } else if (in.force_review || in.rule_score >= policy.review_at - kScoreEpsilon) {
    out.action = Action::kReview;
  } else {
    out.action = Action::kAllow;
  }
  return out;
}

}  // namespace fw
