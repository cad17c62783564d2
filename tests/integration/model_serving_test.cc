// Models in the running engine, end to end: simulate a history, train a small model, serve it in
// `fraudwatch demo` on live simulated traffic, and check that model-driven REVIEW/BLOCK
// decisions with their contributions are stored and that most fraud is flagged. Also: a model
// trained in Python's xgboost (bring your own) serves; broken model folders are refused by name.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "storage/sqlite_store.h"
#include "testing/demo_http.h"
#include "testing/fraudwatch_cli.h"
#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;
using fw::testing::TempDir;

int run(const std::vector<std::string>& args, std::string* transcript = nullptr) {
  return fw::testing::run_fraudwatch(args, transcript);
}

std::vector<DecisionRow> stored_decisions(const std::string& data_dir) {
  auto store = open_sqlite_store({.path = data_dir + "/fraudwatch.db"});
  EXPECT_TRUE(store.ok()) << store.error().message();
  if (!store.ok()) return {};
  auto rows = (*store)->recent_decisions(1'000'000);
  EXPECT_TRUE(rows.ok()) << rows.error().message();
  return rows.ok() ? *rows : std::vector<DecisionRow>{};
}

std::vector<std::string> demo_args(const std::string& data_dir, const std::string& count) {
  return {"demo",        "--data-dir", data_dir,        "--port", "0", "--quiet",     "--rate",
          "0",           "--count",    count,           "--seed", "9", "--customers", "500",
          "--merchants", "100",        "--fraud-ratio", "0.02"};
}

TEST(ModelServing, TrainedModelFlagsLiveFraudWithContributions) {
  TempDir dir;
  const std::string hist = dir.file("hist");
  const std::string model = dir.file("model");
  const auto trained = fw::testing::simulate_and_train(hist, model, "2026-03-22",
                                                       {"--rounds", "40", "--threshold", "f1"});
  ASSERT_TRUE(trained.ok) << trained.transcript;
  std::string out;
  std::ifstream meta_in(model + "/metadata.json");
  const double threshold = nlohmann::json::parse(meta_in)["threshold"].get<double>();

  const std::string data = dir.file("data");
  std::vector<std::string> args = demo_args(data, "30000");
  args.insert(args.end(), {"--model", model, "--shadow-model", model});
  ASSERT_EQ(run(args, &out), 0) << out;
  EXPECT_NE(out.find("models: champion m"), std::string::npos) << out;

  const std::vector<DecisionRow> rows = stored_decisions(data);
  ASSERT_GE(rows.size(), 30000u);
  size_t fraud = 0, fraud_flagged_by_model = 0, model_flags = 0;
  std::map<std::string, std::pair<int, int>> per_pattern;  // pattern -> (flagged, total)
  for (const DecisionRow& r : rows) {
    const Decision& d = r.decision;
    ASSERT_FALSE(std::isnan(d.model_score)) << r.tx.id;
    ASSERT_FALSE(d.model_version.empty());
    EXPECT_DOUBLE_EQ(d.shadow_score, d.model_score);  // the same model as shadow
    const bool model_flag = d.model_score >= threshold;
    if (d.action != Action::kAllow) {
      EXPECT_FALSE(d.contributions.empty()) << r.tx.id;
      EXPECT_LE(d.contributions.size(), 5u);
    } else {
      EXPECT_TRUE(d.contributions.empty());
      EXPECT_FALSE(model_flag) << r.tx.id << " " << d.model_score;  // the policy applied it
    }
    if (model_flag) ++model_flags;
    if (!r.tx.fraud_pattern.empty()) {
      ++fraud;
      fraud_flagged_by_model += model_flag ? 1 : 0;
      auto& p = per_pattern[r.tx.fraud_pattern];
      p.first += model_flag ? 1 : 0;
      p.second += 1;
    }
  }
  std::string report;
  for (const auto& [name, p] : per_pattern) {
    report += name + " " + std::to_string(p.first) + "/" + std::to_string(p.second) + "; ";
  }
  ASSERT_GT(fraud, 100u);
  EXPECT_GT(model_flags, 0u);
  // Most of the fraud the model sees is flagged by the model alone (the rules come on top).
  EXPECT_GT(static_cast<double>(fraud_flagged_by_model) / static_cast<double>(fraud), 0.5)
      << report;
  // And the model does not flag everything: most of what it flags is fraud or close to it.
  EXPECT_LT(model_flags, rows.size() / 10) << report;
}

