#include "scoring/tree_model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/file.h"

namespace fw {
namespace {

using nlohmann::json;

// Deepest JSON nesting accepted: XGBoost's format needs 6 levels; a hostile file with a million
// '[' must not reach the parser.
constexpr int kMaxJsonNesting = 32;

Status check_nesting(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonNesting) {
        return make_error("", fmt::format("JSON nested deeper than {} levels", kMaxJsonNesting));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::Ok();
}

Result<const json*> member(const json& obj, const std::string& path, const char* key) {
  std::string field = path.empty() ? key : path + "." + key;
  if (!obj.is_object()) return make_error(path, "expected a JSON object");
  auto it = obj.find(key);
  if (it == obj.end()) return make_error(field, "missing");
  return &*it;
}

// XGBoost writes most scalars as strings ("5E-1", "200"); accept numbers too.
Result<double> number(const json& v, const std::string& field) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 64) return make_error(field, "not a number");
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return make_error(field, fmt::format("not a number: '{}'", s));
    return d;
  }
  return make_error(field, "expected a number");
}

Result<double> number_member(const json& obj, const std::string& path, const char* key) {
  auto m = member(obj, path, key);
  if (!m.ok()) return m.error();
  return number(**m, path.empty() ? key : path + "." + key);
}

// An array member of exactly n elements.
Result<const json*> array_member(const json& obj, const std::string& path, const char* key,
                                 size_t n) {
  auto m = member(obj, path, key);
  if (!m.ok()) return m.error();
  std::string field = path + "." + key;
  if (!(*m)->is_array()) return make_error(field, "expected an array");
  if ((*m)->size() != n) {
    return make_error(field,
                      fmt::format("has {} elements, expected {} (num_nodes)", (*m)->size(), n));
  }
  return *m;
}

Result<int64_t> integer_at(const json& arr, size_t i, const std::string& field) {
  const json& v = arr[i];
  if (!v.is_number_integer())
    return make_error(fmt::format("{}[{}]", field, i), "expected an integer");
  return v.get<int64_t>();
}

Result<double> finite_at(const json& arr, size_t i, const std::string& field) {
  const json& v = arr[i];
  if (!v.is_number()) return make_error(fmt::format("{}[{}]", field, i), "expected a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
    return make_error(fmt::format("{}[{}]", field, i), "not a finite float");
  }
  return d;
}

// One parsed tree in XGBoost's own node numbering.
struct RawTree {
  std::vector<int64_t> left, right;
  std::vector<int64_t> split_index;
  std::vector<double> split_condition;
  std::vector<bool> default_left;
  std::vector<double> cover;
};

