#include "scoring/isolation_forest.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

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

}  // namespace fw
