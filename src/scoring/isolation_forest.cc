#include "scoring/isolation_forest.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "core/file.h"

namespace fw {

double isolation_c(double n) {
  if (n <= 1) return 0;
  if (n <= 2) return 1;
  constexpr double kEuler = 0.5772156649015329;
  return 2.0 * (std::log(n - 1.0) + kEuler) - 2.0 * (n - 1.0) / n;
}

Result<IsolationForest> IsolationForest::train(std::span<const float> rows, size_t columns,
                                               const IsolationForestOptions& o) {
  if (columns == 0 || rows.size() < columns) {
    return make_error("isolation_forest", "no rows to train on");
  }
  if (o.trees == 0 || o.max_samples < 2) {
    return make_error("isolation_forest", "needs at least 1 tree and 2 samples per tree");
  }
  const size_t n = rows.size() / columns;
  const size_t samples = std::min(o.max_samples, n);
  const auto height_limit =
      static_cast<int>(std::ceil(std::log2(static_cast<double>(std::max<size_t>(samples, 2)))));
  IsolationForest f;
  f.columns_ = columns;
  f.samples_ = samples;
  f.c_norm_ = isolation_c(static_cast<double>(samples));
  std::mt19937_64 rng(o.seed);
  std::vector<uint32_t> all(n);
  std::iota(all.begin(), all.end(), 0U);
  std::vector<uint32_t> idx;
  std::vector<uint32_t> features(columns);
  auto value = [&](uint32_t r, size_t c) { return rows[static_cast<size_t>(r) * columns + c]; };

  struct Task {
    uint32_t node;
    size_t begin, end;  // range of idx
    int depth;
  };
  for (size_t t = 0; t < o.trees; ++t) {
    // A subsample without replacement: a partial Fisher-Yates shuffle.
    for (size_t i = 0; i < samples; ++i) {
      std::uniform_int_distribution<size_t> pick(i, n - 1);
      std::swap(all[i], all[pick(rng)]);
    }
    idx.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(samples));
    const auto root = static_cast<uint32_t>(f.nodes_.size());
    f.roots_.push_back(root);
    f.nodes_.push_back({});
    std::vector<Task> stack{{root, 0, samples, 0}};
    while (!stack.empty()) {
      const Task task = stack.back();
      stack.pop_back();
      const size_t count = task.end - task.begin;
      auto make_leaf = [&] {
        f.nodes_[task.node] = {
            static_cast<float>(task.depth + isolation_c(static_cast<double>(count))), kLeaf, 0};
      };
      if (task.depth >= height_limit || count <= 1) {
        make_leaf();
        continue;
      }
      // A random feature that is not constant in the node (tried in random order).
      std::iota(features.begin(), features.end(), 0U);
      std::shuffle(features.begin(), features.end(), rng);
      bool split = false;
      for (uint32_t feat : features) {
        float lo = value(idx[task.begin], feat), hi = lo;
        for (size_t i = task.begin + 1; i < task.end; ++i) {
          const float v = value(idx[i], feat);
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
        if (!(hi > lo)) continue;
        float thr = static_cast<float>(std::uniform_real_distribution<double>(lo, hi)(rng));
        if (!(thr > lo)) thr = std::nextafter(lo, hi);  // never an empty left side
        auto mid = std::partition(idx.begin() + static_cast<std::ptrdiff_t>(task.begin),
                                  idx.begin() + static_cast<std::ptrdiff_t>(task.end),
                                  [&](uint32_t r) { return value(r, feat) < thr; });
        const auto m = static_cast<size_t>(mid - idx.begin());
        const auto left = static_cast<uint32_t>(f.nodes_.size());
        f.nodes_[task.node] = {thr, feat, left};
        f.nodes_.push_back({});
        f.nodes_.push_back({});
        stack.push_back({left, task.begin, m, task.depth + 1});
        stack.push_back({left + 1, m, task.end, task.depth + 1});
        split = true;
        break;
      }
      if (!split) make_leaf();
    }
  }
  return f;
}

double IsolationForest::score(const float* row) const {
  double total = 0;
  for (uint32_t root : roots_) {
    uint32_t i = root;
    while (nodes_[i].feature != kLeaf) {
      const Node& n = nodes_[i];
      i = n.left + (row[n.feature] < n.threshold ? 0U : 1U);
    }
    total += nodes_[i].threshold;
  }
  const double mean = total / static_cast<double>(roots_.size());
  return std::pow(2.0, -mean / c_norm_);
}

double IsolationForest::score(const FeatureVector& x) const {
  if (columns_ != kFeatureCount) return std::nan("");
  float row[kFeatureCount];
  for (size_t i = 0; i < kFeatureCount; ++i) row[i] = static_cast<float>(x.values[i]);
  return score(row);
}

namespace {

constexpr const char* kFormat = "fraudwatch-isolation-forest";
constexpr int kFormatVersion = 1;
constexpr int kMaxNesting = 16;  // the format nests 3 deep; refuse deeper before parsing

// nlohmann's parser recurses per nesting level: refuse a hostile "[[[[..." before it does.
bool nested_too_deep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::string field(std::string_view name) { return fmt::format("isolation_forest.{}", name); }

// A non-negative integer member no larger than `max`.
Result<uint64_t> whole_member(const nlohmann::json& obj, const char* key, uint64_t min,
                              uint64_t max) {
  auto it = obj.find(key);
  if (it == obj.end()) return make_error(field(key), "missing");
  if (!it->is_number_unsigned()) {
    return make_error(field(key), fmt::format("must be a whole number, not {}", it->type_name()));
  }
  const auto v = it->get<uint64_t>();
  if (v < min || v > max) {
    return make_error(field(key), fmt::format("{} is outside {}..{}", v, min, max));
  }
  return v;
}

Result<const nlohmann::json*> array_member(const nlohmann::json& obj, std::string_view path,
                                           const char* key) {
  auto it = obj.find(key);
  const std::string name = path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  if (it == obj.end()) return make_error(field(name), "missing");
  if (!it->is_array()) {
    return make_error(field(name), fmt::format("must be an array, not {}", it->type_name()));
  }
  return &*it;
}

}  // namespace

std::string IsolationForest::to_json() const {
  nlohmann::json feature = nlohmann::json::array();
  nlohmann::json threshold = nlohmann::json::array();
  nlohmann::json left = nlohmann::json::array();
  for (const Node& n : nodes_) {
    if (n.feature == kLeaf) {
      feature.push_back(-1);
      left.push_back(0);
    } else {
      feature.push_back(n.feature);
      left.push_back(n.left);
    }
    // A float widened to double prints with enough digits to read back the same float.
    threshold.push_back(static_cast<double>(n.threshold));
  }
  const nlohmann::json out = {
      {"format", kFormat},
      {"format_version", kFormatVersion},
      {"columns", columns_},
      {"samples", samples_},
      {"roots", roots_},
      {"nodes", {{"feature", feature}, {"threshold", threshold}, {"left", left}}},
  };
  return out.dump() + "\n";
}

Result<IsolationForest> IsolationForest::from_json(std::string_view text) {
  if (text.size() > kMaxIsolationForestBytes) {
    return make_error("isolation_forest",
                      fmt::format("larger than {} bytes", kMaxIsolationForestBytes));
  }
  if (nested_too_deep(text)) {
    return make_error("isolation_forest",
                      fmt::format("JSON nested deeper than {} levels", kMaxNesting));
  }
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    return make_error("isolation_forest",
                      fmt::format("not valid JSON (byte {}): {}", e.byte, e.what()));
  }
  if (!root.is_object()) {
    return make_error("isolation_forest",
                      fmt::format("must be a JSON object, not {}", root.type_name()));
  }
  auto format = root.find("format");
  if (format == root.end() || !format->is_string() || format->get<std::string>() != kFormat) {
    return make_error(field("format"), fmt::format("must be \"{}\"", kFormat));
  }
  auto version = whole_member(root, "format_version", 0, std::numeric_limits<int>::max());
  if (!version.ok()) return version.error();
  if (*version != kFormatVersion) {
    return make_error(
        field("format_version"),
        fmt::format("{} is not supported (this build reads {})", *version, kFormatVersion));
  }
  auto columns = whole_member(root, "columns", 1, kMaxIsolationForestColumns);
  if (!columns.ok()) return columns.error();
  auto samples = whole_member(root, "samples", 2, std::numeric_limits<uint32_t>::max());
  if (!samples.ok()) return samples.error();
  auto roots = array_member(root, "", "roots");
  if (!roots.ok()) return roots.error();
  auto nodes_it = root.find("nodes");
  if (nodes_it == root.end()) return make_error(field("nodes"), "missing");
  if (!nodes_it->is_object()) {
    return make_error(field("nodes"),
                      fmt::format("must be an object, not {}", nodes_it->type_name()));
  }
  auto feature = array_member(*nodes_it, "nodes", "feature");
  if (!feature.ok()) return feature.error();
  auto threshold = array_member(*nodes_it, "nodes", "threshold");
  if (!threshold.ok()) return threshold.error();
  auto left = array_member(*nodes_it, "nodes", "left");
  if (!left.ok()) return left.error();
  const size_t n = (*feature)->size();
  if (n == 0) return make_error(field("nodes.feature"), "no nodes");
  if (n >= kLeaf) return make_error(field("nodes.feature"), "too many nodes");
  if ((*threshold)->size() != n || (*left)->size() != n) {
    return make_error(field("nodes"),
                      fmt::format("feature, threshold and left differ in length ({}, {}, {})", n,
                                  (*threshold)->size(), (*left)->size()));
  }
  if ((*roots)->empty()) return make_error(field("roots"), "no trees");

