#include "training/trainer.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <random>

#include "scoring/tree_model.h"
#include "training/metrics.h"

namespace fw {
namespace {

Error xgb_error(const char* what) {
  return make_error("training", fmt::format("XGBoost {}: {}", what, XGBGetLastError()));
}

struct DMatrixDeleter {
  void operator()(void* h) const { XGDMatrixFree(h); }
};
struct BoosterDeleter {
  void operator()(void* h) const { XGBoosterFree(h); }
};
using DMatrix = std::unique_ptr<void, DMatrixDeleter>;
using Booster = std::unique_ptr<void, BoosterDeleter>;

// Rows [begin, end): the schema features, then the anomaly score column when the dataset
// has one (Dataset::anomaly; XGBoost copies the matrix, so the wide copy is short-lived).
Result<DMatrix> make_matrix(const Dataset& d, size_t begin, size_t end) {
  DMatrixHandle h = nullptr;
  if (!d.anomaly.empty()) {
    constexpr size_t kWide = kFeatureCount + 1;
    std::vector<float> wide((end - begin) * kWide);
    for (size_t i = begin; i < end; ++i) {
      float* out = wide.data() + (i - begin) * kWide;
      std::copy_n(d.row(i), kFeatureCount, out);
      out[kFeatureCount] = d.anomaly[i];
    }
    if (XGDMatrixCreateFromMat(wide.data(), end - begin, kWide, NAN, &h) != 0) {
      return xgb_error("DMatrix");
    }
  } else if (XGDMatrixCreateFromMat(d.row(begin), end - begin, kFeatureCount, NAN, &h) != 0) {
    return xgb_error("DMatrix");
  }
  DMatrix m(h);
  if (XGDMatrixSetFloatInfo(h, "label", d.y.data() + begin, end - begin) != 0) {
    return xgb_error("labels");
  }
  return m;
}

// The column names of a matrix of `columns` columns: the schema's, then kAnomalyColumn.
std::vector<const char*> feature_names(uint64_t columns) {
  std::vector<const char*> names;
  static std::vector<std::string> storage = [] {
    std::vector<std::string> s;
    for (size_t f = 0; f < kFeatureCount; ++f)
      s.emplace_back(feature_name(static_cast<FeatureId>(f)));
    s.emplace_back(kAnomalyColumn);
    return s;
  }();
  for (size_t c = 0; c < columns && c < storage.size(); ++c) names.push_back(storage[c].c_str());
  return names;
}

// "[12]\tvalidation-aucpr:0.8123" -> 0.8123
double parse_eval(const char* text) {
  const char* colon = std::strrchr(text, ':');
  return colon != nullptr ? std::strtod(colon + 1, nullptr) : NAN;
}

Trial make_trial(const TreeParams& p, int rounds, double aucpr) {
  Trial t;
  t.params = p;
  t.best_rounds = rounds;
  t.validation_aucpr = aucpr;
  return t;
}

struct TrialOutcome {
  Trial trial;
  Booster booster;
};

// Grows up to `rounds` trees on train. With a validation matrix, stops early on its PR AUC and
// keeps the trees up to the best round; without one, grows exactly `rounds` trees.
Result<TrialOutcome> run_trial(const TreeParams& p, const TrainOptions& o, double spw,
                               const DMatrix& train, const DMatrix* valid, int rounds) {
  DMatrixHandle cache[2] = {train.get(), valid != nullptr ? valid->get() : nullptr};
  BoosterHandle h = nullptr;
  if (XGBoosterCreate(cache, valid != nullptr ? 2 : 1, &h) != 0) return xgb_error("booster");
  Booster b(h);
  const std::vector<std::pair<std::string, std::string>> params = {
      {"objective", "binary:logistic"},
      {"tree_method", "hist"},
      {"eval_metric", "aucpr"},
      {"max_depth", std::to_string(p.max_depth)},
      {"eta", fmt::format("{}", p.eta)},
      {"subsample", fmt::format("{}", p.subsample)},
      {"colsample_bytree", fmt::format("{}", p.colsample_bytree)},
      {"min_child_weight", fmt::format("{}", p.min_child_weight)},
      {"scale_pos_weight", fmt::format("{}", spw)},
      {"seed", std::to_string(o.seed)},
      {"nthread", std::to_string(o.threads)},
      {"verbosity", "0"},
  };
  for (const auto& [k, v] : params) {
    if (XGBoosterSetParam(h, k.c_str(), v.c_str()) != 0) return xgb_error(k.c_str());
  }
  bst_ulong columns = 0;
  if (XGDMatrixNumCol(train.get(), &columns) != 0) return xgb_error("columns");
  std::vector<const char*> names = feature_names(columns);
  if (XGBoosterSetStrFeatureInfo(h, "feature_name", names.data(), names.size()) != 0) {
    return xgb_error("feature names");
  }
  if (valid == nullptr) {
    for (int round = 0; round < rounds; ++round) {
      if (XGBoosterUpdateOneIter(h, round, train.get()) != 0) return xgb_error("update");
    }
    return TrialOutcome{make_trial(p, rounds, NAN), std::move(b)};
  }
  DMatrixHandle eval_set[1] = {valid->get()};
  const char* eval_names[1] = {"validation"};
  double best = -1;
  int best_round = 0;
  for (int round = 0; round < rounds; ++round) {
    if (XGBoosterUpdateOneIter(h, round, train.get()) != 0) return xgb_error("update");
    const char* out = nullptr;
    if (XGBoosterEvalOneIter(h, round, eval_set, eval_names, 1, &out) != 0) {
      return xgb_error("eval");
    }
    const double v = parse_eval(out);
    if (v > best) {
      best = v;
      best_round = round;
    } else if (round - best_round >= o.early_stopping_rounds) {
      break;
    }
  }
  BoosterHandle sliced = nullptr;
  if (XGBoosterSlice(h, 0, best_round + 1, 1, &sliced) != 0) return xgb_error("slice");
  Booster cut(sliced);
  if (XGBoosterSetStrFeatureInfo(sliced, "feature_name", names.data(), names.size()) != 0) {
    return xgb_error("feature names");
  }
  return TrialOutcome{make_trial(p, best_round + 1, best), std::move(cut)};
}

Result<std::vector<float>> predict(const Booster& b, const DMatrix& m) {
  const char* config =
      R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, )"
      R"("strict_shape": false})";
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* out = nullptr;
  if (XGBoosterPredictFromDMatrix(b.get(), m.get(), config, &shape, &dim, &out) != 0) {
    return xgb_error("predict");
  }
  bst_ulong n = 0;
  if (XGDMatrixNumRow(m.get(), &n) != 0) return xgb_error("rows");
  return std::vector<float>(out, out + n);
}

Result<DMatrix> slice_matrix(const DMatrix& all, const std::vector<int>& rows) {
  DMatrixHandle h = nullptr;
  if (XGDMatrixSliceDMatrix(all.get(), rows.data(), rows.size(), &h) != 0) {
    return xgb_error("slice rows");
  }
  return DMatrix(h);
}

// Where candidates are judged: one time split, or k stratified folds.
struct Splits {
  struct Part {
    DMatrix train, valid;
    std::vector<int> valid_rows;  // k-fold: dataset rows of valid, in order
  };
  std::vector<Part> parts;
  DMatrix all;  // k-fold: every row, for the final model
};

// One candidate judged on every part with a budget of `rounds` trees.
struct Judged {
  Trial trial;
  Booster booster;  // time split: the cut model
  std::vector<FoldMetrics> folds;
  std::vector<float> out_of_fold;
};

Result<Judged> judge(const TreeParams& p, const TrainOptions& o, double spw, const Splits& s,
                     const Dataset& data, int rounds) {
  Judged j;
  j.trial.params = p;
  j.trial.budget = rounds;
  if (o.validation == Validation::kTimeSplit) {
    auto t = run_trial(p, o, spw, s.parts[0].train, &s.parts[0].valid, rounds);
    if (!t.ok()) return t.error();
    j.trial.best_rounds = t->trial.best_rounds;
    j.trial.validation_aucpr = t->trial.validation_aucpr;
    j.booster = std::move(t->booster);
    return j;
  }
  j.out_of_fold.assign(data.rows(), NAN);
  double sum = 0, sum_sq = 0, rounds_sum = 0;
  for (const Splits::Part& part : s.parts) {
    auto t = run_trial(p, o, spw, part.train, &part.valid, rounds);
    if (!t.ok()) return t.error();
    auto scores = predict(t->booster, part.valid);
    if (!scores.ok()) return scores.error();
    std::vector<float> labels;
    labels.reserve(part.valid_rows.size());
    for (size_t i = 0; i < part.valid_rows.size(); ++i) {
      const auto row = static_cast<size_t>(part.valid_rows[i]);
      j.out_of_fold[row] = (*scores)[i];
      labels.push_back(data.y[row]);
    }
    const auto curve = score_curve(*scores, labels);
    FoldMetrics f;
    f.rows = labels.size();
    for (float y : labels) f.positives += y > 0.5F ? 1 : 0;
    f.best_rounds = t->trial.best_rounds;
    f.roc_auc = roc_auc(curve);
    f.average_precision = average_precision(curve);
    j.folds.push_back(f);
    sum += t->trial.validation_aucpr;
    sum_sq += t->trial.validation_aucpr * t->trial.validation_aucpr;
    rounds_sum += t->trial.best_rounds;
  }
  const auto k = static_cast<double>(s.parts.size());
  j.trial.validation_aucpr = sum / k;
  j.trial.validation_aucpr_std =
      std::sqrt(std::max(0.0, sum_sq / k - j.trial.validation_aucpr * j.trial.validation_aucpr));
  j.trial.best_rounds = std::max(1, static_cast<int>(std::lround(rounds_sum / k)));
  return j;
}

std::string describe(const Trial& t, bool kfold) {
  const TreeParams& p = t.params;
  return fmt::format(
      "depth {} eta {:.3f} subsample {:.2f} colsample {:.2f} min_child_weight {:.2f} -> {} "
      "trees (budget {}), validation PR AUC {:.4f}{}",
      p.max_depth, p.eta, p.subsample, p.colsample_bytree, p.min_child_weight, t.best_rounds,
      t.budget, t.validation_aucpr,
      kfold ? fmt::format(" ± {:.4f} over folds", t.validation_aucpr_std) : "");
}

}  // namespace