Result<RawTree> parse_tree(const json& t, const std::string& path, size_t num_feature) {
  if (!t.is_object()) return make_error(path, "expected a JSON object");
  auto tp = member(t, path, "tree_param");
  if (!tp.ok()) return tp.error();
  auto nn = number_member(**tp, path + ".tree_param", "num_nodes");
  if (!nn.ok()) return nn.error();
  if (*nn < 1 || *nn > (1 << 24) || *nn != std::floor(*nn)) {
    return make_error(path + ".tree_param.num_nodes", "must be an integer from 1 to 16777216");
  }
  const auto n = static_cast<size_t>(*nn);
  RawTree r;
  auto left = array_member(t, path, "left_children", n);
  auto right = array_member(t, path, "right_children", n);
  auto split = array_member(t, path, "split_indices", n);
  auto cond = array_member(t, path, "split_conditions", n);
  auto dleft = array_member(t, path, "default_left", n);
  auto hess = array_member(t, path, "sum_hessian", n);
  for (const auto* a : {&left, &right, &split, &cond, &dleft, &hess}) {
    if (!a->ok()) return a->error();
  }
  // Categorical splits are not supported: every split_type must be 0 (numerical).
  if (auto st = t.find("split_type"); st != t.end()) {
    if (!st->is_array()) return make_error(path + ".split_type", "expected an array");
    for (size_t i = 0; i < st->size(); ++i) {
      if (!(*st)[i].is_number_integer() || (*st)[i].get<int64_t>() != 0) {
        return make_error(fmt::format("{}.split_type[{}]", path, i),
                          "only numerical splits (0) are supported, not categorical");
      }
    }
  }
  r.left.resize(n);
  r.right.resize(n);
  r.split_index.resize(n);
  r.split_condition.resize(n);
  r.default_left.resize(n);
  r.cover.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto l = integer_at(**left, i, path + ".left_children");
    if (!l.ok()) return l.error();
    auto rr = integer_at(**right, i, path + ".right_children");
    if (!rr.ok()) return rr.error();
    auto s = integer_at(**split, i, path + ".split_indices");
    if (!s.ok()) return s.error();
    auto c = finite_at(**cond, i, path + ".split_conditions");
    if (!c.ok()) return c.error();
    auto d = integer_at(**dleft, i, path + ".default_left");
    if (!d.ok()) return d.error();
    auto h = finite_at(**hess, i, path + ".sum_hessian");
    if (!h.ok()) return h.error();
    const bool leaf = *l == -1;
    if (leaf != (*rr == -1)) {
      return make_error(fmt::format("{}.right_children[{}]", path, i),
                        "a node must have both children or neither");
    }
    if (!leaf) {
      for (auto [v, name] : {std::pair{*l, "left_children"}, std::pair{*rr, "right_children"}}) {
        if (v < 1 || v >= static_cast<int64_t>(n)) {
          return make_error(fmt::format("{}.{}[{}]", path, name, i),
                            fmt::format("child {} out of range [1, {})", v, n));
        }
      }
      if (*s < 0 || *s >= static_cast<int64_t>(num_feature)) {
        return make_error(fmt::format("{}.split_indices[{}]", path, i),
                          fmt::format("feature {} out of range [0, {})", *s, num_feature));
      }
    }
    if (*d != 0 && *d != 1) {
      return make_error(fmt::format("{}.default_left[{}]", path, i), "must be 0 or 1");
    }
    if (*h <= 0) {
      return make_error(fmt::format("{}.sum_hessian[{}]", path, i), "cover must be positive");
    }
    r.left[i] = *l;
    r.right[i] = *rr;
    r.split_index[i] = *s;
    r.split_condition[i] = *c;
    r.default_left[i] = *d == 1;
    r.cover[i] = *h;
  }
  return r;
}

}  // namespace

