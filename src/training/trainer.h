// Gradient-boosted tree training through XGBoost's C API (Debian's libxgboost): `hist` trees,
// class imbalance through scale_pos_weight, a time-ordered validation split (train on the
// earlier rows, validate on the later ones) or stratified k-fold, a seeded search over depth,
// learning rate, number of trees, subsampling, column sampling and min child weight (random, or
// successive halving), each evaluation with early stopping on the validation PR AUC. Same data
// and seed give the same model. train_model() blocks the calling thread (XGBoost uses `threads`
// threads inside).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "training/dataset.h"

namespace fw {

struct TreeParams {
  int max_depth = 6;
  double eta = 0.1;
  double subsample = 0.8;
  double colsample_bytree = 0.8;
  double min_child_weight = 1;
};

enum class Validation {
  kTimeSplit,  // train on the earliest rows, validate on the latest validation_fraction
  kKFold,      // stratified k-fold over all rows; the final model is trained on every row
};
enum class Search {
  kRandom,   // `search_trials` candidates, each trained up to max_rounds
  kHalving,  // successive halving: all candidates on a small tree budget, the better half
             // goes on with twice the budget, until one remains (then trained up to max_rounds)
};

struct TrainOptions {
  double validation_fraction = 0.2;  // the latest rows by time
  int max_rounds = 300;              // trees at most; early stopping picks fewer
  int early_stopping_rounds = 20;
  int search_trials = 1;  // 1: only `params`; more: `params` then random draws
  TreeParams params;
  double scale_pos_weight = 0;  // 0: negatives / positives of the training rows
  uint64_t seed = 1;
  int threads = 2;
  // Called after every trial with a one-line summary; may be empty.
  std::function<void(const std::string&)> progress;
  Validation validation = Validation::kTimeSplit;
  int folds = 5;  // kKFold: 2..20
  Search search = Search::kRandom;
};

struct Trial {
  TreeParams params;
  int best_rounds = 0;              // trees kept (k-fold: the mean over folds, rounded)
  double validation_aucpr = 0;      // k-fold: the mean over folds
  double validation_aucpr_std = 0;  // k-fold: standard deviation over folds
  int candidate = 0;                // index of the parameter draw (0 = the given params)
  int rung = 0;                     // successive halving: the rung (0 = smallest budget)
  int budget = 0;                   // max rounds this evaluation could grow
};

// One fold of k-fold validation, for the winning parameters: metrics of the fold's model on its
// held-out rows.
struct FoldMetrics {
  size_t rows = 0;
  uint64_t positives = 0;
  int best_rounds = 0;
  double roc_auc = 0;
  double average_precision = 0;
};

struct TrainResult {
  std::string model_json;  // XGBoost JSON of the best trial, cut at its best round
  Trial best;
  std::vector<Trial> trials;
  double scale_pos_weight = 0;
  size_t train_rows = 0;
  size_t validation_rows = 0;  // rows [train_rows, rows()) of the dataset
  uint64_t train_positives = 0;
  uint64_t validation_positives = 0;
  // k-fold only (train_rows is then every row and validation_rows 0): per-fold metrics of the
  // winning parameters, and each row's out-of-fold score (by the fold model that never saw it).
  std::vector<FoldMetrics> folds;
  std::vector<float> out_of_fold;
};

// Stratified fold assignment: fold (0..k-1) of each row; positives and negatives are each
// shuffled (seeded) and dealt round-robin, so every fold's fraud share matches the whole's and
// fold sizes differ by at most 2 rows.
std::vector<int> stratified_folds(std::span<const float> labels, int k, uint64_t seed);

// Errors (field "training"): too few rows, no fraud in the training or validation part (or fewer
// frauds than folds), or an XGBoost failure (its message).
Result<TrainResult> train_model(const Dataset& data, const TrainOptions& options);

}  // namespace fw
