// TreeModel: a gradient-boosted tree ensemble (XGBoost's JSON model format, objective
// binary:logistic) flattened for fast single-row scoring, with per-prediction explanations.
// Loaded once (load is the only place that can fail: every malformed, truncated or hostile
// model file becomes an Error naming the JSON field), then immutable: const methods are
// thread-safe and take no locks, so one instance can be shared by every shard.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "features/schema.h"

namespace fw {

// Model files larger than this are refused before parsing.
inline constexpr size_t kMaxModelFileBytes = size_t{512} << 20;
// Trees deeper than this are refused (XGBoost's own limit on max_depth is far lower in use).
inline constexpr int kMaxTreeDepth = 64;

// The model column that reads the engine's anomaly score (ScoreSlot::kAnomalyScore: the
// Isolation Forest of the model's folder, scored before the model). Not a schema feature and
// not in the schema hash; `fraudwatch train --anomaly-feature` adds it (docs/models.md).
inline constexpr std::string_view kAnomalyColumn = "anomaly_score";
// How that column appears where a FeatureId is expected (features(), Contribution::feature):
// the FeatureVector index of the anomaly score, past every schema feature.
inline constexpr FeatureId kAnomalyColumnId = static_cast<FeatureId>(ScoreSlot::kAnomalyScore);
// feature_name(f), or kAnomalyColumn for kAnomalyColumnId.
std::string_view column_name(FeatureId f);

// One feature's share of a prediction, in margin (log-odds) units.
struct Contribution {
  FeatureId feature = FeatureId::kAmount;
  double value = 0;
};

// Top contributions of one prediction. bias + sum of all contributions (not only the top
// ones) equals the margin.
struct Explanation {
  double margin = 0;
  double bias = 0;
  std::vector<Contribution> top;  // largest |value| first, at most the k asked for
};

class TreeModel {
 public:
  // Parses XGBoost's JSON model (as written by Booster.save_model("x.json") or
  // XGBoosterSaveModel). Feature names must be present and each must be a feature of
  // features/schema.h; the model reads them by name, so its column order is free.
  static Result<TreeModel> from_xgboost_json(std::string_view text);
  static Result<TreeModel> load_file(const std::string& path);

  // Log-odds before the sigmoid: base margin + sum of the trees' leaf values, accumulated in
  // float in tree order as XGBoost does, so predictions agree with XGBoost's to ~1e-7.
  // NaN feature values are missing and follow each split's default direction.
  double margin(const FeatureVector& x) const;
  // Probability of fraud, sigmoid(margin).
  double predict(const FeatureVector& x) const;

  // Path attribution (Saabas; XGBoost's approx_contribs): along each tree's decision path, the
  // change of the node's expected value is credited to the split feature. Costs about one
  // prediction. Returns the k largest contributions by magnitude.
  Explanation explain(const FeatureVector& x, size_t k = 5) const;
  // Exact TreeSHAP (Lundberg et al. 2018), as XGBoost's pred_contribs: per schema feature,
  // indexed by FeatureId, plus the bias (expected margin). Costs roughly depth^2 x leaves per
  // tree: for flagged transactions and offline use, not the hot path.
  struct Shap {
    std::array<double, kFeatureCount> values{};
    double anomaly = 0;  // the kAnomalyColumn column's, when the model has it
    double bias = 0;
  };
  Shap tree_shap(const FeatureVector& x) const;

  size_t tree_count() const { return roots_.size(); }
  size_t node_count() const { return nodes_.size(); }
  int max_depth() const { return max_depth_; }
  double base_score() const { return base_score_; }
  // The model's features, in the model file's column order (kAnomalyColumnId for the
  // kAnomalyColumn column).
  const std::vector<FeatureId>& features() const { return features_; }
  // Whether the model reads the anomaly score (ScoreSlot::kAnomalyScore) as its kAnomalyColumn
  // column: the caller must fill that slot before margin() / predict() / explain().
  bool uses_anomaly_score() const { return uses_anomaly_; }

 private:
  // Internal node: go left when x[feature] < threshold (or missing and default_left), children
  // at left and left + 1. Leaf: feature == kLeaf, threshold holds the leaf value, default_left
  // is 1 and left is the leaf itself. kLeaf indexes an always-missing slot after the features,
  // so a walk that has reached its leaf stays there: trees are walked a fixed number of steps,
  // without a branch per node. The slot after it (kAnomalySlot) holds the anomaly score.
  struct Node {
    float threshold;
    uint16_t feature;
    uint8_t default_left;
    uint8_t pad;
    uint32_t left;
  };
  static constexpr uint16_t kLeaf = static_cast<uint16_t>(kFeatureCount);
  static constexpr uint16_t kAnomalySlot = static_cast<uint16_t>(ScoreSlot::kAnomalyScore);
  static_assert(kAnomalySlot == kLeaf + 1, "the evaluator's float slots: features, leaf, anomaly");
  // Trees are walked kBlock at a time, each block for its deepest tree's depth.
  static constexpr size_t kBlock = 8;

  // Per node, parallel to nodes_: cover (sum of hessians) and expected value, for explanations.
  struct NodeStats {
    double cover;
    double mean;
  };

  uint32_t leaf_of(uint32_t root, const float* x) const;
  // base margin + the leaf values of every tree for xf (features as float + the leaf slot).
  template <bool kMayBeMissing>
  float sum_leaves(const float* xf) const;
  void shap_tree(uint32_t root, const float* x, double* phi) const;

  std::vector<Node> nodes_;
  std::vector<NodeStats> stats_;
  std::vector<uint32_t> roots_;
  std::vector<uint8_t> block_depth_;  // per full block of kBlock trees
  std::vector<FeatureId> features_;
  float base_margin_ = 0;
  double base_score_ = 0.5;
  double expected_margin_ = 0;  // base margin + sum of root means: the explanation bias
  int max_depth_ = 0;
  bool uses_anomaly_ = false;
};

}  // namespace fw
