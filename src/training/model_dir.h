// The model folder: the artifact `fraudwatch train` writes and serving loads.
//   model.json       XGBoost's JSON model (loads in Python's xgboost as is)
//   metadata.json    feature names and schema hash, parameters, data ranges, metrics, threshold,
//                    reference histograms of features and scores for drift monitoring
//   evaluation.json, roc.svg, pr.svg   the validation report (see evaluation.h)
// A bring-your-own model is a folder with only model.json, or the model.json file itself: it
// loads with threshold 0.5. Plain functions; thread-safe on distinct folders.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "core/result.h"
#include "scoring/isolation_forest.h"
#include "scoring/tree_model.h"
#include "training/dataset.h"

namespace fw {

inline constexpr const char* kModelFile = "model.json";
inline constexpr const char* kMetadataFile = "metadata.json";
inline constexpr double kDefaultThreshold = 0.5;

struct LoadedModel {
  TreeModel model;
  nlohmann::json metadata;  // empty object for a bring-your-own model
  double threshold = kDefaultThreshold;
  // The folder's isolation_forest.json (training/anomaly.h), when it has one.
  std::optional<IsolationForest> forest;
};

// path: a model folder or an XGBoost JSON file. When metadata.json exists, its schema hash must
// equal this build's feature_schema_hash() and its threshold must be a probability. When
// isolation_forest.json exists it is loaded too and must have kFeatureCount columns. Errors name
// the file and field.
Result<LoadedModel> load_model(const std::string& path);

// Writes model.json and metadata.json into dir (created if missing).
Status write_model_dir(const std::string& dir, const std::string& model_json,
                       const nlohmann::json& metadata);

// Reference histograms for drift monitoring: per feature, decile edges over rows [begin, end)
// (at most 100,000 evenly spaced rows) and the share of rows in each bin; and the score
// distribution in 20 equal bins over [0, 1].
nlohmann::json feature_histograms(const Dataset& data, size_t begin, size_t end);
nlohmann::json score_histogram(std::span<const float> scores);

// "0x" + 16 hex digits.
std::string schema_hash_hex();

}  // namespace fw
