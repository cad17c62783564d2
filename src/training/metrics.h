// Binary classification metrics for fraud scores: ROC AUC, average precision (PR AUC), the
// confusion matrix and precision / recall / F1 at a threshold, recall at fixed false-positive
// rates, threshold selection, account precision@k per day and per-pattern recall. Definitions
// follow scikit-learn's (roc_auc_score, average_precision_score), which the tests check.
// Pure functions over caller-owned arrays; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace fw {

// One point per distinct score, from the highest threshold down: flagged = score >= threshold.
struct CurvePoint {
  double threshold;
  uint64_t tp, fp;
};

// Cumulative counts at each distinct score (descending). labels: 1 fraud, 0 legit.
std::vector<CurvePoint> score_curve(std::span<const float> scores, std::span<const float> labels);

// Area under the ROC curve (trapezoids between distinct thresholds, ties count half);
// 0.5 when only one class is present.
double roc_auc(const std::vector<CurvePoint>& curve);
// Average precision: sum over distinct thresholds of (R_n - R_{n-1}) * P_n; 0 with no positives.
double average_precision(const std::vector<CurvePoint>& curve);
// Highest recall with false-positive rate <= max_fpr.
double recall_at_fpr(const std::vector<CurvePoint>& curve, double max_fpr);

struct Confusion {
  uint64_t tp = 0, fp = 0, fn = 0, tn = 0;
  double precision() const { return tp + fp ? double(tp) / double(tp + fp) : 0; }
  double recall() const { return tp + fn ? double(tp) / double(tp + fn) : 0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0;
  }
  double fpr() const { return fp + tn ? double(fp) / double(fp + tn) : 0; }
};
Confusion confusion_at(std::span<const float> scores, std::span<const float> labels,
                       double threshold);

// How the decision threshold is chosen on validation scores.
struct ThresholdPolicy {
  enum class Kind { kBestF1, kTargetPrecision, kCost } kind = Kind::kBestF1;
  double target_precision = 0.9;   // kTargetPrecision: highest recall with precision >= this
  double cost_false_positive = 1;  // kCost: minimise fp * cost_fp + fn * cost_fn
  double cost_false_negative = 20;
  std::string describe() const;
};
// Parses "f1", "precision:0.9" or "cost:FP,FN" (errors name `field`).
Result<ThresholdPolicy> parse_threshold_policy(const std::string& text, const std::string& field);
// The threshold the policy picks on this curve (a score; flagged = score >= it). With no
// positives (or no threshold meeting a target precision) returns the highest score + epsilon,
// i.e. flag nothing.
double choose_threshold(const std::vector<CurvePoint>& curve, const ThresholdPolicy& policy);

// k alerts per day: per UTC day, accounts are ranked by their highest score that day and the k
// best are alerts; precision is the share of alerted accounts with a fraud that day. Returns the
// mean over days with at least one account, and the number of such days.
struct PrecisionAtK {
  double mean = 0;
  size_t days = 0;
};
PrecisionAtK account_precision_at_k(std::span<const float> scores, std::span<const float> labels,
                                    std::span<const Timestamp> ts,
                                    std::span<const uint64_t> accounts, size_t k);

}  // namespace fw