constexpr auto& port_of = fw::testing::demo_port;
constexpr auto& request = fw::testing::demo_request;

// A running demo swaps models on POST /api/models/reload while traffic flows; a refused folder
// leaves the running models; alerts and transactions show the model's part.
TEST(ModelServing, ReloadSwapsModelsInARunningDemoWithoutLosingTraffic) {
  TempDir dir;
  const std::string hist = dir.file("hist");
  std::string out;
  ASSERT_EQ(run({"simulate", "--from", "2026-03-01", "--to", "2026-03-15", "--out-dir", hist,
                 "--seed", "5", "--customers", "300", "--merchants", "60", "--fraud-ratio", "0.03"},
                &out),
            0)
      << out;
  const std::string a = dir.file("a"), b = dir.file("b"), live = dir.file("live");
  for (const auto& [folder, rounds] : {std::pair{a, "10"}, {b, "20"}}) {
    ASSERT_EQ(run({"train", "--input", hist, "--from", "2026-03-04", "--to", "2026-03-15", "--out",
                   folder, "--rounds", rounds, "--early-stopping", "1000"},
                  &out),
              0)
        << out;
  }
  namespace fs = std::filesystem;
  fs::create_directories(live);
  for (const char* f : {"model.json", "metadata.json"}) {
    fs::copy_file(a + "/" + f, live + "/" + f, fs::copy_options::overwrite_existing);
  }
  const std::string data = dir.file("data");
  ChildProcess demo({fw::testing::fraudwatch_binary().string(), "demo", "--port", "0", "--data-dir",
                     data, "--rate", "3000", "--seed", "5", "--customers", "300", "--merchants",
                     "60", "--fraud-ratio", "0.05", "--quiet", "--model", live});
  const uint16_t port = port_of(demo);
  ASSERT_GT(port, 0) << demo.transcript();
  auto before = nlohmann::json::parse(request(port, "GET", "/api/models").body);
  const std::string va = before["champion"].get<std::string>();
  ASSERT_EQ(va.size(), 13u) << before.dump();

  // A broken model.json: 422 naming the file; the running model stays.
  std::ofstream(live + "/model.json") << "{\"learner\": ";
  auto refused = request(port, "POST", "/api/models/reload");
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("model.json"), std::string::npos) << refused.body;
  EXPECT_EQ(nlohmann::json::parse(request(port, "GET", "/api/models").body)["champion"], va);

  for (const char* f : {"model.json", "metadata.json"}) {
    fs::copy_file(b + "/" + f, live + "/" + f, fs::copy_options::overwrite_existing);
  }
  auto swapped = request(port, "POST", "/api/models/reload");
  ASSERT_EQ(swapped.status, 200) << swapped.body;
  const std::string vb = nlohmann::json::parse(swapped.body)["champion"].get<std::string>();
  EXPECT_NE(vb, va);

  // Alerts made after the swap carry model B's version and contributions.
  nlohmann::json alert;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (alert.is_null() && std::chrono::steady_clock::now() < deadline) {
    auto alerts = nlohmann::json::parse(request(port, "GET", "/api/alerts?limit=50").body);
    for (const auto& al : alerts["alerts"]) {
      if (al["model"].is_object() && al["model"]["model_version"] == vb &&
          !al["model"]["contributions"].empty()) {
        alert = al;
        break;
      }
    }
  }
  ASSERT_FALSE(alert.is_null()) << "no alert scored by the new model";
  EXPECT_TRUE(alert["model"]["model_score"].is_number());
  auto tx = nlohmann::json::parse(
      request(port, "GET", "/api/transaction?id=" + alert["transaction_id"].get<std::string>())
          .body);
  EXPECT_EQ(tx["decision"]["model"]["model_version"], vb) << tx.dump();
  EXPECT_EQ(request(port, "GET", "/api/transaction?id=no-such").status, 404);
  EXPECT_EQ(request(port, "GET", "/api/transaction").status, 400);

  demo.signal(SIGINT);
  ASSERT_EQ(demo.wait(), 0) << demo.transcript();
  // Every stored decision was scored by A or B, never by none: the swap lost nothing.
  size_t by_a = 0, by_b = 0;
  const std::vector<DecisionRow> rows = stored_decisions(data);
  for (const DecisionRow& r : rows) {
    if (r.decision.model_version == va) ++by_a;
    if (r.decision.model_version == vb) ++by_b;
  }
  EXPECT_EQ(by_a + by_b, rows.size());
  EXPECT_GT(by_a, 0u);
  EXPECT_GT(by_b, 0u);
}

