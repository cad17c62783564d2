#include "scoring/tree_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "testing/paths.h"

namespace fw {
namespace {

using nlohmann::json;

json tree(json left, json right, json split, json cond, json dleft, json hess) {
  const size_t n = left.size();
  return json{{"tree_param", {{"num_nodes", std::to_string(n)}}},
              {"left_children", std::move(left)},
              {"right_children", std::move(right)},
              {"split_indices", std::move(split)},
              {"split_conditions", std::move(cond)},
              {"default_left", std::move(dleft)},
              {"sum_hessian", std::move(hess)},
              {"split_type", json(std::vector<int>(n, 0))}};
}

// Tree 0: amount < 100 (missing: left) ? (new_device < 0.5 (missing: right) ? -0.2 : 0.3) : 0.5
// Tree 1: a single leaf 0.1. Features named in an order unlike the schema's.
json small_model() {
  json t0 = tree({1, 3, -1, -1, -1}, {2, 4, -1, -1, -1}, {1, 0, 0, 0, 0},
                 {100.0, 0.5, 0.5, -0.2, 0.3}, {1, 0, 0, 0, 0}, {10.0, 6.0, 4.0, 4.0, 2.0});
  json t1 = tree({-1}, {-1}, {0}, {0.1}, {0}, {10.0});
  return json{
      {"learner",
       {{"feature_names", {"new_device", "amount"}},
        {"learner_model_param", {{"base_score", "5E-1"}, {"num_class", "0"}, {"num_feature", "2"}}},
        {"objective", {{"name", "binary:logistic"}}},
        {"gradient_booster",
         {{"name", "gbtree"},
          {"model",
           {{"gbtree_model_param", {{"num_parallel_tree", "1"}}}, {"trees", {t0, t1}}}}}}}},
      {"version", {1, 7, 4}}};
}

FeatureVector features(double amount, double new_device) {
  FeatureVector x;
  x[FeatureId::kAmount] = amount;
  x[FeatureId::kNewDevice] = new_device;
  return x;
}

TreeModel load(const json& j) {
  auto m = TreeModel::from_xgboost_json(j.dump());
  EXPECT_TRUE(m.ok()) << m.error().message();
  return std::move(*m);
}

TEST(TreeModel, WalksSplitsAndDefaultDirections) {
  TreeModel m = load(small_model());
  EXPECT_EQ(m.tree_count(), 2u);
  EXPECT_EQ(m.max_depth(), 2);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NEAR(m.margin(features(50, 0)), -0.1, 1e-7);
  EXPECT_NEAR(m.margin(features(50, 1)), 0.4, 1e-7);
  EXPECT_NEAR(m.margin(features(150, 0)), 0.6, 1e-7);
  EXPECT_NEAR(m.margin(features(100, 0)), 0.6, 1e-7);   // not < 100: right
  EXPECT_NEAR(m.margin(features(nan, 0)), -0.1, 1e-7);  // missing amount: left
  EXPECT_NEAR(m.margin(features(50, nan)), 0.4, 1e-7);  // missing new_device: right
  EXPECT_NEAR(m.predict(features(150, 0)), 1 / (1 + std::exp(-0.6)), 1e-7);
}

TEST(TreeModel, BaseScoreShiftsTheMargin) {
  json j = small_model();
  j["learner"]["learner_model_param"]["base_score"] = "0.2";
  TreeModel m = load(j);
  EXPECT_NEAR(m.margin(features(150, 0)), 0.6 + std::log(0.2 / 0.8), 1e-6);
}

TEST(TreeModel, PathAttributionAddsUpToTheMargin) {
  TreeModel m = load(small_model());
  auto e = m.explain(features(50, 0));
  // Expected values: node1 = (-0.2*4 + 0.3*2)/6, root = (node1*6 + 0.5*4)/10; bias adds tree 1.
  const double node1 = (-0.2 * 4 + 0.3 * 2) / 6;
  const double root = (node1 * 6 + 0.5 * 4) / 10;
  EXPECT_NEAR(e.bias, root + 0.1, 1e-6);
  ASSERT_EQ(e.top.size(), 2u);
  EXPECT_EQ(e.top[0].feature, FeatureId::kAmount);
  EXPECT_NEAR(e.top[0].value, node1 - root, 1e-6);
  EXPECT_EQ(e.top[1].feature, FeatureId::kNewDevice);
  EXPECT_NEAR(e.top[1].value, -0.2 - node1, 1e-6);
  EXPECT_NEAR(e.bias + e.top[0].value + e.top[1].value, e.margin, 1e-6);
  EXPECT_NEAR(e.margin, -0.1, 1e-7);
  EXPECT_EQ(m.explain(features(50, 0), 1).top.size(), 1u);
}

TEST(TreeModel, TreeShapAddsUpToTheMargin) {
  TreeModel m = load(small_model());
  for (auto [a, d] : {std::pair{50.0, 0.0}, {50.0, 1.0}, {150.0, 0.0}, {150.0, 1.0}}) {
    FeatureVector x = features(a, d);
    auto s = m.tree_shap(x);
    double sum = s.bias;
    for (double v : s.values) sum += v;
    EXPECT_NEAR(sum, m.margin(x), 1e-6) << a << " " << d;
  }
  // Shapley values of tree 0 at x = (amount 150, new_device 0), with f(S) the expected value
  // when only the features in S are known: f({}) = 0.18 (root mean), f({amount}) = 0.5,
  // f({new_device}) = 0.6 * -0.2 + 0.4 * 0.5 = 0.08, f({both}) = 0.5. Tree 1 has no splits.
  auto s = m.tree_shap(features(150, 0));
  const double phi_amount = 0.5 * ((0.5 - 0.18) + (0.5 - 0.08));
  EXPECT_NEAR(s.values[static_cast<size_t>(FeatureId::kAmount)], phi_amount, 1e-6);
}

// Every field a model file depends on, broken in turn: the error names the field.
TEST(TreeModel, MalformedModelsNameTheField) {
  struct Case {
    std::string name;
    std::function<void(json&)> mutate;
    std::string field;
  };
  const std::string t0 = "learner.gradient_booster.model.trees[0]";
  std::vector<Case> cases = {
      {"no learner", [](json& j) { j.erase("learner"); }, "learner"},
      {"objective", [](json& j) { j["learner"]["objective"]["name"] = "reg:squarederror"; },
       "learner.objective.name"},
      {"objective type", [](json& j) { j["learner"]["objective"]["name"] = 3; },
       "learner.objective.name"},
      {"base_score text",
       [](json& j) { j["learner"]["learner_model_param"]["base_score"] = "half"; },
       "learner.learner_model_param.base_score"},
      {"base_score range",
       [](json& j) { j["learner"]["learner_model_param"]["base_score"] = "1.5"; },
       "learner.learner_model_param.base_score"},
      {"num_class", [](json& j) { j["learner"]["learner_model_param"]["num_class"] = "3"; },
       "learner.learner_model_param.num_class"},
      {"no names", [](json& j) { j["learner"].erase("feature_names"); }, "learner.feature_names"},
      {"unknown name", [](json& j) { j["learner"]["feature_names"][1] = "shoe_size"; },
       "learner.feature_names[1]"},
      {"duplicate name", [](json& j) { j["learner"]["feature_names"][1] = "new_device"; },
       "learner.feature_names[1]"},
      {"name count", [](json& j) { j["learner"]["feature_names"].push_back("mcc"); },
       "learner.feature_names"},
      {"booster", [](json& j) { j["learner"]["gradient_booster"]["name"] = "gblinear"; },
       "learner.gradient_booster.name"},
      {"trees type", [](json& j) { j["learner"]["gradient_booster"]["model"]["trees"] = 7; },
       "learner.gradient_booster.model.trees"},
      {"num_nodes",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"]["num_nodes"] = "6";
       },
       t0 + ".left_children"},
      {"num_nodes huge",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["tree_param"]["num_nodes"] = "1e12";
       },
       t0 + ".tree_param.num_nodes"},
      {"child range",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][1] = 9;
       },
       t0 + ".left_children[1]"},
      {"cycle",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][1] = 1;
       },
       t0 + ".left_children[1]"},
      {"one child",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["right_children"][1] = -1;
       },
       t0 + ".right_children[1]"},
      {"split index",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 2;
       },
       t0 + ".split_indices[0]"},
      {"condition type",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["split_conditions"][0] = "x";
       },
       t0 + ".split_conditions[0]"},
      {"condition overflow",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["split_conditions"][2] = 1e300;
       },
       t0 + ".split_conditions[2]"},
      {"default_left",
       [](json& j) {
         j["learner"]["gradient_booster"]["model"]["trees"][0]["default_left"][0] = 2;
       },
       t0 + ".default_left[0]"},
      {"cover",
       [](json& j) { j["learner"]["gradient_booster"]["model"]["trees"][0]["sum_hessian"][3] = 0; },
       t0 + ".sum_hessian[3]"},
      {"categorical",
       [](json& j) { j["learner"]["gradient_booster"]["model"]["trees"][0]["split_type"][0] = 1; },
       t0 + ".split_type[0]"},
      {"tree type", [](json& j) { j["learner"]["gradient_booster"]["model"]["trees"][1] = "tree"; },
       "learner.gradient_booster.model.trees[1]"},
  };
  for (const Case& c : cases) {
    json j = small_model();
    c.mutate(j);
    auto m = TreeModel::from_xgboost_json(j.dump());
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_EQ(m.error().field, c.field) << c.name << ": " << m.error().message();
    EXPECT_FALSE(m.error().reason.empty()) << c.name;
  }
}