Result<TreeModel> TreeModel::from_xgboost_json(std::string_view text) {
  if (text.size() > kMaxModelFileBytes) {
    return make_error("", fmt::format("model larger than {} bytes", kMaxModelFileBytes));
  }
  if (Status s = check_nesting(text); !s.ok()) return s.error();
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return make_error("", fmt::format("not valid JSON (byte {}): {}", e.byte, e.what()));
  }
  auto learner = member(root, "", "learner");
  if (!learner.ok()) return learner.error();
  const json& l = **learner;

  // Objective: binary:logistic only (the engine needs a probability of fraud).
  auto obj = member(l, "learner", "objective");
  if (!obj.ok()) return obj.error();
  auto obj_name = member(**obj, "learner.objective", "name");
  if (!obj_name.ok()) return obj_name.error();
  if (!(*obj_name)->is_string() || (*obj_name)->get<std::string>() != "binary:logistic") {
    return make_error("learner.objective.name",
                      fmt::format("must be \"binary:logistic\", not {}", (*obj_name)->dump()));
  }

  auto lmp = member(l, "learner", "learner_model_param");
  if (!lmp.ok()) return lmp.error();
  auto num_class = number_member(**lmp, "learner.learner_model_param", "num_class");
  if (!num_class.ok()) return num_class.error();
  if (*num_class != 0 && *num_class != 1) {
    return make_error("learner.learner_model_param.num_class", "must be 0 (binary model)");
  }
  auto base = number_member(**lmp, "learner.learner_model_param", "base_score");
  if (!base.ok()) return base.error();
  if (!(*base > 0 && *base < 1)) {
    return make_error("learner.learner_model_param.base_score",
                      "must be a probability strictly between 0 and 1");
  }
  auto nf = number_member(**lmp, "learner.learner_model_param", "num_feature");
  if (!nf.ok()) return nf.error();
  if (*nf < 1 || *nf > 65535 || *nf != std::floor(*nf)) {
    return make_error("learner.learner_model_param.num_feature", "must be an integer 1..65535");
  }
  const auto num_feature = static_cast<size_t>(*nf);

  TreeModel m;
  m.base_score_ = *base;
  // As XGBoost's ProbToMargin for logistic, in float.
  const auto bs = static_cast<float>(*base);
  m.base_margin_ = -std::log(1.0F / bs - 1.0F);

  // Feature names: required, each a schema feature, no duplicates.
  auto names = member(l, "learner", "feature_names");
  if (!names.ok()) return names.error();
  if (!(*names)->is_array() || (*names)->empty()) {
    return make_error("learner.feature_names",
                      "missing or empty: the model must name its features (the engine matches "
                      "them to its feature schema by name)");
  }
  if ((*names)->size() != num_feature) {
    return make_error("learner.feature_names", fmt::format("has {} names but num_feature is {}",
                                                           (*names)->size(), num_feature));
  }
  std::vector<bool> seen(kFeatureSlots, false);
  for (size_t i = 0; i < num_feature; ++i) {
    const json& n = (**names)[i];
    std::string field = fmt::format("learner.feature_names[{}]", i);
    if (!n.is_string()) return make_error(field, "expected a string");
    std::optional<FeatureId> id = find_feature(n.get_ref<const std::string&>());
    if (!id && n.get_ref<const std::string&>() == kAnomalyColumn) {
      id = kAnomalyColumnId;
      m.uses_anomaly_ = true;
    }
    if (!id) {
      return make_error(field, fmt::format("'{}' is not a feature of this engine (see "
                                           "docs/features.md)",
                                           n.get<std::string>().substr(0, 80)));
    }
    if (seen[static_cast<size_t>(*id)]) return make_error(field, "duplicate feature name");
    seen[static_cast<size_t>(*id)] = true;
    m.features_.push_back(*id);
  }

  auto gb = member(l, "learner", "gradient_booster");
  if (!gb.ok()) return gb.error();
  auto gb_name = member(**gb, "learner.gradient_booster", "name");
  if (!gb_name.ok()) return gb_name.error();
  if (!(*gb_name)->is_string() || (*gb_name)->get<std::string>() != "gbtree") {
    return make_error("learner.gradient_booster.name", "must be \"gbtree\"");
  }
  auto model = member(**gb, "learner.gradient_booster", "model");
  if (!model.ok()) return model.error();
  auto trees = member(**model, "learner.gradient_booster.model", "trees");
  if (!trees.ok()) return trees.error();
  if (!(*trees)->is_array()) {
    return make_error("learner.gradient_booster.model.trees", "expected an array");
  }
  if (auto gmp = (*model)->find("gbtree_model_param"); gmp != (*model)->end()) {
    auto npt = number_member(*gmp, "learner.gradient_booster.model.gbtree_model_param",
                             "num_parallel_tree");
    if (npt.ok() && *npt != 1) {
      return make_error("learner.gradient_booster.model.gbtree_model_param.num_parallel_tree",
                        "only 1 is supported (no boosted random forests)");
    }
  }

  // Flatten each tree breadth-first so that children are adjacent (right = left + 1).
  double expected = m.base_margin_;
  for (size_t t = 0; t < (*trees)->size(); ++t) {
    const std::string path = fmt::format("learner.gradient_booster.model.trees[{}]", t);
    auto raw = parse_tree((**trees)[t], path, num_feature);
    if (!raw.ok()) return raw.error();
    const RawTree& r = *raw;
    const auto root = static_cast<uint32_t>(m.nodes_.size());
    if (m.nodes_.size() + r.left.size() > std::numeric_limits<uint32_t>::max() / 2) {
      return make_error(path, "too many nodes in the model");
    }
    m.roots_.push_back(root);
    // queue of (raw id, flat id, depth); flat ids are assigned when a node is queued.
    struct Item {
      int64_t raw;
      uint32_t flat;
      int depth;
    };
    std::vector<Item> queue{{0, root, 0}};
    int tree_depth = 0;
    std::vector<bool> visited(r.left.size(), false);
    visited[0] = true;
    m.nodes_.push_back({});
    m.stats_.push_back({});
    for (size_t q = 0; q < queue.size(); ++q) {
      const Item it = queue[q];
      const auto i = static_cast<size_t>(it.raw);
      Node& node = m.nodes_[it.flat];
      m.stats_[it.flat].cover = r.cover[i];
      if (r.left[i] == -1) {
        node = {static_cast<float>(r.split_condition[i]), kLeaf, 1, 0, it.flat};
        continue;
      }
      if (it.depth + 1 > kMaxTreeDepth) {
        return make_error(path, fmt::format("deeper than {} levels", kMaxTreeDepth));
      }
      m.max_depth_ = std::max(m.max_depth_, it.depth + 1);
      tree_depth = std::max(tree_depth, it.depth + 1);
      const auto l = static_cast<size_t>(r.left[i]);
      const auto rt = static_cast<size_t>(r.right[i]);
      if (visited[l] || visited[rt] || l == rt) {
        return make_error(fmt::format("{}.left_children[{}]", path, i),
                          "the nodes do not form a tree (a node is reached twice)");
      }
      visited[l] = visited[rt] = true;
      const auto left_flat = static_cast<uint32_t>(m.nodes_.size());
      node = {static_cast<float>(r.split_condition[i]),
              static_cast<uint16_t>(m.features_[static_cast<size_t>(r.split_index[i])]),
              static_cast<uint8_t>(r.default_left[i] ? 1 : 0), 0, left_flat};
      m.nodes_.push_back({});
      m.nodes_.push_back({});
      m.stats_.push_back({});
      m.stats_.push_back({});
      queue.push_back({r.left[i], left_flat, it.depth + 1});
      queue.push_back({r.right[i], left_flat + 1, it.depth + 1});
    }
    // Expected values bottom-up: children come after parents in breadth-first order.
    for (size_t q = queue.size(); q-- > 0;) {
      const uint32_t f = queue[q].flat;
      const Node& node = m.nodes_[f];
      if (node.feature == kLeaf) {
        m.stats_[f].mean = node.threshold;
      } else {
        const NodeStats& a = m.stats_[node.left];
        const NodeStats& b = m.stats_[node.left + 1];
        m.stats_[f].mean = (a.mean * a.cover + b.mean * b.cover) / m.stats_[f].cover;
      }
    }
    expected += m.stats_[root].mean;
    if (t % kBlock == 0) m.block_depth_.push_back(0);
    m.block_depth_.back() = static_cast<uint8_t>(std::max<int>(m.block_depth_.back(), tree_depth));
  }
  // Only full blocks are walked blockwise; the last partial block tree by tree.
  m.block_depth_.resize(m.roots_.size() / kBlock);
  m.expected_margin_ = expected;
  return m;
}

