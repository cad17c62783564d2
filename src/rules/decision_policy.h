// The decision policy: the ONE place where what the rules found becomes a score and an action.
// Rules only report an outcome (combined score, forced actions, allow-list match); decide()
// turns it into ALLOW / REVIEW / BLOCK. A model score and an anomaly score join here next
// (issue 4): add fields to PolicyInputs and the thresholds to DecisionPolicy, and keep the
// precedence below in this file and docs/rules.md in step. Pure values and functions;
// thread-safe.
#pragma once

#include "model/decision.h"

namespace fw {

// What the rules of one rule set concluded about one transaction.
struct PolicyInputs {
  double rule_score = 0;      // 1 - prod(1 - score) over the fired scoring rules, in [0, 1]
  bool force_block = false;   // a fired rule has action: block
  bool force_review = false;  // a fired rule has action: review
  bool allow_listed = false;  // a fired rule has action: allow (allow-list override)
};

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

// Combines one more fired rule's score into a running "keep" product: keep *= (1 - score);
// the combined score is 1 - keep.
inline double combine_keep(double keep, double score) { return keep * (1 - score); }

}  // namespace fw
