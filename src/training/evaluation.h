// Evaluation of a fraud model on a replayed dataset: ranking quality (ROC AUC, PR AUC), the
// confusion matrix and precision / recall / F1 at the model's threshold, recall at fixed
// false-positive rates, account precision@k per day, per-pattern recall (simulated data), and
// the ROC and PR curves. Rendered as JSON, SVG charts and a terminal table. Pure functions;
// thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scoring/tree_model.h"
#include "training/dataset.h"
#include "training/metrics.h"

namespace fw {

struct PatternRecall {
  uint64_t frauds = 0;
  uint64_t caught = 0;  // score >= threshold
  double recall() const { return frauds ? double(caught) / double(frauds) : 0; }
};

struct EvaluationReport {
  size_t rows = 0;
  uint64_t positives = 0;
  Timestamp from = 0, to = 0;  // first and last row time
  double threshold = 0.5;
  double roc_auc = 0;
  double average_precision = 0;
  Confusion at_threshold;
  std::vector<std::pair<double, double>> recall_at_fpr;  // (max FPR, recall)
  size_t k = 100;
  PrecisionAtK precision_at_k;
  std::map<std::string, PatternRecall> by_pattern;  // frauds by fraud_pattern ("" = unnamed)
  // Curves, thinned to at most ~200 points: (fpr, tpr) and (recall, precision).
  std::vector<std::pair<double, double>> roc, pr;
  // The Isolation Forest's anomaly score on the same rows, when the model folder has one.
  std::optional<double> anomaly_roc_auc, anomaly_average_precision;
};

// Scores rows [begin, end) of data with `scores` (one per row of the range).
EvaluationReport evaluate_scores(const Dataset& data, size_t begin, size_t end,
                                 std::span<const float> scores, double threshold, size_t k);
// Scores every row of data with model.
std::vector<float> score_rows(const TreeModel& model, const Dataset& data, size_t begin,
                              size_t end);

nlohmann::json report_to_json(const EvaluationReport& r);
// The terminal table.
std::string report_table(const EvaluationReport& r);
// A small self-contained SVG line chart of points in [0,1]^2.
std::string curve_svg(const std::vector<std::pair<double, double>>& points,
                      const std::string& title, const std::string& x_label,
                      const std::string& y_label);

}  // namespace fw