Result<TreeModel> TreeModel::load_file(const std::string& path) {
  auto text = read_file_limited(path, kMaxModelFileBytes);
  if (!text.ok()) return text.error();
  auto m = from_xgboost_json(*text);
  if (!m.ok()) {
    const Error& e = m.error();
    return make_error(e.field.empty() ? path : path + ": " + e.field, e.reason);
  }
  return m;
}

namespace {

// The features as float (XGBoost compares in float), the always-missing slot leaves read, and
// the anomaly score.
constexpr size_t kFloatSlots = kFeatureCount + 2;
constexpr size_t kAnomalyFloat = static_cast<size_t>(ScoreSlot::kAnomalyScore);
void to_floats(const FeatureVector& x, float* out) {
  for (size_t i = 0; i < kFeatureCount; ++i) out[i] = static_cast<float>(x.values[i]);
  out[kFeatureCount] = std::numeric_limits<float>::quiet_NaN();
  out[kAnomalyFloat] = static_cast<float>(x.values[kAnomalyFloat]);
}

}  // namespace

std::string_view column_name(FeatureId f) {
  return f == kAnomalyColumnId ? kAnomalyColumn : feature_name(f);
}

uint32_t TreeModel::leaf_of(uint32_t root, const float* x) const {
  const Node* nodes = nodes_.data();
  uint32_t i = root;
  while (nodes[i].feature != kLeaf) {
    const Node& n = nodes[i];
    const float v = x[n.feature];
    const bool left = std::isnan(v) ? n.default_left != 0 : v < n.threshold;
    i = n.left + (left ? 0U : 1U);
  }
  return i;
}

