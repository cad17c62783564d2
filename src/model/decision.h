// Decision and Alert: what the engine concluded about one transaction, and why.
// Value types produced on a shard thread and handed to sinks.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "model/transaction.h"

namespace fw {

enum class Action : uint8_t { kAllow = 0, kReview = 1, kBlock = 2 };
std::string_view to_string(Action a);                    // "ALLOW", "REVIEW", "BLOCK"
std::optional<Action> parse_action(std::string_view s);  // the inverse of to_string

// One reason a decision was made: the rule that fired and a human-readable detail.
struct Reason {
  std::string rule_id;  // e.g. "velocity_1m"
  std::string detail;   // e.g. "5 transactions in the last 60 s (limit 3)"
  double score = 0;     // this rule's contribution
};

// One feature's share of a model score, in log-odds (margin) units: the feature's name as in
// docs/features.md and its contribution (positive = towards fraud).
struct FeatureContribution {
  std::string feature;
  double value = 0;
};

struct Decision {
  std::string transaction_id;
  Timestamp decided_at = 0;
  double score = 0;  // risk in [0, 1]
  Action action = Action::kAllow;
  std::vector<Reason> reasons;
  std::string rule_set_version;
  int64_t latency_ns = 0;  // time inside the engine, from dequeue to decision
  // The models' part (docs/models.md). NaN / empty when no model (forest, shadow) was loaded.
  double model_score = NAN;    // the champion model's probability of fraud
  double shadow_score = NAN;   // the shadow model's, recorded only
  double anomaly_score = NAN;  // the Isolation Forest's, in (0, 1]
  std::string model_version;   // the champion's registry version
  // REVIEW and BLOCK decisions with a model: its top 5 feature contributions, largest |value|
  // first (path attribution; with the model's bias they add up to its margin).
  std::vector<FeatureContribution> contributions;
};

enum class AlertStatus : uint8_t { kOpen, kInvestigating, kClosed };
std::string_view to_string(AlertStatus s);  // "open", "investigating", "closed"
std::optional<AlertStatus> parse_alert_status(std::string_view s);  // the inverse

// Created for every REVIEW and BLOCK decision.
struct Alert {
  std::string transaction_id;
  std::string account_id;
  Timestamp created_at = 0;
  Action action = Action::kReview;
  double score = 0;
  std::string summary;  // the reasons, joined for a one-line view
  AlertStatus status = AlertStatus::kOpen;
};

// A transaction together with its decision, as handed from the engine to sinks.
struct Scored {
  Transaction tx;
  Decision decision;
};

}  // namespace fw
