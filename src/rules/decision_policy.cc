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

PolicyDecision decide(const PolicyInputs& in, const DecisionPolicy& policy,
                      const ModelPolicy& model) {
  // Comparisons with NaN are false, so a missing score or an unset threshold never fires.
  auto reaches = [](double score, double threshold) { return score >= threshold - kScoreEpsilon; };
  double score = in.rule_score;
  if (model.anomaly_weight > 0 && in.anomaly_score >= 0) {
    score = 1 - combine_keep(1 - score, std::fmin(1.0, model.anomaly_weight * in.anomaly_score));
  }
  PolicyDecision out;
  out.score = in.model_score > score ? in.model_score : score;
  if (in.force_block) {
    out.action = Action::kBlock;
  } else if (in.allow_listed) {
    out.action = Action::kAllow;
  } else if (reaches(score, policy.block_at) || reaches(in.model_score, model.block_at)) {
    out.action = Action::kBlock;
  } else if (in.force_review || reaches(score, policy.review_at) ||
             reaches(in.model_score, model.review_at) ||
             reaches(in.anomaly_score, model.anomaly_review_at)) {
    out.action = Action::kReview;
  } else {
    out.action = Action::kAllow;
  }
  return out;
}

}  // namespace fw
