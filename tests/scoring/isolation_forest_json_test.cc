// IsolationForest persistence: a saved forest scores exactly as the trained one, and every
// malformed, truncated, wrong-typed or hostile file is an Error naming the field, never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "scoring/isolation_forest.h"
#include "testing/paths.h"

namespace fw {
namespace {

std::vector<float> gaussian_rows(size_t n, size_t columns, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> rows(n * columns);
  for (float& v : rows) v = g(rng);
  return rows;
}

IsolationForest trained() {
  IsolationForestOptions o;
  o.trees = 20;
  o.max_samples = 64;
  auto f = IsolationForest::train(gaussian_rows(500, 4, 3), 4, o);
  EXPECT_TRUE(f.ok());
  return std::move(*f);
}

TEST(IsolationForestJson, RoundTripScoresIdentically) {
  const IsolationForest f = trained();
  const std::string text = f.to_json();
  auto g = IsolationForest::from_json(text);
  ASSERT_TRUE(g.ok()) << g.error().message();
  EXPECT_EQ(g->tree_count(), f.tree_count());
  EXPECT_EQ(g->columns(), 4U);
  EXPECT_EQ(g->samples(), 64U);
  const std::vector<float> probe = gaussian_rows(300, 4, 99);
  for (size_t i = 0; i < 300; ++i) {
    EXPECT_EQ(g->score(&probe[i * 4]), f.score(&probe[i * 4])) << "row " << i;
  }
  EXPECT_EQ(g->to_json(), text);  // saving again gives the same bytes

  testing::TempDir dir;
  const std::string path = dir.file("isolation_forest.json");
  std::ofstream(path) << text;
  auto h = IsolationForest::load_file(path);
  ASSERT_TRUE(h.ok()) << h.error().message();
  EXPECT_EQ(h->score(&probe[0]), f.score(&probe[0]));
  auto missing = IsolationForest::load_file(dir.file("nope.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("nope.json"), std::string::npos);
}

// Edits a valid forest's JSON and expects an error whose field contains `field`.
void expect_refused(const std::function<void(nlohmann::json&)>& edit, const std::string& field) {
  nlohmann::json j = nlohmann::json::parse(trained().to_json());
  edit(j);
  auto f = IsolationForest::from_json(j.dump());
  ASSERT_FALSE(f.ok()) << "accepted after editing " << field;
  EXPECT_NE(f.error().field.find(field), std::string::npos)
      << "expected field " << field << ", got " << f.error().message();
}

TEST(IsolationForestJson, WrongTypesAndValuesNameTheField) {
  using J = nlohmann::json;
  expect_refused([](J& j) { j["format"] = "xgboost"; }, "isolation_forest.format");
  expect_refused([](J& j) { j.erase("format"); }, "isolation_forest.format");
  expect_refused([](J& j) { j["format_version"] = 2; }, "isolation_forest.format_version");
  expect_refused([](J& j) { j["format_version"] = "1"; }, "isolation_forest.format_version");
  expect_refused([](J& j) { j["columns"] = 0; }, "isolation_forest.columns");
  expect_refused([](J& j) { j["columns"] = -4; }, "isolation_forest.columns");
  expect_refused([](J& j) { j["columns"] = 1e9; }, "isolation_forest.columns");
  expect_refused([](J& j) { j["columns"] = 1000000; }, "isolation_forest.columns");
  expect_refused([](J& j) { j.erase("samples"); }, "isolation_forest.samples");
  expect_refused([](J& j) { j["samples"] = 1; }, "isolation_forest.samples");
  expect_refused([](J& j) { j["roots"] = "0"; }, "isolation_forest.roots");
  expect_refused([](J& j) { j["roots"] = J::array(); }, "isolation_forest.roots");
  expect_refused([](J& j) { j["roots"][1] = 1u << 30; }, "isolation_forest.roots[1]");
  expect_refused([](J& j) { j["roots"][0] = -1; }, "isolation_forest.roots[0]");
  expect_refused([](J& j) { j["nodes"] = J::array(); }, "isolation_forest.nodes");
  expect_refused([](J& j) { j["nodes"].erase("left"); }, "isolation_forest.nodes.left");
  expect_refused([](J& j) { j["nodes"]["feature"] = 3; }, "isolation_forest.nodes.feature");
  expect_refused([](J& j) { j["nodes"]["threshold"].erase(0); }, "isolation_forest.nodes");
  expect_refused([](J& j) { j["nodes"]["feature"][0] = 4; }, "isolation_forest.nodes.feature[0]");
  expect_refused([](J& j) { j["nodes"]["feature"][0] = -2; }, "isolation_forest.nodes.feature[0]");
  expect_refused([](J& j) { j["nodes"]["feature"][0] = 0.5; }, "isolation_forest.nodes.feature[0]");
  expect_refused([](J& j) { j["nodes"]["feature"][0] = 18446744073709551615ULL; },
                 "isolation_forest.nodes.feature[0]");
  expect_refused([](J& j) { j["nodes"]["threshold"][0] = "x"; },
                 "isolation_forest.nodes.threshold[0]");
  expect_refused([](J& j) { j["nodes"]["threshold"][0] = 1e300; },
                 "isolation_forest.nodes.threshold[0]");
  // Cycles and out-of-range children: a child at or before its parent, or past the end.
  expect_refused([](J& j) { j["nodes"]["left"][0] = 0; }, "isolation_forest.nodes.left[0]");
  expect_refused([](J& j) { j["nodes"]["left"][0] = j["nodes"]["feature"].size() - 1; },
                 "isolation_forest.nodes.left[0]");
  expect_refused([](J& j) { j["nodes"]["left"][0] = "1"; }, "isolation_forest.nodes.left[0]");
  // A leaf's path length is never negative.
  expect_refused(
      [](J& j) {
        for (size_t i = 0; i < j["nodes"]["feature"].size(); ++i) {
          if (j["nodes"]["feature"][i] == -1) {
            j["nodes"]["threshold"][i] = -3;
            return;
          }
        }
      },
      "isolation_forest.nodes.threshold[");
}

TEST(IsolationForestJson, TruncatedAndHostileTextNeverCrashes) {
  const std::string text = trained().to_json();
  // Every prefix of a valid file is refused (the whole file is the only valid one).
  for (size_t cut = 0; cut + 1 < text.size(); cut += std::max<size_t>(1, text.size() / 200)) {
    auto f = IsolationForest::from_json(std::string_view(text).substr(0, cut));
    ASSERT_FALSE(f.ok()) << "accepted a prefix of " << cut << " bytes";
    EXPECT_FALSE(f.error().message().empty());
  }
  for (const std::string bad : {"", "null", "[]", "\"forest\"", "{}", "{\"format\":1}", "\xff\xfe",
                                "{\"format\": \"fraudwatch-isolation-forest\"}"}) {
    auto f = IsolationForest::from_json(bad);
    ASSERT_FALSE(f.ok()) << "accepted: " << bad;
    EXPECT_NE(f.error().message().find("isolation_forest"), std::string::npos)
        << f.error().message();
  }
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto d = IsolationForest::from_json(deep);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().reason.find("nested"), std::string::npos) << d.error().message();
  const std::string huge(kMaxIsolationForestBytes + 1, ' ');
  auto h = IsolationForest::from_json(huge);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().reason.find("larger"), std::string::npos);
}

}  // namespace
}  // namespace fw
