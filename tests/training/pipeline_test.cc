#include "training/pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "sources/history_writer.h"
#include "testing/paths.h"
#include "testing/process.h"
#include "training/model_dir.h"

namespace fw {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Five simulated weeks, written once for the suite.
class TrainPipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    SimulatorConfig c;
    c.seed = 21;
    c.customers = 800;
    c.merchants = 150;
    c.fraud_ratio = 0.02;
    HistoryOptions h;
    h.out_dir = dir_->file("hist");
    h.from = *parse_rfc3339("2026-03-01T00:00:00Z");
    h.to = *parse_rfc3339("2026-04-05T00:00:00Z");
    auto stats = write_history(c, h);
    ASSERT_TRUE(stats.ok()) << stats.error().message();
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static TrainJob job(const std::string& out) {
    TrainJob j;
    j.data.input = dir_->file("hist");
    j.data.window_from = *parse_rfc3339("2026-03-08T00:00:00Z");
    j.data.window_to = *parse_rfc3339("2026-03-29T00:00:00Z");
    j.train.max_rounds = 40;
    j.train.early_stopping_rounds = 10;
    j.train.search_trials = 2;
    j.train.seed = 3;
    j.out_dir = dir_->file(out);
    return j;
  }
  static inline testing::TempDir* dir_ = nullptr;
};

