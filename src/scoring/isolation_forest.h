// IsolationForest: an unsupervised anomaly score (Liu, Ting & Zhou 2008), trained on unlabelled
// feature rows and scored per transaction. Trees isolate a row by random splits; rows that
// isolate in few splits are unusual. Follows scikit-learn's IsolationForest: subsamples of
// max_samples rows without replacement, depth limit ceil(log2(max_samples)), a split on a random
// non-constant feature at a uniform point between its minimum and maximum in the node, and
// score = 2^(-mean path length / c(max_samples)), in (0, 1], higher = more anomalous.
// Persisted as JSON (to_json / from_json: `isolation_forest.json` in a model folder); loading
// checks every field, so a hostile or truncated file is an Error naming the field, never a crash.
// Immutable after training or loading: const methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
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
  size_t samples() const { return samples_; }

  // The forest as JSON: {"format": "fraudwatch-isolation-forest", "format_version": 1,
  // "columns", "samples", "roots": [...], "nodes": {"feature": [...], "threshold": [...],
  // "left": [...]}} with feature -1 for leaves. Scores of the loaded forest equal the original's.
  std::string to_json() const;
  // Errors name the field ("isolation_forest.nodes.left[12]") and the reason: not JSON, too
  // large (kMaxIsolationForestBytes), wrong types, out-of-range indexes, children that do not
  // come after their parent (which also rules out cycles), non-finite values.
  static Result<IsolationForest> from_json(std::string_view text);
  // Reads and parses a file; errors are prefixed with the path.
  static Result<IsolationForest> load_file(const std::string& path);

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
  size_t samples_ = 2;  // rows per tree (max_samples, or fewer when there were fewer rows)
  double c_norm_ = 1;   // c(samples_)
};

// Forest files larger than this are refused before parsing.
inline constexpr size_t kMaxIsolationForestBytes = size_t{256} << 20;
// Columns a loaded forest may have (the feature schema plus extras, with room to spare).
inline constexpr size_t kMaxIsolationForestColumns = 4096;

// Average path length of an unsuccessful search in a binary search tree of n points.
double isolation_c(double n);

}  // namespace fw
