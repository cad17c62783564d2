// IsolationForest: an unsupervised anomaly score (Liu, Ting & Zhou 2008), trained on unlabelled
// feature rows and scored per transaction. Trees isolate a row by random splits; rows that
// isolate in few splits are unusual. Follows scikit-learn's IsolationForest: subsamples of
// max_samples rows without replacement, depth limit ceil(log2(max_samples)), a split on a random
// non-constant feature at a uniform point between its minimum and maximum in the node, and
// score = 2^(-mean path length / c(max_samples)), in (0, 1], higher = more anomalous.
// Immutable after training: const methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"
#include "features/schema.h"

namespace fw {

struct IsolationForestOptions {
  size_t trees = 100;
  size_t max_samples = 256;  // per tree; fewer when there are fewer rows
  uint64_t seed = 1;
};

class IsolationForest {
 public:
  // rows: row-major, `columns` floats per row, every column a candidate for splits.
  // Errors (field "isolation_forest"): no rows, zero trees or samples.
  static Result<IsolationForest> train(std::span<const float> rows, size_t columns,
                                       const IsolationForestOptions& options);

  // Anomaly score of one row of `columns` floats, in (0, 1].
  double score(const float* row) const;
  // Of a FeatureVector, when trained on kFeatureCount columns in schema order (NaN otherwise).
  double score(const FeatureVector& x) const;

  size_t tree_count() const { return roots_.size(); }
  size_t columns() const { return columns_; }

 private:
  struct Node {
    float threshold;   // internal: go left when x[feature] < threshold; leaf: path length
    uint32_t feature;  // kLeaf for leaves
    uint32_t left;     // right = left + 1
  };
  static constexpr uint32_t kLeaf = 0xffffffffU;

  std::vector<Node> nodes_;
  std::vector<uint32_t> roots_;
  size_t columns_ = 0;
  double c_norm_ = 1;  // c(max_samples)
};

// Average path length of an unsuccessful search in a binary search tree of n points.
double isolation_c(double n);

}  // namespace fw