template <bool kMayBeMissing>
float TreeModel::sum_leaves(const float* xf) const {
  const Node* nodes = nodes_.data();
  const uint32_t* roots = roots_.data();
  float sum = base_margin_;
  // kBlock independent walks overlap their loads; a step is branch-free (a leaf steps to
  // itself). Leaves are added in tree order, as XGBoost does, so float sums agree.
  size_t t = 0;
  for (size_t b = 0; b < block_depth_.size(); ++b, t += kBlock) {
    uint32_t idx[kBlock];
#pragma GCC unroll 8
    for (size_t j = 0; j < kBlock; ++j) idx[j] = roots[t + j];
    for (int d = block_depth_[b]; d > 0; --d) {
#pragma GCC unroll 8
      for (size_t j = 0; j < kBlock; ++j) {
        const Node& n = nodes[idx[j]];
        const float v = xf[n.feature];
        bool left = v < n.threshold;
        if constexpr (kMayBeMissing) left = left | ((v != v) & (n.default_left != 0));
        idx[j] = n.left + static_cast<uint32_t>(!left);
      }
    }
#pragma GCC unroll 8
    for (size_t j = 0; j < kBlock; ++j) sum += nodes[idx[j]].threshold;
  }
  for (; t < roots_.size(); ++t) sum += nodes[leaf_of(roots[t], xf)].threshold;
  return sum;
}

double TreeModel::margin(const FeatureVector& x) const {
  float xf[kFloatSlots];
  bool missing = false;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    xf[i] = static_cast<float>(x.values[i]);
    missing |= std::isnan(xf[i]);
  }
  // Read only by a model with the anomaly column; NaN (no forest) is missing like a feature.
  xf[kAnomalyFloat] = static_cast<float>(x.values[kAnomalyFloat]);
  if (uses_anomaly_) missing |= std::isnan(xf[kAnomalyFloat]);
  if (!missing) {
    // No missing value: the plain comparison suffices, and the leaf slot must compare below
    // every leaf value so that a finished walk stays on its leaf.
    xf[kFeatureCount] = -std::numeric_limits<float>::infinity();
    return sum_leaves<false>(xf);
  }
  xf[kFeatureCount] = std::numeric_limits<float>::quiet_NaN();
  return sum_leaves<true>(xf);
}

double TreeModel::predict(const FeatureVector& x) const {
  return 1.0 / (1.0 + std::exp(-margin(x)));
}

Explanation TreeModel::explain(const FeatureVector& x, size_t k) const {
  float xf[kFloatSlots];
  to_floats(x, xf);
  std::array<double, kFloatSlots> phi{};
  Explanation e;
  float sum = base_margin_;
  for (uint32_t root : roots_) {
    uint32_t i = root;
    double value = stats_[i].mean;
    while (nodes_[i].feature != kLeaf) {
      const Node& n = nodes_[i];
      const float v = xf[n.feature];
      const bool left = std::isnan(v) ? n.default_left != 0 : v < n.threshold;
      i = n.left + (left ? 0U : 1U);
      phi[n.feature] += stats_[i].mean - value;
      value = stats_[i].mean;
    }
    sum += nodes_[i].threshold;
  }
  e.margin = sum;
  e.bias = expected_margin_;
  std::vector<Contribution> all;
  for (size_t f = 0; f < kFeatureCount; ++f) {
    if (phi[f] != 0) all.push_back({static_cast<FeatureId>(f), phi[f]});
  }
  if (phi[kAnomalyFloat] != 0) all.push_back({kAnomalyColumnId, phi[kAnomalyFloat]});
  const size_t top = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(top), all.end(),
                    [](const Contribution& a, const Contribution& b) {
                      return std::fabs(a.value) > std::fabs(b.value);
                    });
  all.resize(top);
  e.top = std::move(all);
  return e;
}

// ---- Exact TreeSHAP -------------------------------------------------------------------------
// Algorithm 2 of Lundberg, Erion & Lee, "Consistent Individualized Feature Attribution for Tree
// Ensembles" (2018): one pass down the tree keeps, for the features on the current path, the
// weights of every subset size; at each leaf the weights are unwound per feature.

