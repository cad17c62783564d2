// Gradient-boosted tree training through XGBoost's C API (Debian's libxgboost): `hist` trees,
// class imbalance through scale_pos_weight, a time-ordered validation split (train on the
// earlier rows, validate on the later ones), a seeded random search over depth, learning rate,
// subsampling, column sampling and min child weight, each trial with early stopping on the
// validation PR AUC. Same data and seed give the same model. train_model() blocks the calling
// thread (XGBoost uses `threads` threads inside).
#pragma once

#include <cstdint>
#include <functional>
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
};

struct Trial {
  TreeParams params;
  int best_rounds = 0;  // trees kept
  double validation_aucpr = 0;
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
};

// Errors (field "training"): too few rows, no fraud in the training or validation part, or an
// XGBoost failure (its message).
Result<TrainResult> train_model(const Dataset& data, const TrainOptions& options);

}  // namespace fw
