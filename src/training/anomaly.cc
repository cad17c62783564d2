#include "training/anomaly.h"

namespace fw {

Result<IsolationForest> train_forest(const Dataset& data, size_t begin, size_t end,
                                     const IsolationForestOptions& options) {
  if (end <= begin || end > data.rows()) {
    return make_error("isolation_forest", "no rows to train on");
  }
  const std::span<const float> rows(data.row(begin), (end - begin) * kFeatureCount);
  return IsolationForest::train(rows, kFeatureCount, options);
}

std::vector<float> anomaly_scores(const IsolationForest& forest, const Dataset& data, size_t begin,
                                  size_t end) {
  std::vector<float> out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) out.push_back(static_cast<float>(forest.score(data.row(i))));
  return out;
}

}  // namespace fw
