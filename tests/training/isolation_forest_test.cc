// The C++ Isolation Forest on simulated transactions, against scikit-learn's on the same rows:
// unsupervised, so both are judged by how well their anomaly score ranks the fraud (ROC AUC).
#include "scoring/isolation_forest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "sources/history_writer.h"
#include "testing/paths.h"
#include "testing/process.h"
#include "training/dataset.h"
#include "training/metrics.h"

namespace fw {
namespace {

TEST(IsolationForest, PathLengthNormaliser) {
  EXPECT_EQ(isolation_c(1), 0);
  EXPECT_EQ(isolation_c(2), 1);
  // 2 H(255) - 2 * 255 / 256 with H(i) ~ ln(i) + Euler's constant.
  EXPECT_NEAR(isolation_c(256), 2 * (std::log(255.0) + 0.5772156649) - 2 * 255.0 / 256, 1e-9);
}

TEST(IsolationForest, OutliersScoreHigherAndSameSeedSameForest) {
  std::mt19937 rng(1);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> rows;
  for (int i = 0; i < 2000 * 3; ++i) rows.push_back(g(rng));
  auto f = IsolationForest::train(rows, 3, {});
  ASSERT_TRUE(f.ok()) << f.error().message();
  const float center[3] = {0, 0, 0};
  const float far[3] = {6, -6, 6};
  EXPECT_LT(f->score(center), 0.5);
  EXPECT_GT(f->score(far), 0.65);
  auto again = IsolationForest::train(rows, 3, {});
  EXPECT_EQ(again->score(far), f->score(far));
  FeatureVector v;
  EXPECT_TRUE(std::isnan(f->score(v)));  // trained on 3 columns, not the schema
  EXPECT_FALSE(IsolationForest::train({}, 3, {}).ok());
  IsolationForestOptions none;
  none.trees = 0;
  EXPECT_FALSE(IsolationForest::train(rows, 3, none).ok());
  // Constant data cannot be split: every row is a leaf of the root, and scores are equal.
  std::vector<float> flat(300, 1.0F);
  auto c = IsolationForest::train(flat, 3, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->score(center), c->score(far));
}

TEST(IsolationForest, RocAucWithin002OfScikitLearn) {
  testing::TempDir dir;
  SimulatorConfig sc;
  sc.seed = 8;
  sc.customers = 600;
  sc.merchants = 120;
  sc.fraud_ratio = 0.02;
  HistoryOptions h;
  h.out_dir = dir.file("hist");
  h.from = *parse_rfc3339("2026-03-01T00:00:00Z");
  h.to = *parse_rfc3339("2026-03-22T00:00:00Z");
  ASSERT_TRUE(write_history(sc, h).ok());
  DatasetOptions o;
  o.input = h.out_dir;
  o.window_from = *parse_rfc3339("2026-03-08T00:00:00Z");
  auto d = build_dataset(o);
  ASSERT_TRUE(d.ok()) << d.error().message();
  const size_t n = d->rows();
  const size_t split = n / 2;
  ASSERT_GT(n, 5000u);
  {
    std::ofstream train(dir.file("train.csv")), test(dir.file("test.csv"));
    train.precision(9);
    test.precision(9);
    for (size_t r = 0; r < n; ++r) {
      std::ofstream& out = r < split ? train : test;
      for (size_t c = 0; c < kFeatureCount; ++c) out << (c ? "," : "") << d->row(r)[c];
      out << "\n";
    }
  }
  const int trees = 200;
  testing::ChildProcess py(
      {"/usr/bin/python3", (testing::source_dir() / "tests/training/sklearn_iforest.py").string(),
       dir.file("train.csv"), dir.file("test.csv"), std::to_string(trees), dir.file("sk.csv")});
  while (py.read_line(300000)) {
  }
  ASSERT_EQ(py.wait(), 0) << py.transcript();
  std::vector<float> sk;
  {
    std::ifstream in(dir.file("sk.csv"));
    for (double v; in >> v;) sk.push_back(static_cast<float>(v));
  }
  ASSERT_EQ(sk.size(), n - split);

  IsolationForestOptions io;
  io.trees = trees;
  auto forest = IsolationForest::train(std::span<const float>(d->x.data(), split * kFeatureCount),
                                       kFeatureCount, io);
  ASSERT_TRUE(forest.ok());
  std::vector<float> ours;
  for (size_t r = split; r < n; ++r) ours.push_back(static_cast<float>(forest->score(d->row(r))));
  const std::span<const float> labels(d->y.data() + split, n - split);
  const double auc_ours = roc_auc(score_curve(ours, labels));
  const double auc_sk = roc_auc(score_curve(sk, labels));
  RecordProperty("auc_ours", std::to_string(auc_ours));
  RecordProperty("auc_sklearn", std::to_string(auc_sk));
  std::cerr << "isolation forest ROC AUC: fraudwatch " << auc_ours << ", scikit-learn " << auc_sk
            << "\n";
  EXPECT_GT(auc_ours, 0.55) << "the anomaly score should rank fraud above chance";
  EXPECT_NEAR(auc_ours, auc_sk, 0.02);
}

}  // namespace
}  // namespace fw
