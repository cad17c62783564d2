// The engine with models: per transaction features -> anomaly score -> model score -> rules ->
// decision policy; explanations on REVIEW/BLOCK; models swapped per source batch under load.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "core/time.h"
#include "engine/engine.h"
#include "testing/swap_under_load.h"

namespace fw {
namespace {

using nlohmann::json;

class CollectingSink final : public DecisionSink {
 public:
  void consume(ScoredBatch&& batch) override {
    std::lock_guard lock(mu_);
    pieces.push_back(std::move(batch));
  }
  std::vector<Scored> all() {
    std::lock_guard lock(mu_);
    std::vector<Scored> out;
    for (const ScoredBatch& p : pieces) out.insert(out.end(), p.scored.begin(), p.scored.end());
    return out;
  }
  std::mutex mu_;
  std::vector<ScoredBatch> pieces;
};

json tree(json left, json right, json split, json cond, json hess) {
  const size_t n = left.size();
  return json{{"tree_param", {{"num_nodes", std::to_string(n)}}},
              {"left_children", std::move(left)},
              {"right_children", std::move(right)},
              {"split_indices", std::move(split)},
              {"split_conditions", std::move(cond)},
              {"default_left", json(std::vector<int>(n, 1))},
              {"sum_hessian", std::move(hess)},
              {"split_type", json(std::vector<int>(n, 0))}};
}

// Tree 0: amount < 100 ? -2 : `high`. Tree 1: tx_count_1m < 2.5 ? -0.25 : 0.5.
std::shared_ptr<const TreeModel> amount_model(double high = 2.0) {
  json t0 = tree({1, -1, -1}, {2, -1, -1}, {0, 0, 0}, {100.0, -2.0, high}, {10.0, 8.0, 2.0});
  json t1 = tree({1, -1, -1}, {2, -1, -1}, {1, 0, 0}, {2.5, -0.25, 0.5}, {10.0, 9.0, 1.0});
  json j{
      {"learner",
       {{"feature_names", {"amount", "tx_count_1m"}},
        {"learner_model_param", {{"base_score", "5E-1"}, {"num_class", "0"}, {"num_feature", "2"}}},
        {"objective", {{"name", "binary:logistic"}}},
        {"gradient_booster",
         {{"name", "gbtree"},
          {"model",
           {{"gbtree_model_param", {{"num_parallel_tree", "1"}}}, {"trees", {t0, t1}}}}}}}},
      {"version", {1, 7, 4}}};
  auto m = TreeModel::from_xgboost_json(j.dump());
  EXPECT_TRUE(m.ok()) << m.error().message();
  return std::make_shared<const TreeModel>(std::move(*m));
}

std::shared_ptr<const RuleSet> rules(const std::string& yaml) {
  auto r = RuleSet::from_yaml_string(yaml, "test.yaml");
  EXPECT_TRUE(r.ok()) << r.error().message();
  return *r;
}

// No rule fires on these transactions unless it reads the model's score.
std::string quiet_rules() {
  return "name: quiet\npolicy: {review_at: 0.5, block_at: 0.9}\nrules:\n"
         "  - {id: never, when: \"amount > 1000000 EUR\", score: 0.1}\n";
}

Transaction make_tx(int n, int64_t minor, const std::string& account = "") {
  Transaction tx;
  tx.id = "t" + std::to_string(n);
  tx.account_id = account.empty() ? "acct" + std::to_string(n % 37) : account;
  tx.ts = kMicrosPerHour * n;  // an hour apart: tx_count_1m stays 0
  tx.amount = {minor, Currency::of("EUR")};
  tx.country = *Country::parse("DE");
  tx.finalize_keys();
  return tx;
}

std::vector<Scored> run(const std::shared_ptr<const RuleSet>& rs,
                        std::shared_ptr<const ModelBundle> models, std::vector<Transaction> txs) {
  CollectingSink sink;
  ManualClock clock(1'000);
  EngineConfig config;
  config.shards = 2;
  config.clock = &clock;
  Engine engine(config, rs, sink);
  engine.set_models(std::move(models));
  engine.start();
  SourceBatch batch;
  batch.txs = std::move(txs);
  engine.submit(std::move(batch));
  engine.stop();
  return sink.all();
}

std::map<std::string, Scored> by_id(const std::vector<Scored>& v) {
  std::map<std::string, Scored> out;
  for (const Scored& s : v) out[s.tx.id] = s;
  return out;
}

TEST(EngineModels, ChampionScoreDecidesAndFlaggedDecisionsCarryContributions) {
  auto bundle = std::make_shared<ModelBundle>();
  bundle->champion = amount_model();
  bundle->version = "m1";
  bundle->policy = default_model_policy(0.5);  // REVIEW at 0.5, BLOCK at 0.75
  auto got = by_id(run(rules(quiet_rules()), bundle,
                       {make_tx(1, 5'000), make_tx(2, 50'000), make_tx(3, 9'999)}));
  ASSERT_EQ(got.size(), 3u);
  const double low = 1 / (1 + std::exp(2.25));    // margin -2 - 0.25
  const double high = 1 / (1 + std::exp(-1.75));  // margin 2 - 0.25
  EXPECT_NEAR(got["t1"].decision.model_score, low, 1e-6);
  EXPECT_EQ(got["t1"].decision.action, Action::kAllow);
  EXPECT_TRUE(got["t1"].decision.contributions.empty());  // only flagged decisions keep them
  EXPECT_EQ(got["t1"].decision.model_version, "m1");
  EXPECT_TRUE(std::isnan(got["t1"].decision.shadow_score));
  EXPECT_TRUE(std::isnan(got["t1"].decision.anomaly_score));

  const Decision& d = got["t2"].decision;
  EXPECT_NEAR(d.model_score, high, 1e-6);
  EXPECT_EQ(d.action, Action::kBlock);  // 0.85 >= block_at 0.75
  EXPECT_NEAR(d.score, high, 1e-6);     // the reported score is the larger of rules and model
  ASSERT_FALSE(d.contributions.empty());
  EXPECT_EQ(d.contributions[0].feature, "amount");
  EXPECT_GT(d.contributions[0].value, 0);
  // Contributions + bias == margin: both features used, so all contributions are kept.
  FeatureVector x;
  x[FeatureId::kAmount] = 500;
  const Explanation e = bundle->champion->explain(x, kFeatureCount);
  double sum = e.bias;
  for (const FeatureContribution& c : d.contributions) sum += c.value;
  EXPECT_NEAR(sum, bundle->champion->margin(x), 1e-6);
  EXPECT_NEAR(sum, std::log(high / (1 - high)), 1e-5);
}

TEST(EngineModels, PolicyThresholdsComeFromTheBundle) {
  auto bundle = std::make_shared<ModelBundle>();
  bundle->champion = amount_model();
  bundle->version = "m1";
  bundle->policy.review_at = 0.5;
  bundle->policy.block_at = 0.99;  // never reached: the high score only reviews
  auto got = by_id(run(rules(quiet_rules()), bundle, {make_tx(2, 50'000)}));
  EXPECT_EQ(got["t2"].decision.action, Action::kReview);
}

TEST(EngineModels, RulesReadModelAndAnomalyScoresAndAllowListsBeatTheModel) {
  const std::string yaml =
      "name: reads\nrules:\n"
      "  - {id: model_says, when: \"model_score >= 0.8\", score: 0.1, action: review}\n"
      "  - {id: vip, when: \"amount == 500 EUR\", score: 0, action: allow}\n"
      "  - {id: odd, when: \"anomaly_score > 0\", score: 0.05}\n";
  auto bundle = std::make_shared<ModelBundle>();
  bundle->champion = amount_model();
  bundle->version = "m1";
  bundle->policy.review_at = 2;  // the model alone never decides here: only the rule
  auto got =
      by_id(run(rules(yaml), bundle, {make_tx(1, 5'000), make_tx(2, 60'000), make_tx(3, 50'000)}));
  EXPECT_EQ(got["t1"].decision.action, Action::kAllow);
  EXPECT_EQ(got["t2"].decision.action, Action::kReview);
  ASSERT_FALSE(got["t2"].decision.reasons.empty());
  EXPECT_EQ(got["t2"].decision.reasons[0].rule_id, "model_says");
  EXPECT_NE(got["t2"].decision.reasons[0].detail.find("model_score="), std::string::npos);
  // Allow-listed: ALLOW although the model rule fired.
  EXPECT_EQ(got["t3"].decision.action, Action::kAllow);
  // No forest: anomaly_score is NaN and `anomaly_score > 0` never fires.
  for (auto& [id, s] : got) {
    for (const Reason& r : s.decision.reasons) EXPECT_NE(r.rule_id, "odd") << id;
  }

  // Without models the same rule set runs, and the model rule never fires.
  auto plain = by_id(run(rules(yaml), nullptr, {make_tx(2, 60'000)}));
  EXPECT_EQ(plain["t2"].decision.action, Action::kAllow);
  EXPECT_TRUE(std::isnan(plain["t2"].decision.model_score));
  EXPECT_TRUE(plain["t2"].decision.model_version.empty());
}

IsolationForest train_forest() {
  // Rows of every feature: mostly zeros with a little noise, so a large amount is unusual.
  std::mt19937_64 rng(7);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> rows;
  for (int r = 0; r < 2000; ++r) {
    for (size_t f = 0; f < kFeatureCount; ++f) rows.push_back(noise(rng));
  }
  auto forest = IsolationForest::train(rows, kFeatureCount, {});
  EXPECT_TRUE(forest.ok());
  return std::move(*forest);
}

TEST(EngineModels, ForestAnomalyScoreAndShadowAreRecorded) {
  auto bundle = std::make_shared<ModelBundle>();
  bundle->champion = amount_model();
  bundle->version = "m1";
  bundle->shadow = amount_model(4.0);
  bundle->shadow_version = "m2";
  bundle->forest = std::make_shared<const IsolationForest>(train_forest());
  bundle->policy = default_model_policy(0.5);
  bundle->policy.anomaly_review_at = 0.0;  // every scored transaction reaches it
  ASSERT_TRUE(check_model_bundle(*bundle).ok());
  auto got = by_id(run(rules(quiet_rules()), bundle, {make_tx(1, 5'000)}));
  const Decision& d = got["t1"].decision;
  EXPECT_GT(d.anomaly_score, 0);
  EXPECT_LE(d.anomaly_score, 1);
  EXPECT_EQ(d.action, Action::kReview);              // by the anomaly threshold alone
  EXPECT_NEAR(d.shadow_score, d.model_score, 1e-6);  // amount < 100: both models' low leaf
  EXPECT_FALSE(d.contributions.empty());

  auto wide = by_id(run(rules(quiet_rules()), bundle, {make_tx(2, 50'000)}));
  EXPECT_GT(wide["t2"].decision.shadow_score, wide["t2"].decision.model_score);
}

TEST(EngineModels, ABundleWithAForestOfOtherColumnsIsRefused) {
  std::vector<float> rows(30, 1.0F);
  rows[0] = 2;
  auto forest = IsolationForest::train(rows, 3, {});
  ASSERT_TRUE(forest.ok());
  ModelBundle bundle;
  bundle.forest = std::make_shared<const IsolationForest>(std::move(*forest));
  Status st = check_model_bundle(bundle);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "isolation_forest");
  EXPECT_NE(st.error().reason.find("3 columns"), std::string::npos) << st.error().reason;
}

// A model with the anomaly_score column (train --anomaly-feature): one tree on amount, one on
// the anomaly score, which the engine computes with the bundle's forest before the model.
std::shared_ptr<const TreeModel> anomaly_column_model(float cut) {
  json t0 = tree({1, -1, -1}, {2, -1, -1}, {0, 0, 0}, {100.0, -1.0, 1.0}, {10.0, 8.0, 2.0});
  json t1 = tree({1, -1, -1}, {2, -1, -1}, {1, 0, 0}, {cut, -2.0, 3.0}, {10.0, 5.0, 5.0});
  json j{
      {"learner",
       {{"feature_names", {"amount", "anomaly_score"}},
        {"learner_model_param", {{"base_score", "5E-1"}, {"num_class", "0"}, {"num_feature", "2"}}},
        {"objective", {{"name", "binary:logistic"}}},
        {"gradient_booster",
         {{"name", "gbtree"},
          {"model",
           {{"gbtree_model_param", {{"num_parallel_tree", "1"}}}, {"trees", {t0, t1}}}}}}}},
      {"version", {1, 7, 4}}};
  auto m = TreeModel::from_xgboost_json(j.dump());
  EXPECT_TRUE(m.ok()) << m.error().message();
  return std::make_shared<const TreeModel>(std::move(*m));
}

TEST(EngineModels, TheAnomalyScoreFeedsAModelThatReadsIt) {
  auto forest = std::make_shared<const IsolationForest>(train_forest());
  std::vector<Transaction> txs;
  for (int i = 0; i < 40; ++i) txs.push_back(make_tx(i, i % 2 ? 5'000 : 900'000 + 1000 * i));
  // The anomaly tree splits at the median score of these transactions (a forest-only run).
  auto forest_only = std::make_shared<ModelBundle>();
  forest_only->forest = forest;
  std::vector<float> scores;
  for (const Scored& s : run(rules(quiet_rules()), forest_only, txs)) {
    scores.push_back(static_cast<float>(s.decision.anomaly_score));
  }
  ASSERT_EQ(scores.size(), 40u);
  std::sort(scores.begin(), scores.end());
  ASSERT_LT(scores.front(), scores.back());
  const float cut = scores[20] > scores.front() ? scores[20] : scores.back();
  auto model = anomaly_column_model(cut);
  ASSERT_TRUE(model->uses_anomaly_score());
  EXPECT_FALSE(amount_model()->uses_anomaly_score());
  auto bundle = std::make_shared<ModelBundle>();
  bundle->champion = model;
  bundle->version = "m1";
  bundle->forest = forest;
  bundle->policy = default_model_policy(0.5);
  ASSERT_TRUE(check_model_bundle(*bundle).ok());
  auto got = run(rules(quiet_rules()), bundle, txs);
  ASSERT_EQ(got.size(), 40u);
  int high = 0, low = 0;
  for (const Scored& s : got) {
    const Decision& d = s.decision;
    ASSERT_FALSE(std::isnan(d.anomaly_score));
    // What the trees give for this amount and this anomaly score (compared as float).
    const double margin = (s.tx.amount.minor < 100 * 100 ? -1.0 : 1.0) +
                          (static_cast<float>(d.anomaly_score) < cut ? -2.0 : 3.0);
    EXPECT_NEAR(d.model_score, 1 / (1 + std::exp(-margin)), 1e-6) << s.tx.id;
    (static_cast<float>(d.anomaly_score) < cut ? low : high)++;
    if (d.action != Action::kAllow) {
      bool named = false;
      for (const auto& c : d.contributions) named |= c.feature == "anomaly_score";
      EXPECT_TRUE(named) << s.tx.id;
    }
  }
  // Both of the anomaly tree's leaves were reached, so the score really steered predictions.
  EXPECT_GT(low, 0);
  EXPECT_GT(high, 0);

  // The same model without its forest cannot serve.
  ModelBundle missing;
  missing.champion = model;
  Status st = check_model_bundle(missing);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "champion.feature_names");
  ModelBundle shadow_missing;
  shadow_missing.shadow = model;
  shadow_missing.forest = bundle->forest;  // the champion's forest is not the shadow's
  st = check_model_bundle(shadow_missing);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "shadow.feature_names");
}

// Hot swap under load: while batches stream in, another thread swaps between two bundles (and
// none). Every transaction comes out once, and every source batch is scored by one bundle.
TEST(EngineModels, SwapUnderLoadScoresEachBatchWithOneBundle) {
  auto a = std::make_shared<ModelBundle>();
  a->champion = amount_model();
  a->version = "a";
  a->policy = default_model_policy(0.5);
  auto b = std::make_shared<ModelBundle>(*a);
  b->version = "b";
  b->champion = amount_model(3.0);

  CollectingSink sink;
  ManualClock clock(1'000);
  EngineConfig config;
  config.shards = 3;
  config.queue_batches = 4;
  config.clock = &clock;
  Engine engine(config, rules(quiet_rules()), sink);
  engine.set_models(a);
  engine.start();
  const int kBatches = 300, kPerBatch = 50;
  const int swaps = testing::swap_while_submitting(
      [&](int i) {
        engine.set_models(i % 3 == 0 ? nullptr : (i % 3 == 1 ? b : a));
        return true;
      },
      [&] {
        for (int n = 0, bi = 0; bi < kBatches; ++bi) {
          SourceBatch batch;
          for (int i = 0; i < kPerBatch; ++i, ++n) batch.txs.push_back(make_tx(n, 50'000));
          engine.submit(std::move(batch));
        }
      });
  engine.stop();

  const testing::BatchVersions seen = testing::versions_by_batch(sink.pieces, [](const Scored& s) {
    const Decision& d = s.decision;
    if (d.model_version == "a") {
      EXPECT_NEAR(d.model_score, 1 / (1 + std::exp(-1.75)), 1e-6);
    } else if (d.model_version == "b") {
      EXPECT_NEAR(d.model_score, 1 / (1 + std::exp(-2.75)), 1e-6);
    } else {
      EXPECT_TRUE(std::isnan(d.model_score));
    }
    return d.model_version.empty() ? std::string("none") : d.model_version;
  });
  EXPECT_EQ(seen.transactions, static_cast<size_t>(kBatches * kPerBatch));
  for (const auto& [seq, versions] : seen.by_seq) {
    EXPECT_EQ(versions.size(), 1u) << "batch " << seq << " scored by more than one bundle";
  }
  EXPECT_GE(swaps, 3);
}

}  // namespace
}  // namespace fw