std::vector<int> stratified_folds(std::span<const float> labels, int k, uint64_t seed) {
  std::vector<int> fold(labels.size(), 0);
  if (k < 1) return fold;
  std::vector<size_t> pos, neg;
  for (size_t i = 0; i < labels.size(); ++i) (labels[i] > 0.5F ? pos : neg).push_back(i);
  std::mt19937_64 rng(seed);
  // Negatives continue the deal where positives stopped, so fold sizes stay within 2 rows.
  size_t next = 0;
  for (std::vector<size_t>* group : {&pos, &neg}) {
    std::shuffle(group->begin(), group->end(), rng);
    for (size_t row : *group) fold[row] = static_cast<int>(next++ % static_cast<size_t>(k));
  }
  return fold;
}

Result<TrainResult> train_model(const Dataset& data, const TrainOptions& o) {
  const size_t n = data.rows();
  if (n < 100) {
    return make_error("training", fmt::format("{} labelled rows; need at least 100", n));
  }
  const bool kfold = o.validation == Validation::kKFold;
  if (!kfold && !(o.validation_fraction > 0 && o.validation_fraction < 1)) {
    return make_error("training", "validation fraction must be between 0 and 1");
  }
  if (kfold && (o.folds < 2 || o.folds > 20)) {
    return make_error("training", fmt::format("{} folds; must be 2..20", o.folds));
  }
  TrainResult r;
  Splits splits;
  if (!kfold) {
    r.train_rows = static_cast<size_t>(static_cast<double>(n) * (1 - o.validation_fraction));
    r.validation_rows = n - r.train_rows;
    for (size_t i = 0; i < n; ++i) {
      if (data.y[i] > 0.5F) ++(i < r.train_rows ? r.train_positives : r.validation_positives);
    }
    if (r.train_positives == 0 || r.validation_positives == 0) {
      return make_error(
          "training",
          fmt::format("need fraud in both parts of the time split: {} in the {} "
                      "training rows, {} in the {} validation rows",
                      r.train_positives, r.train_rows, r.validation_positives, r.validation_rows));
    }
    auto train = make_matrix(data, 0, r.train_rows);
    if (!train.ok()) return train.error();
    auto valid = make_matrix(data, r.train_rows, n);
    if (!valid.ok()) return valid.error();
    splits.parts.push_back({std::move(*train), std::move(*valid), {}});
  } else {
    r.train_rows = n;
    r.train_positives = data.positives();
    if (r.train_positives < static_cast<uint64_t>(o.folds)) {
      return make_error("training", fmt::format("{} frauds; k-fold needs at least one per fold "
                                                "({} folds)",
                                                r.train_positives, o.folds));
    }
    auto all = make_matrix(data, 0, n);
    if (!all.ok()) return all.error();
    splits.all = std::move(*all);
    const std::vector<int> fold = stratified_folds(data.y, o.folds, o.seed);
    for (int k = 0; k < o.folds; ++k) {
      std::vector<int> train_rows, valid_rows;
      for (size_t i = 0; i < n; ++i) {
        (fold[i] == k ? valid_rows : train_rows).push_back(static_cast<int>(i));
      }
      auto train = slice_matrix(splits.all, train_rows);
      if (!train.ok()) return train.error();
      auto valid = slice_matrix(splits.all, valid_rows);
      if (!valid.ok()) return valid.error();
      splits.parts.push_back({std::move(*train), std::move(*valid), std::move(valid_rows)});
    }
  }
  r.scale_pos_weight = o.scale_pos_weight > 0
                           ? o.scale_pos_weight
                           : static_cast<double>(r.train_rows - r.train_positives) /
                                 static_cast<double>(r.train_positives);

  // The candidates: the given parameters, then seeded random draws.
  std::mt19937_64 rng(o.seed);
  auto uniform = [&](double lo, double hi) {
    return lo + (hi - lo) * std::uniform_real_distribution<double>(0, 1)(rng);
  };
  std::vector<TreeParams> candidates;
  for (int t = 0; t < std::max(1, o.search_trials); ++t) {
    TreeParams p = o.params;
    if (t > 0) {
      p.max_depth = 3 + static_cast<int>(rng() % 6);  // 3..8
      p.eta = std::exp(uniform(std::log(0.03), std::log(0.3)));
      p.subsample = uniform(0.6, 1.0);
      p.colsample_bytree = uniform(0.5, 1.0);
      p.min_child_weight = std::exp(uniform(0, std::log(20)));
    }
    candidates.push_back(p);
  }
  auto report = [&](const Trial& t, const std::string& what) {
    if (o.progress) o.progress(fmt::format("{}: {}", what, describe(t, kfold)));
  };

  std::optional<Judged> best;
  if (o.search == Search::kRandom) {
    for (size_t c = 0; c < candidates.size(); ++c) {
      auto j = judge(candidates[c], o, r.scale_pos_weight, splits, data, o.max_rounds);
      if (!j.ok()) return j.error();
      j->trial.candidate = static_cast<int>(c);
      r.trials.push_back(j->trial);
      report(j->trial, fmt::format("trial {}/{}", c + 1, candidates.size()));
      if (!best || j->trial.validation_aucpr > best->trial.validation_aucpr) best = std::move(*j);
    }
  } else {
    // Successive halving: rung 0 gives every candidate max_rounds / 2^rungs trees (at least 2x
    // the early-stopping patience), each later rung doubles it for the better half; the last
    // candidate standing is trained with the full max_rounds.
    std::vector<int> alive(candidates.size());
    std::iota(alive.begin(), alive.end(), 0);
    int rungs = 0;
    while ((size_t{1} << rungs) < candidates.size()) ++rungs;
    int budget =
        std::max(std::min(o.max_rounds, 2 * o.early_stopping_rounds), o.max_rounds >> rungs);
    for (int rung = 0; alive.size() > 1; ++rung) {
      std::vector<std::pair<double, int>> scored;
      for (int c : alive) {
        auto j =
            judge(candidates[static_cast<size_t>(c)], o, r.scale_pos_weight, splits, data, budget);
        if (!j.ok()) return j.error();
        j->trial.candidate = c;
        j->trial.rung = rung;
        r.trials.push_back(j->trial);
        report(j->trial,
               fmt::format("halving rung {} candidate {}/{}", rung, c + 1, candidates.size()));
        scored.emplace_back(j->trial.validation_aucpr, c);
      }
      // Better PR AUC first; ties keep the earlier candidate, so the order is deterministic.
      std::stable_sort(scored.begin(), scored.end(),
                       [](const auto& a, const auto& b) { return a.first > b.first; });
      alive.clear();
      for (size_t i = 0; i < (scored.size() + 1) / 2; ++i) alive.push_back(scored[i].second);
      budget = std::min(o.max_rounds, budget * 2);
    }
    auto j = judge(candidates[static_cast<size_t>(alive[0])], o, r.scale_pos_weight, splits, data,
                   o.max_rounds);
    if (!j.ok()) return j.error();
    j->trial.candidate = alive[0];
    j->trial.rung = static_cast<int>(r.trials.empty() ? 0 : r.trials.back().rung + 1);
    r.trials.push_back(j->trial);
    report(j->trial, fmt::format("halving winner, candidate {}", alive[0] + 1));
    best = std::move(*j);
  }
  r.best = best->trial;

  Booster model;
  if (!kfold) {
    model = std::move(best->booster);
  } else {
    // Every row trains the final model, for the winner's mean best round over the folds.
    auto final_model =
        run_trial(r.best.params, o, r.scale_pos_weight, splits.all, nullptr, r.best.best_rounds);
    if (!final_model.ok()) return final_model.error();
    model = std::move(final_model->booster);
    r.folds = std::move(best->folds);
    r.out_of_fold = std::move(best->out_of_fold);
    if (o.progress) {
      o.progress(fmt::format("final model: {} trees on all {} rows", r.best.best_rounds, n));
    }
  }
  bst_ulong len = 0;
  const char* buf = nullptr;
  if (XGBoosterSaveModelToBuffer(model.get(), R"({"format": "json"})", &len, &buf) != 0) {
    return xgb_error("save");
  }
  r.model_json.assign(buf, len);
  return r;
}

}  // namespace fw
