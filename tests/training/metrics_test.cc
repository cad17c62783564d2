#include "training/metrics.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

TEST(Metrics, HandComputedCurve) {
  // Scores 0.9 F, 0.8 L, 0.7 F, 0.7 L, 0.2 L: a tie at 0.7 between a fraud and a legit.
  std::vector<float> s = {0.9F, 0.8F, 0.7F, 0.7F, 0.2F};
  std::vector<float> y = {1, 0, 1, 0, 0};
  auto c = score_curve(s, y);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[2].tp, 2u);
  EXPECT_EQ(c[2].fp, 2u);
  // ROC: (0,.5) (1/3,.5) (2/3,1) (1,1): area = 1/3*.5 + 1/3*.75 + 1/3*1 = 0.75.
  EXPECT_NEAR(roc_auc(c), 0.75, 1e-12);
  // AP: 0.5 * 1 (at 0.9) + 0.5 * 0.5 (at 0.7) = 0.75.
  EXPECT_NEAR(average_precision(c), 0.75, 1e-12);
  EXPECT_NEAR(recall_at_fpr(c, 0.0), 0.5, 1e-12);
  EXPECT_NEAR(recall_at_fpr(c, 0.7), 1.0, 1e-12);
  Confusion m = confusion_at(s, y, 0.75);
  EXPECT_EQ(m.tp, 1u);
  EXPECT_EQ(m.fp, 1u);
  EXPECT_EQ(m.fn, 1u);
  EXPECT_EQ(m.tn, 2u);
  EXPECT_NEAR(m.f1(), 0.5, 1e-12);
}

TEST(Metrics, ThresholdPolicies) {
  std::vector<float> s = {0.9F, 0.8F, 0.7F, 0.6F, 0.5F, 0.4F};
  std::vector<float> y = {1, 1, 0, 1, 0, 0};
  auto c = score_curve(s, y);
  // F1 at 0.8: p 1, r 2/3 -> 0.8; at 0.6: p .75, r 1 -> 0.857: best.
  EXPECT_FLOAT_EQ(choose_threshold(c, *parse_threshold_policy("f1", "t")), 0.6F);
  EXPECT_FLOAT_EQ(choose_threshold(c, *parse_threshold_policy("precision:1", "t")), 0.8F);
  // cost FP 10, FN 1: flagging the top two costs 1 (one missed), less than any other choice.
  EXPECT_FLOAT_EQ(choose_threshold(c, *parse_threshold_policy("cost:10,1", "t")), 0.8F);
  // FP 1, FN 10: flag down to 0.6 (cost 1).
  EXPECT_FLOAT_EQ(choose_threshold(c, *parse_threshold_policy("cost:1,10", "t")), 0.6F);
  // Unreachable precision: flag nothing (a threshold above every score).
  std::vector<float> s2 = {0.9F, 0.8F};
  std::vector<float> y2 = {0, 1};
  EXPECT_GT(choose_threshold(score_curve(s2, y2), *parse_threshold_policy("precision:1", "t")),
            0.9F);
  for (const char* bad : {"", "f2", "precision:", "precision:1.5", "precision:x", "cost:1",
                          "cost:a,b", "cost:-1,2"}) {
    auto p = parse_threshold_policy(bad, "--threshold");
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().field, "--threshold");
  }
}

TEST(Metrics, AccountPrecisionAtKPerDay) {
  const Timestamp day = kMicrosPerDay;
  // Day 0: accounts 1 (fraud, 0.9), 2 (legit, 0.8 and 0.95 -> max 0.95), 3 (fraud, 0.1).
  // Day 1: account 1 legit 0.99, account 4 fraud 0.5.
  std::vector<float> s = {0.9F, 0.8F, 0.95F, 0.1F, 0.99F, 0.5F};
  std::vector<float> y = {1, 0, 0, 1, 0, 1};
  std::vector<Timestamp> ts = {10, 20, 30, 40, day + 1, day + 2};
  std::vector<uint64_t> acct = {1, 2, 2, 3, 1, 4};
  // k = 1: day 0 alerts account 2 (0/1), day 1 account 1 (0/1): 0. k = 2: day 0 {2, 1} -> 1/2,
  // day 1 {1, 4} -> 1/2.
  EXPECT_NEAR(account_precision_at_k(s, y, ts, acct, 1).mean, 0.0, 1e-12);
  auto p2 = account_precision_at_k(s, y, ts, acct, 2);
  EXPECT_NEAR(p2.mean, 0.5, 1e-12);
  EXPECT_EQ(p2.days, 2u);
}

// The same scores through scikit-learn: ROC AUC, average precision, the confusion matrix and
// precision / recall / F1 at a threshold, recall at fixed FPRs.
TEST(Metrics, MatchScikitLearn) {
  testing::TempDir dir;
  std::mt19937 rng(3);
  std::vector<float> s, y;
  for (int i = 0; i < 5000; ++i) {
    const bool fraud = rng() % 20 == 0;
    // Rounded to 2 decimals so that many scores tie.
    double v = std::uniform_real_distribution<double>(0, 1)(rng) * 0.7 + (fraud ? 0.3 : 0.0);
    s.push_back(static_cast<float>(std::round(v * 100) / 100));
    y.push_back(fraud ? 1.0F : 0.0F);
  }
  {
    std::ofstream out(dir.file("scores.csv"));
    out.precision(9);
    for (size_t i = 0; i < s.size(); ++i) out << s[i] << "," << y[i] << "\n";
  }
  const double threshold = 0.6;
  const std::string script = (testing::source_dir() / "tests/training/sklearn_metrics.py").string();
  testing::ChildProcess py(
      {"/usr/bin/python3", script, dir.file("scores.csv"), "0.6", dir.file("ref.json")});
  while (py.read_line(120000)) {
  }
  ASSERT_EQ(py.wait(), 0) << py.transcript();
  nlohmann::json ref = nlohmann::json::parse(std::ifstream(dir.file("ref.json")));
  auto c = score_curve(s, y);
  EXPECT_NEAR(roc_auc(c), ref["roc_auc"].get<double>(), 1e-9);
  EXPECT_NEAR(average_precision(c), ref["average_precision"].get<double>(), 1e-9);
  EXPECT_NEAR(recall_at_fpr(c, 0.01), ref["recall_at_fpr_0.01"].get<double>(), 1e-9);
  EXPECT_NEAR(recall_at_fpr(c, 0.05), ref["recall_at_fpr_0.05"].get<double>(), 1e-9);
  Confusion m = confusion_at(s, y, static_cast<float>(threshold));
  EXPECT_EQ(m.tp, ref["tp"].get<uint64_t>());
  EXPECT_EQ(m.fp, ref["fp"].get<uint64_t>());
  EXPECT_EQ(m.fn, ref["fn"].get<uint64_t>());
  EXPECT_EQ(m.tn, ref["tn"].get<uint64_t>());
  EXPECT_NEAR(m.precision(), ref["precision"].get<double>(), 1e-12);
  EXPECT_NEAR(m.recall(), ref["recall"].get<double>(), 1e-12);
  EXPECT_NEAR(m.f1(), ref["f1"].get<double>(), 1e-12);
}

}  // namespace
}  // namespace fw