namespace {

struct PathElement {
  int feature;
  double zero_fraction;  // share of the background data that follows this path
  double one_fraction;   // 1 when x follows this path, else 0
  double weight;         // permutation weight of subsets of this size
};

void extend_path(std::vector<PathElement>& path, double zero_fraction, double one_fraction,
                 int feature) {
  const size_t depth = path.size();  // elements before the new one
  path.push_back({feature, zero_fraction, one_fraction, depth == 0 ? 1.0 : 0.0});
  const auto d1 = static_cast<double>(depth + 1);
  for (size_t j = depth; j-- > 0;) {
    path[j + 1].weight += one_fraction * path[j].weight * static_cast<double>(j + 1) / d1;
    path[j].weight = zero_fraction * path[j].weight * static_cast<double>(depth - j) / d1;
  }
}

// Removes path[index] (its feature is split on again further down), undoing its extension.
void unwind_path(std::vector<PathElement>& path, size_t index) {
  const size_t depth = path.size() - 1;
  const double one = path[index].one_fraction;
  const double zero = path[index].zero_fraction;
  const auto d1 = static_cast<double>(depth + 1);
  double next = path[depth].weight;
  for (size_t j = depth; j-- > 0;) {
    if (one != 0) {
      const double tmp = path[j].weight;
      path[j].weight = next * d1 / (static_cast<double>(j + 1) * one);
      next = tmp - path[j].weight * zero * static_cast<double>(depth - j) / d1;
    } else {
      path[j].weight = path[j].weight * d1 / (zero * static_cast<double>(depth - j));
    }
  }
  for (size_t j = index; j < depth; ++j) {
    path[j].feature = path[j + 1].feature;
    path[j].zero_fraction = path[j + 1].zero_fraction;
    path[j].one_fraction = path[j + 1].one_fraction;
  }
  path.pop_back();
}

// Total weight of path without path[index], without modifying it.
double unwound_sum(const std::vector<PathElement>& path, size_t index) {
  const size_t depth = path.size() - 1;
  const double one = path[index].one_fraction;
  const double zero = path[index].zero_fraction;
  const auto d1 = static_cast<double>(depth + 1);
  double next = path[depth].weight;
  double total = 0;
  for (size_t j = depth; j-- > 0;) {
    if (one != 0) {
      const double tmp = next * d1 / (static_cast<double>(j + 1) * one);
      total += tmp;
      next = path[j].weight - tmp * zero * static_cast<double>(depth - j) / d1;
    } else {
      total += path[j].weight / zero / (static_cast<double>(depth - j) / d1);
    }
  }
  return total;
}

}  // namespace

void TreeModel::shap_tree(uint32_t root, const float* x, double* phi) const {
  struct Frame {
    static void recurse(const TreeModel& m, uint32_t node, const float* x, double* phi,
                        std::vector<PathElement> path, double zero, double one, int feature) {
      extend_path(path, zero, one, feature);
      const Node& n = m.nodes_[node];
      if (n.feature == kLeaf) {
        for (size_t i = 1; i < path.size(); ++i) {
          const double w = unwound_sum(path, i);
          const PathElement& el = path[i];
          phi[el.feature] += w * (el.one_fraction - el.zero_fraction) * n.threshold;
        }
        return;
      }
      const float v = x[n.feature];
      const bool left = std::isnan(v) ? n.default_left != 0 : v < n.threshold;
      const uint32_t hot = n.left + (left ? 0U : 1U);
      const uint32_t cold = n.left + (left ? 1U : 0U);
      const double cover = m.stats_[node].cover;
      const double hot_zero = m.stats_[hot].cover / cover;
      const double cold_zero = m.stats_[cold].cover / cover;
      double incoming_zero = 1;
      double incoming_one = 1;
      const int f = n.feature;
      for (size_t i = 1; i < path.size(); ++i) {
        if (path[i].feature == f) {
          incoming_zero = path[i].zero_fraction;
          incoming_one = path[i].one_fraction;
          unwind_path(path, i);
          break;
        }
      }
      recurse(m, hot, x, phi, path, hot_zero * incoming_zero, incoming_one, f);
      recurse(m, cold, x, phi, path, cold_zero * incoming_zero, 0, f);
    }
  };
  std::vector<PathElement> path;
  path.reserve(static_cast<size_t>(max_depth_) + 2);
  Frame::recurse(*this, root, x, phi, std::move(path), 1, 1, -1);
}

TreeModel::Shap TreeModel::tree_shap(const FeatureVector& x) const {
  float xf[kFloatSlots];
  to_floats(x, xf);
  std::array<double, kFloatSlots> phi{};
  for (uint32_t root : roots_) shap_tree(root, xf, phi.data());
  Shap s;
  std::copy_n(phi.begin(), kFeatureCount, s.values.begin());
  s.anomaly = phi[kAnomalyFloat];
  s.bias = expected_margin_;
  return s;
}

}  // namespace fw