TEST(TreeModel, EveryTruncationIsAnErrorNotACrash) {
  const std::string text = small_model().dump();
  for (size_t n = 0; n < text.size(); ++n) {
    auto m = TreeModel::from_xgboost_json(std::string_view(text).substr(0, n));
    EXPECT_FALSE(m.ok()) << n;
  }
  EXPECT_TRUE(TreeModel::from_xgboost_json(text).ok());
}

TEST(TreeModel, HostileInputsAreRefused) {
  // Deep nesting never reaches the parser.
  auto deep = TreeModel::from_xgboost_json(std::string(1 << 20, '['));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.error().reason.find("nested"), std::string::npos);
  for (const char* text : {"", "null", "[]", "{}", "\"learner\"", "{\"learner\": []}",
                           "\xff\xfe garbage", "{\"learner\": {\"objective\": 1}}"}) {
    auto m = TreeModel::from_xgboost_json(text);
    EXPECT_FALSE(m.ok()) << text;
  }
  // Random byte flips of a valid model: each either loads or fails cleanly.
  const std::string text = small_model().dump();
  std::mt19937 rng(7);
  int refused = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string t = text;
    t[rng() % t.size()] = static_cast<char>(rng() % 256);
    auto m = TreeModel::from_xgboost_json(t);
    if (!m.ok()) {
      ++refused;
      continue;
    }
    (void)m->predict(features(50, 1));
    (void)m->tree_shap(features(50, 1));
  }
  EXPECT_GT(refused, 0);
}

TEST(TreeModel, LoadFileNamesThePath) {
  testing::TempDir dir;
  auto missing = TreeModel::load_file(dir.file("nope.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().field.find("nope.json"), std::string::npos);
  { std::ofstream(dir.file("bad.json")) << "{\"learner\": {}}"; }
  auto bad = TreeModel::load_file(dir.file("bad.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().field.find("bad.json"), std::string::npos);
  EXPECT_NE(bad.error().field.find("learner.objective"), std::string::npos);
  { std::ofstream(dir.file("good.json")) << small_model().dump(); }
  auto good = TreeModel::load_file(dir.file("good.json"));
  ASSERT_TRUE(good.ok()) << good.error().message();
  EXPECT_NEAR(good->margin(features(50, 1)), 0.4, 1e-7);
}

}  // namespace
}  // namespace fw