  IsolationForest f;
  f.columns_ = *columns;
  f.samples_ = *samples;
  f.c_norm_ = isolation_c(static_cast<double>(*samples));
  f.nodes_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const nlohmann::json& fj = (**feature)[i];
    const nlohmann::json& tj = (**threshold)[i];
    const nlohmann::json& lj = (**left)[i];
    if (!fj.is_number_integer()) {
      return make_error(field(fmt::format("nodes.feature[{}]", i)),
                        fmt::format("must be an integer, not {}", fj.type_name()));
    }
    if (!tj.is_number()) {
      return make_error(field(fmt::format("nodes.threshold[{}]", i)),
                        fmt::format("must be a number, not {}", tj.type_name()));
    }
    const double t = tj.get<double>();
    if (!std::isfinite(t) || std::fabs(t) > std::numeric_limits<float>::max()) {
      return make_error(field(fmt::format("nodes.threshold[{}]", i)), "outside float's range");
    }
    Node& node = f.nodes_[i];
    node.threshold = static_cast<float>(t);
    if (!fj.is_number_unsigned() && fj.get<int64_t>() == -1) {
      if (t < 0) {
        return make_error(field(fmt::format("nodes.threshold[{}]", i)),
                          "a leaf's path length cannot be negative");
      }
      node.feature = kLeaf;
      node.left = 0;
      continue;
    }
    if (!fj.is_number_unsigned() || fj.get<uint64_t>() >= *columns) {
      return make_error(
          field(fmt::format("nodes.feature[{}]", i)),
          fmt::format("{} is not -1 (leaf) or a column below {}", fj.dump(), *columns));
    }
    const auto feat = fj.get<uint64_t>();
    if (!lj.is_number_unsigned()) {
      return make_error(field(fmt::format("nodes.left[{}]", i)),
                        fmt::format("must be a whole number, not {}", lj.type_name()));
    }
    const auto l = lj.get<uint64_t>();
    // Children after their parent: every walk moves forward, so it ends.
    if (l <= i || l + 1 >= n) {
      return make_error(field(fmt::format("nodes.left[{}]", i)),
                        fmt::format("{} must be after node {} with its right sibling inside the "
                                    "{} nodes",
                                    l, i, n));
    }
    node.feature = static_cast<uint32_t>(feat);
    node.left = static_cast<uint32_t>(l);
  }
  f.roots_.reserve((*roots)->size());
  for (size_t t = 0; t < (*roots)->size(); ++t) {
    const nlohmann::json& r = (**roots)[t];
    if (!r.is_number_unsigned() || r.get<uint64_t>() >= n) {
      return make_error(field(fmt::format("roots[{}]", t)),
                        fmt::format("must be a node index below {}", n));
    }
    f.roots_.push_back(static_cast<uint32_t>(r.get<uint64_t>()));
  }
  return f;
}

Result<IsolationForest> IsolationForest::load_file(const std::string& path) {
  auto text = read_file_limited(path, kMaxIsolationForestBytes);
  if (!text.ok()) return text.error();
  auto f = from_json(*text);
  if (!f.ok()) return make_error(path + ": " + f.error().field, f.error().reason);
  return f;
}

}  // namespace fw
