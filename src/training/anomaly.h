// The Isolation Forest as a part of a model folder: trained by `fraudwatch train` on the feature
// rows of the training part of the window (no labels used), saved as isolation_forest.json
// beside the model, and scored over dataset rows for evaluation. Plain functions; thread-safe
// on distinct data.
#pragma once

#include <span>
#include <vector>

#include "core/result.h"
#include "scoring/isolation_forest.h"
#include "training/dataset.h"

namespace fw {

inline constexpr const char* kIsolationForestFile = "isolation_forest.json";

// A forest over rows [begin, end) of data, all kFeatureCount columns.
Result<IsolationForest> train_forest(const Dataset& data, size_t begin, size_t end,
                                     const IsolationForestOptions& options);

// The forest's anomaly score of each row in [begin, end).
std::vector<float> anomaly_scores(const IsolationForest& forest, const Dataset& data, size_t begin,
                                  size_t end);

}  // namespace fw