TEST_F(TrainPipeline, TrainsWritesTheFolderAndEvaluatesLaterData) {
  std::vector<std::string> lines;
  TrainJob j = job("model");
  j.log = [&](const std::string& l) { lines.push_back(l); };
  auto r = run_train_job(j);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->train.trials.size(), 2u);
  EXPECT_GE(lines.size(), 3u);  // replay, trials, summary
  for (const char* f : {"model.json", "metadata.json", "evaluation.json", "roc.svg", "pr.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_->file("model/") + f)) << f;
  }
  // The validation rows are the latest 20%; the model ranks them well.
  EXPECT_GT(r->validation.roc_auc, 0.85);
  EXPECT_GT(r->validation.average_precision, 0.3);
  EXPECT_GT(r->validation.at_threshold.tp, 0u);

  auto loaded = load_model(dir_->file("model"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_DOUBLE_EQ(loaded->threshold, r->validation.threshold);
  EXPECT_EQ(loaded->metadata["feature_schema_hash"], schema_hash_hex());
  EXPECT_EQ(loaded->metadata["feature_names"].size(), kFeatureCount);
  EXPECT_TRUE(loaded->metadata["reference"]["features"].contains("amount"));
  EXPECT_EQ(loaded->model.tree_count(), static_cast<size_t>(r->train.best.best_rounds));
  // The anomaly score travels with the model: trained on the training rows, saved, reloaded.
  ASSERT_TRUE(loaded->forest.has_value());
  EXPECT_EQ(loaded->forest->columns(), kFeatureCount);
  EXPECT_EQ(loaded->metadata["anomaly"]["file"], "isolation_forest.json");
  EXPECT_EQ(loaded->metadata["anomaly"]["trained_on_rows"], r->train.train_rows);
  ASSERT_TRUE(r->validation.anomaly_roc_auc.has_value());
  EXPECT_GT(*r->validation.anomaly_roc_auc, 0.5);  // unsupervised, but better than chance
  EXPECT_EQ(loaded->metadata["validation_metrics"]["anomaly_score"]["roc_auc"],
            *r->validation.anomaly_roc_auc);

  // model.json is XGBoost's own format: Python's xgboost loads it and predicts what we serve.
  DatasetOptions later;
  later.input = dir_->file("hist");
  later.window_from = *parse_rfc3339("2026-04-01T00:00:00Z");
  later.window_to = *parse_rfc3339("2026-04-01T06:00:00Z");
  auto rows = build_dataset(later);
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_GT(rows->rows(), 50u);
  {
    std::ofstream x(dir_->file("x.csv"));
    x.precision(9);
    for (size_t f = 0; f < kFeatureCount; ++f)
      x << (f ? "," : "") << feature_name(static_cast<FeatureId>(f));
    x << "\n";
    for (size_t i = 0; i < rows->rows(); ++i) {
      for (size_t f = 0; f < kFeatureCount; ++f) x << (f ? "," : "") << rows->row(i)[f];
      x << "\n";
    }
  }
  testing::ChildProcess py(
      {"/usr/bin/python3", (testing::source_dir() / "tests/training/xgboost_predict.py").string(),
       dir_->file("model/model.json"), dir_->file("x.csv"), dir_->file("py.csv")});
  while (py.read_line(300000)) {
  }
  ASSERT_EQ(py.wait(), 0) << py.transcript();
  std::vector<float> ours = score_rows(loaded->model, *rows, 0, rows->rows());
  std::ifstream py_out(dir_->file("py.csv"));
  size_t compared = 0;
  for (double v; py_out >> v; ++compared) {
    ASSERT_LT(compared, ours.size());
    EXPECT_NEAR(ours[compared], v, 1e-6) << compared;
  }
  EXPECT_EQ(compared, ours.size());

  // The following week, never seen in training, warmed by everything before it.
  EvaluateJob e;
  e.model = dir_->file("model");
  e.data.input = dir_->file("hist");
  e.data.window_from = *parse_rfc3339("2026-03-29T00:00:00Z");
  e.out_dir = dir_->file("eval");
  auto report = run_evaluate_job(e);
  ASSERT_TRUE(report.ok()) << report.error().message();
  std::cerr << report_table(*report);
  EXPECT_GT(report->rows, 1000u);
  EXPECT_GT(report->roc_auc, 0.85);
  EXPECT_DOUBLE_EQ(report->threshold, loaded->threshold);
  ASSERT_TRUE(report->anomaly_roc_auc.has_value());  // reported beside the model's
  EXPECT_GT(*report->anomaly_roc_auc, 0.5);
  EXPECT_LT(*report->anomaly_roc_auc, report->roc_auc);
  EXPECT_NE(slurp(dir_->file("eval/evaluation.json")).find("\"anomaly_score\""), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_->file("eval/evaluation.json")));
  // Most patterns with enough examples to judge are mostly caught at the chosen threshold (the
  // ones the model misses are listed in docs/models.md).
  size_t judged = 0, caught = 0;
  for (const auto& [name, p] : report->by_pattern) {
    if (p.frauds < 20) continue;
    ++judged;
    caught += p.recall() >= 0.5 ? 1 : 0;
  }
  EXPECT_GE(judged, 5u);
  EXPECT_GE(static_cast<double>(caught), 0.7 * static_cast<double>(judged));
  EXPECT_GT(report->at_threshold.recall(), 0.6);
}

TEST_F(TrainPipeline, SameSeedSameModel) {
  TrainJob ja = job("a"), jb = job("b");
  ja.train.max_rounds = jb.train.max_rounds = 15;
  auto a = run_train_job(ja);
  auto b = run_train_job(jb);
  ASSERT_TRUE(a.ok()) << a.error().message();
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(a->train.model_json, b->train.model_json);
  EXPECT_EQ(slurp(dir_->file("a/model.json")), slurp(dir_->file("b/model.json")));
}

TEST_F(TrainPipeline, ModelFoldersAreChecked) {
  TrainJob j = job("checked");
  j.train.search_trials = 1;
  ASSERT_TRUE(run_train_job(j).ok());
  const std::string meta = dir_->file("checked/metadata.json");
  const std::string original = slurp(meta);
  auto rewrite = [&](const std::string& from, const std::string& to) {
    std::string text = original;
    const size_t p = text.find(from);
    ASSERT_NE(p, std::string::npos) << from;
    text.replace(p, from.size(), to);
    std::ofstream(meta, std::ios::trunc) << text;
  };
  rewrite("\"feature_schema_hash\": \"0x", "\"feature_schema_hash\": \"0xdead");
  auto stale = load_model(dir_->file("checked"));
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().field.find("feature_schema_hash"), std::string::npos);
  rewrite("\"threshold\": ", "\"threshold\": 7");
  auto bad = load_model(dir_->file("checked"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().field.find("threshold"), std::string::npos);
  std::ofstream(meta, std::ios::trunc) << "{\"truncated";
  auto trunc = load_model(dir_->file("checked"));
  ASSERT_FALSE(trunc.ok());
  EXPECT_NE(trunc.error().field.find("metadata.json"), std::string::npos);
  // A bare XGBoost file (bring your own model) loads with the default threshold.
  std::filesystem::remove(meta);
  auto bare = load_model(dir_->file("checked/model.json"));
  ASSERT_TRUE(bare.ok()) << bare.error().message();
  EXPECT_EQ(bare->threshold, kDefaultThreshold);
}

TEST_F(TrainPipeline, NoAnomalyWritesNoForestAndRemovesAStaleOne) {
  TrainJob j = job("no_anomaly");
  j.train.search_trials = 1;
  j.train.max_rounds = 10;
  ASSERT_TRUE(run_train_job(j).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_->file("no_anomaly/isolation_forest.json")));
  j.anomaly = false;
  auto r = run_train_job(j);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_FALSE(r->validation.anomaly_roc_auc.has_value());
  EXPECT_FALSE(std::filesystem::exists(dir_->file("no_anomaly/isolation_forest.json")));
  auto loaded = load_model(dir_->file("no_anomaly"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_FALSE(loaded->forest.has_value());
  EXPECT_TRUE(loaded->metadata["anomaly"].is_null());
  // A damaged forest file makes the folder fail to load, naming the file and field.
  std::ofstream(dir_->file("no_anomaly/isolation_forest.json")) << R"({"format": 3})";
  auto bad = load_model(dir_->file("no_anomaly"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().field.find("isolation_forest.json"), std::string::npos);
  EXPECT_NE(bad.error().field.find("isolation_forest.format"), std::string::npos);
}

TEST_F(TrainPipeline, TooLittleDataIsAnError) {
  TrainJob j = job("tiny");
  j.data.window_from = *parse_rfc3339("2026-03-08T00:00:00Z");
  j.data.window_to = *parse_rfc3339("2026-03-08T00:10:00Z");
  auto r = run_train_job(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "training");
}

// --anomaly-feature: the forest is trained first and its score is the model's extra column;
// the serving evaluator (which reads the score from FeatureVector's anomaly slot) predicts what
// Python's xgboost predicts on the same rows with that column; folders missing the forest, or
// whose files disagree about the column, are refused naming the file and field.
TEST_F(TrainPipeline, AnomalyScoreAsAModelInput) {
  TrainJob j = job("anomaly-input");
  j.train.search_trials = 1;
  j.anomaly_feature = true;
  auto r = run_train_job(j);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_GT(r->validation.roc_auc, 0.85);
  const std::string folder = dir_->file("anomaly-input");
  auto loaded = load_model(folder);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message();
  EXPECT_TRUE(loaded->model.uses_anomaly_score());
  ASSERT_TRUE(loaded->forest.has_value());
  const nlohmann::json& names = loaded->metadata["feature_names"];
  ASSERT_EQ(names.size(), kFeatureCount + 1);
  EXPECT_EQ(names.back(), "anomaly_score");
  EXPECT_EQ(loaded->metadata["anomaly"]["model_input"], true);
  EXPECT_EQ(loaded->model.features().back(), kAnomalyColumnId);

  // Held-out rows: features, then the folder's forest's score, as the engine computes them.
  DatasetOptions later;
  later.input = dir_->file("hist");
  later.window_from = *parse_rfc3339("2026-04-01T00:00:00Z");
  later.window_to = *parse_rfc3339("2026-04-01T08:00:00Z");
  auto rows = build_dataset(later);
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_GT(rows->rows(), 50u);
  std::vector<float> ours;
  std::vector<float> anomaly;
  {
    std::ofstream x(dir_->file("xa.csv"));
    x.precision(9);
    for (size_t f = 0; f < kFeatureCount; ++f) x << feature_name(static_cast<FeatureId>(f)) << ",";
    x << "anomaly_score\n";
    FeatureVector v;
    for (size_t i = 0; i < rows->rows(); ++i) {
      for (size_t f = 0; f < kFeatureCount; ++f) {
        v.values[f] = rows->row(i)[f];
        x << rows->row(i)[f] << ",";
      }
      v[ScoreSlot::kAnomalyScore] = loaded->forest->score(v);  // what the engine does
      anomaly.push_back(static_cast<float>(v[ScoreSlot::kAnomalyScore]));
      x << anomaly.back() << "\n";
      ours.push_back(static_cast<float>(loaded->model.predict(v)));
      // Without the score the prediction is another one: the column is really read.
      const Explanation e = loaded->model.explain(v, kFeatureCount + 1);
      EXPECT_NEAR(e.margin, loaded->model.margin(v), 1e-5);
    }
  }
  // The anomaly column is used by the trees (otherwise this test proves nothing).
  bool used = false;
  FeatureVector probe;
  for (size_t i = 0; i < rows->rows() && !used; ++i) {
    for (size_t f = 0; f < kFeatureCount; ++f) probe.values[f] = rows->row(i)[f];
    probe[ScoreSlot::kAnomalyScore] = 0.0;
    const double low = loaded->model.predict(probe);
    probe[ScoreSlot::kAnomalyScore] = 1.0;
    used = loaded->model.predict(probe) != low;
  }
  EXPECT_TRUE(used) << "no tree splits on anomaly_score";
  testing::ChildProcess py({"/usr/bin/python3",
                            (testing::source_dir() / "tests/training/xgboost_predict.py").string(),
                            folder + "/model.json", dir_->file("xa.csv"), dir_->file("pya.csv")});
  while (py.read_line(300000)) {
  }
  ASSERT_EQ(py.wait(), 0) << py.transcript();
  std::ifstream py_out(dir_->file("pya.csv"));
  size_t compared = 0;
  for (double v; py_out >> v; ++compared) {
    ASSERT_LT(compared, ours.size());
    EXPECT_NEAR(ours[compared], v, 1e-6) << compared;
  }
  EXPECT_EQ(compared, ours.size());

  // evaluate computes the column from the folder's forest.
  EvaluateJob e;
  e.model = folder;
  e.data.input = dir_->file("hist");
  e.data.window_from = *parse_rfc3339("2026-03-29T00:00:00Z");
  auto report = run_evaluate_job(e);
  ASSERT_TRUE(report.ok()) << report.error().message();
  EXPECT_GT(report->roc_auc, 0.85);

  // Hostile folders. The column declared, no forest: refused naming metadata.json's field.
  const std::string forest_file = folder + "/isolation_forest.json";
  const std::string forest_text = slurp(forest_file);
  std::filesystem::remove(forest_file);
  auto no_forest = load_model(folder);
  ASSERT_FALSE(no_forest.ok());
  EXPECT_NE(no_forest.error().field.find("metadata.json: feature_names"), std::string::npos)
      << no_forest.error().message();
  EXPECT_NE(no_forest.error().reason.find("isolation_forest.json"), std::string::npos);
  // Without metadata, model.json's own column names it.
  const std::string meta_file = folder + "/metadata.json";
  const std::string meta_text = slurp(meta_file);
  std::filesystem::remove(meta_file);
  auto bare_folder = load_model(folder);
  ASSERT_FALSE(bare_folder.ok());
  EXPECT_NE(bare_folder.error().field.find("model.json: learner.feature_names"), std::string::npos)
      << bare_folder.error().message();
  auto bare_file = load_model(folder + "/model.json");
  ASSERT_FALSE(bare_file.ok());
  EXPECT_NE(bare_file.error().field.find("learner.feature_names"), std::string::npos);
  // Metadata that disagrees with model.json about the column.
  std::ofstream(forest_file, std::ios::trunc) << forest_text;
  nlohmann::json meta = nlohmann::json::parse(meta_text);
  meta["feature_names"].erase(meta["feature_names"].size() - 1);
  std::ofstream(meta_file, std::ios::trunc) << meta.dump();
  auto disagree = load_model(folder);
  ASSERT_FALSE(disagree.ok());
  EXPECT_NE(disagree.error().field.find("metadata.json: feature_names"), std::string::npos)
      << disagree.error().message();
  meta["feature_names"] = 7;
  std::ofstream(meta_file, std::ios::trunc) << meta.dump();
  auto wrong_type = load_model(folder);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().field.find("feature_names"), std::string::npos);
  std::ofstream(meta_file, std::ios::trunc) << meta_text;
  EXPECT_TRUE(load_model(folder).ok());

  TrainJob refused = job("refused");
  refused.anomaly_feature = true;
  refused.anomaly = false;
  auto no = run_train_job(refused);
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(no.error().field, "--anomaly-feature");
}

}  // namespace
}  // namespace fw
