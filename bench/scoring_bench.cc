// Model cost per transaction: the flattened evaluator on 200 full trees of depth 6 over the
// feature schema (random splits and inputs, so branches are as unpredictable as real traffic
// or worse), plus the cost of explanations.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "scoring/tree_model.h"

namespace fw {
namespace {

// XGBoost's JSON for `trees` complete trees of `depth` over every schema feature; inputs are
// uniform in [0, 1), thresholds too.
std::string random_model(int trees, int depth, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  nlohmann::json names = nlohmann::json::array();
  for (size_t f = 0; f < kFeatureCount; ++f)
    names.push_back(feature_name(static_cast<FeatureId>(f)));
  nlohmann::json tree_list = nlohmann::json::array();
  const int n = (1 << (depth + 1)) - 1;
  const int internal = (1 << depth) - 1;
  for (int t = 0; t < trees; ++t) {
    std::vector<int> left(n, -1), right(n, -1), split(n, 0), dleft(n, 0);
    std::vector<double> cond(n), hess(n);
    for (int i = 0; i < n; ++i) {
      if (i < internal) {
        left[i] = 2 * i + 1;
        right[i] = 2 * i + 2;
        split[i] = static_cast<int>(rng() % kFeatureCount);
        cond[i] = unit(rng);
        dleft[i] = static_cast<int>(rng() % 2);
      } else {
        cond[i] = (unit(rng) - 0.5) * 0.2;
      }
    }
    for (int i = n - 1; i >= 0; --i) hess[i] = i < internal ? hess[2 * i + 1] + hess[2 * i + 2] : 1;
    tree_list.push_back({{"tree_param", {{"num_nodes", std::to_string(n)}}},
                         {"left_children", left},
                         {"right_children", right},
                         {"split_indices", split},
                         {"split_conditions", cond},
                         {"default_left", dleft},
                         {"sum_hessian", hess}});
  }
  nlohmann::json j = {
      {"learner",
       {{"feature_names", names},
        {"learner_model_param",
         {{"base_score", "5E-1"},
          {"num_class", "0"},
          {"num_feature", std::to_string(kFeatureCount)}}},
        {"objective", {{"name", "binary:logistic"}}},
        {"gradient_booster", {{"name", "gbtree"}, {"model", {{"trees", tree_list}}}}}}}};
  return j.dump();
}

struct Fixture {
  TreeModel model;
  std::vector<FeatureVector> inputs;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    auto m = TreeModel::from_xgboost_json(random_model(200, 6, 42));
    if (!m.ok()) std::abort();
    Fixture fx{std::move(*m), {}};
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> unit(0, 1);
    fx.inputs.resize(4096);
    for (FeatureVector& v : fx.inputs) {
      for (double& d : v.values) d = unit(rng);
    }
    return fx;
  }();
  return f;
}

void BM_Predict200TreesDepth6(benchmark::State& state) {
  const Fixture& f = fixture();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.model.predict(f.inputs[i++ & 4095]));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Predict200TreesDepth6);

void BM_ExplainTop5(benchmark::State& state) {
  const Fixture& f = fixture();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.model.explain(f.inputs[i++ & 4095], 5));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ExplainTop5);

void BM_ExactTreeShap(benchmark::State& state) {
  const Fixture& f = fixture();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(f.model.tree_shap(f.inputs[i++ & 4095]));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ExactTreeShap)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fw
