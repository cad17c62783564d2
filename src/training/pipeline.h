// The two offline jobs behind `fraudwatch train` and `fraudwatch evaluate`, as library calls so
// tests run them without the CLI: replay the history into a dataset, train (or load) a model,
// choose the threshold, evaluate, and write the model folder and report. Blocking calls on the
// calling thread; progress goes to the `log` callback (one line per call).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "scoring/isolation_forest.h"
#include "training/dataset.h"
#include "training/evaluation.h"
#include "training/metrics.h"
#include "training/trainer.h"

namespace fw {

struct TrainJob {
  DatasetOptions data;
  TrainOptions train;
  ThresholdPolicy threshold;
  size_t k = 100;  // alerts per day for account precision@k
  std::string out_dir;
  std::function<void(const std::string&)> log;
  // Also train an Isolation Forest on the training rows' features and save it as
  // isolation_forest.json (training/anomaly.h); its validation ROC AUC joins the report.
  bool anomaly = true;
  IsolationForestOptions forest;
  // Also give the model the forest's score as an extra input column (kAnomalyColumn): the
  // forest is trained first (on the same training rows), every row gets its score, and the
  // engine computes it before the model at serving time. Requires `anomaly`.
  bool anomaly_feature = false;
};

struct TrainJobResult {
  TrainResult train;
  // At the chosen threshold: on the validation rows (time split) or on every row's out-of-fold
  // score (k-fold).
  EvaluationReport validation;
  uint64_t rows = 0;
};

// Writes out_dir/{model.json, metadata.json, evaluation.json, roc.svg, pr.svg} and, with
// `anomaly`, isolation_forest.json (without it, removes a stale one).
Result<TrainJobResult> run_train_job(const TrainJob& job);

struct EvaluateJob {
  std::string model;  // a model folder or XGBoost JSON file
  DatasetOptions data;
  double threshold = -1;  // < 0: the model's own
  size_t k = 100;
  std::string out_dir;  // optional: evaluation.json, roc.svg, pr.svg
  std::function<void(const std::string&)> log;
};

Result<EvaluationReport> run_evaluate_job(const EvaluateJob& job);

// Mean and standard deviation of the k-fold metrics, and a one-line summary of them.
struct FoldSummary {
  double roc_auc_mean = 0, roc_auc_std = 0;
  double average_precision_mean = 0, average_precision_std = 0;
};
FoldSummary summarize_folds(const std::vector<FoldMetrics>& folds);
std::string fold_summary_line(const std::vector<FoldMetrics>& folds);

// Writes evaluation.json, roc.svg and pr.svg into dir.
Status write_report(const std::string& dir, const EvaluationReport& report);

}  // namespace fw