TEST(ModelServing, APythonTrainedModelServes) {
  TempDir dir;
  const std::string model = dir.file("byo.json");
  const std::string script = R"py(
import sys, numpy as np, xgboost as xgb
rng = np.random.default_rng(3)
X = rng.random((2000, 3)) * [2000.0, 10.0, 1.0]
y = ((X[:, 0] > 1500) & (X[:, 2] > 0.5)).astype(float)
d = xgb.DMatrix(X, label=y, feature_names=["amount", "tx_count_1h", "new_device"])
b = xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3}, d, 20)
b.save_model(sys.argv[1])
)py";
  ChildProcess py({"/usr/bin/python3", "-c", script, model});
  while (py.read_line(120000)) {
  }
  ASSERT_EQ(py.wait(), 0) << py.transcript();

  const std::string data = dir.file("data");
  std::vector<std::string> args = demo_args(data, "5000");
  args.insert(args.end(), {"--model", model});
  std::string out;
  ASSERT_EQ(run(args, &out), 0) << out;
  const std::vector<DecisionRow> rows = stored_decisions(data);
  ASSERT_GE(rows.size(), 5000u);
  size_t scored = 0;
  for (const DecisionRow& r : rows) {
    if (!std::isnan(r.decision.model_score) && r.decision.model_score > 0 &&
        r.decision.model_score < 1) {
      ++scored;
    }
  }
  EXPECT_EQ(scored, rows.size());
}

TEST(ModelServing, BrokenModelsAreRefusedByName) {
  TempDir dir;
  std::string out;
  // A folder whose metadata says another feature schema.
  const std::string other = dir.file("other");
  std::filesystem::create_directories(other);
  std::ofstream(other + "/model.json") << "{}";
  EXPECT_EQ(run({"bench", "--transactions", "10", "--accounts", "10", "--model", other}, &out), 2);
  EXPECT_NE(out.find("model.json"), std::string::npos) << out;
  std::ofstream(other + "/metadata.json") << R"({"feature_schema_hash": "0x0"})";
  EXPECT_EQ(run({"bench", "--transactions", "10", "--accounts", "10", "--model", other}, &out), 2);
  EXPECT_EQ(
      run({"bench", "--transactions", "10", "--accounts", "10", "--model", dir.file("missing")},
          &out),
      2);
  EXPECT_NE(out.find("missing"), std::string::npos) << out;
  // A bad model policy in the config names the key.
  const std::string cfg = dir.file("fw.yaml");
  std::ofstream(cfg) << "model:\n  review_at: 1.5\n";
  EXPECT_EQ(run({"bench", "--config", cfg, "--transactions", "10"}, &out), 2);
  EXPECT_NE(out.find("model.review_at"), std::string::npos) << out;
}

}  // namespace
}  // namespace fw
