// The decision policy: the ONE place where what the rules found, the model's score and the
// anomaly score become a score and an action. Rules only report an outcome (combined score,
// forced actions, allow-list match); the engine adds the model and anomaly scores; decide()
// turns them into ALLOW / REVIEW / BLOCK. Keep the precedence below in this file,
// docs/rules.md and docs/models.md in step. Pure values and functions; thread-safe.
#pragma once

#include <cmath>

#include "model/decision.h"

namespace fw {

// What the rules of one rule set concluded about one transaction.
struct PolicyInputs {
  double rule_score = 0;       // 1 - prod(1 - score) over the fired scoring rules, in [0, 1]
  bool force_block = false;    // a fired rule has action: block
  bool force_review = false;   // a fired rule has action: review
  bool allow_listed = false;   // a fired rule has action: allow (allow-list override)
  double model_score = NAN;    // the champion model's probability of fraud; NaN: no model
  double anomaly_score = NAN;  // the Isolation Forest's score in (0, 1]; NaN: no forest
};

// Thresholds for the model and anomaly scores, from the `model_policy:` section of the
// config (docs/models.md) and the model's own threshold. A NaN threshold never fires.
struct ModelPolicy {
  double review_at = NAN;  // REVIEW when model_score >= this (default: the model's threshold)
  double block_at = NAN;   // BLOCK when model_score >= this
  double anomaly_review_at = NAN;  // REVIEW when anomaly_score >= this (default: off)
  // The anomaly score joins the rule score as one more scoring rule of score
  // anomaly_weight * anomaly_score (0 = it does not count towards the rule thresholds).
  double anomaly_weight = 0;
};

// The model policy's defaults for a model with this chosen threshold: REVIEW at the threshold,
// BLOCK halfway between it and 1.
inline ModelPolicy default_model_policy(double threshold) {
  ModelPolicy p;
  p.review_at = threshold;
  p.block_at = threshold + (1 - threshold) / 2;
  return p;
}

// Thresholds, from the rule set's `policy:` section.
struct DecisionPolicy {
  double review_at = 0.5;  // REVIEW at or above this score
  double block_at = 0.9;   // BLOCK at or above this score
};

struct PolicyDecision {
  double score = 0;
  Action action = Action::kAllow;
};

// Precedence, strongest first:
//   1. force_block            -> BLOCK  (deny lists and hard rules beat everything)
//   2. allow_listed           -> ALLOW  (an allow list overrides scores and forced reviews)
//   3. score >= block_at      -> BLOCK
//   4. force_review or score >= review_at -> REVIEW
//   5. otherwise              -> ALLOW
// The reported score is rule_score in every case (an allow-listed transaction keeps its score,
// so analysts can see what the allow list overrode).
PolicyDecision decide(const PolicyInputs& in, const DecisionPolicy& policy);

// With a model and/or an anomaly score (the engine's path). `score` below is rule_score
// combined with anomaly_weight * anomaly_score (as one more fired scoring rule):
//   1. force_block                                   -> BLOCK
//   2. allow_listed                                  -> ALLOW (beats the model too)
//   3. score >= block_at or model_score >= model.block_at -> BLOCK
//   4. force_review or score >= review_at or model_score >= model.review_at
//      or anomaly_score >= model.anomaly_review_at   -> REVIEW
//   5. otherwise                                     -> ALLOW
// The reported score is max(score, model_score). NaN scores and thresholds never fire.
PolicyDecision decide(const PolicyInputs& in, const DecisionPolicy& policy,
                      const ModelPolicy& model);

// Combines one more fired rule's score into a running "keep" product: keep *= (1 - score);
// the combined score is 1 - keep.
inline double combine_keep(double keep, double score) { return keep * (1 - score); }

}  // namespace fw
