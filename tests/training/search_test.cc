// Stratified k-fold and successive halving on a small synthetic dataset: fold proportions,
// determinism, and that halving keeps the better half at each rung and ends on the best.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "training/trainer.h"

namespace fw {
namespace {

// Rows whose fraud odds grow with feature 0 and shrink with feature 1; other features noise.
Dataset synthetic(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  Dataset d;
  for (size_t i = 0; i < n; ++i) {
    float row[kFeatureCount];
    for (float& v : row) v = g(rng);
    const double margin = 2.5 * row[0] - 1.5 * row[1] - 4.5;
    const bool fraud = u(rng) < 1 / (1 + std::exp(-margin));
    d.x.insert(d.x.end(), row, row + kFeatureCount);
    d.y.push_back(fraud ? 1.0F : 0.0F);
    d.ts.push_back(static_cast<Timestamp>(i) * kMicrosPerSecond);
    d.account.push_back(i % 97);
    d.pattern.push_back(0);
  }
  return d;
}

TrainOptions small_options() {
  TrainOptions o;
  o.max_rounds = 24;
  o.early_stopping_rounds = 4;
  o.seed = 5;
  return o;
}

TEST(StratifiedFolds, EveryFoldKeepsTheFraudShare) {
  const Dataset d = synthetic(2003, 1);
  const uint64_t positives = d.positives();
  ASSERT_GT(positives, 40u);
  for (int k : {2, 5, 7}) {
    const std::vector<int> fold = stratified_folds(d.y, k, 9);
    ASSERT_EQ(fold.size(), d.rows());
    std::vector<size_t> rows(k, 0), frauds(k, 0);
    for (size_t i = 0; i < fold.size(); ++i) {
      ASSERT_GE(fold[i], 0);
      ASSERT_LT(fold[i], k);
      ++rows[fold[i]];
      frauds[fold[i]] += d.y[i] > 0.5F ? 1 : 0;
    }
    const auto [rmin, rmax] = std::minmax_element(rows.begin(), rows.end());
    const auto [fmin, fmax] = std::minmax_element(frauds.begin(), frauds.end());
    EXPECT_LE(*rmax - *rmin, 2u) << k << " folds";
    EXPECT_LE(*fmax - *fmin, 1u) << k << " folds";  // frauds dealt evenly
    EXPECT_EQ(static_cast<uint64_t>(std::accumulate(frauds.begin(), frauds.end(), size_t{0})),
              positives);
  }
  EXPECT_EQ(stratified_folds(d.y, 5, 9), stratified_folds(d.y, 5, 9));  // same seed, same folds
  EXPECT_NE(stratified_folds(d.y, 5, 9), stratified_folds(d.y, 5, 10));
}

TEST(KFold, ReportsEveryFoldAndTrainsTheFinalModelOnAllRows) {
  const Dataset d = synthetic(3000, 2);
  TrainOptions o = small_options();
  o.validation = Validation::kKFold;
  o.folds = 4;
  std::vector<std::string> progress;
  o.progress = [&](const std::string& l) { progress.push_back(l); };
  auto r = train_model(d, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  ASSERT_EQ(r->folds.size(), 4u);
  EXPECT_EQ(r->train_rows, d.rows());
  EXPECT_EQ(r->validation_rows, 0u);
  size_t rows = 0;
  double rounds = 0;
  for (const FoldMetrics& f : r->folds) {
    rows += f.rows;
    rounds += f.best_rounds;
    EXPECT_GT(f.roc_auc, 0.8);
    EXPECT_GT(f.positives, 0u);
  }
  EXPECT_EQ(rows, d.rows());  // every row is held out exactly once
  EXPECT_EQ(r->best.best_rounds, std::max(1L, std::lround(rounds / 4)));
  ASSERT_EQ(r->out_of_fold.size(), d.rows());
  for (float s : r->out_of_fold) ASSERT_TRUE(s >= 0 && s <= 1);
  EXPECT_GE(r->best.validation_aucpr_std, 0);
  EXPECT_FALSE(progress.empty());
  // The final model has the mean best round's trees: count them in the saved JSON.
  const std::string trees_key = "\"num_trees\":\"" + std::to_string(r->best.best_rounds) + "\"";
  EXPECT_NE(r->model_json.find(trees_key), std::string::npos) << trees_key;

  auto again = train_model(d, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->model_json, r->model_json);  // same seed, same model
  EXPECT_EQ(again->out_of_fold, r->out_of_fold);

  TrainOptions bad = o;
  bad.folds = 1;
  EXPECT_FALSE(train_model(d, bad).ok());
  Dataset few = synthetic(300, 3);
  for (float& y : few.y) y = 0;
  few.y[0] = few.y[1] = 1;
  auto too_few = train_model(few, o);  // 2 frauds cannot fill 4 folds
  ASSERT_FALSE(too_few.ok());
  EXPECT_EQ(too_few.error().field, "training");
}

TEST(Halving, KeepsTheBetterHalfAtEachRungAndEndsOnTheBest) {
  const Dataset d = synthetic(3000, 4);
  TrainOptions o = small_options();
  o.search = Search::kHalving;
  o.search_trials = 6;
  auto r = train_model(d, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::map<int, std::vector<Trial>> rungs;
  for (const Trial& t : r->trials) rungs[t.rung].push_back(t);
  // 6 candidates -> 3 -> 2 -> 1, then the winner trained with the full budget.
  ASSERT_EQ(rungs.size(), 4u);
  EXPECT_EQ(rungs[0].size(), 6u);
  EXPECT_EQ(rungs[1].size(), 3u);
  EXPECT_EQ(rungs[2].size(), 2u);
  EXPECT_EQ(rungs[3].size(), 1u);
  for (int rung = 0; rung < 3; ++rung) {
    std::vector<Trial> sorted = rungs[rung];
    std::stable_sort(sorted.begin(), sorted.end(), [](const Trial& a, const Trial& b) {
      return a.validation_aucpr > b.validation_aucpr;
    });
    std::set<int> kept, next;
    for (size_t i = 0; i < (sorted.size() + 1) / 2; ++i) kept.insert(sorted[i].candidate);
    for (const Trial& t : rungs[rung + 1]) next.insert(t.candidate);
    EXPECT_EQ(kept, next) << "rung " << rung;
    // Budgets double from rung to rung, up to max_rounds.
    EXPECT_EQ(rungs[rung + 1][0].budget, std::min(o.max_rounds, 2 * rungs[rung][0].budget));
  }
  EXPECT_EQ(rungs[3][0].budget, o.max_rounds);
  EXPECT_EQ(r->best.candidate, rungs[3][0].candidate);
  EXPECT_EQ(r->best.validation_aucpr, rungs[3][0].validation_aucpr);

  auto again = train_model(d, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->model_json, r->model_json);  // same seed, same result
  ASSERT_EQ(again->trials.size(), r->trials.size());
  for (size_t i = 0; i < r->trials.size(); ++i) {
    EXPECT_EQ(again->trials[i].candidate, r->trials[i].candidate);
    EXPECT_EQ(again->trials[i].validation_aucpr, r->trials[i].validation_aucpr);
  }
}

}  // namespace
}  // namespace fw
