#include "training/trainer.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

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

Result<DMatrix> make_matrix(const Dataset& d, size_t begin, size_t end) {
  DMatrixHandle h = nullptr;
  if (XGDMatrixCreateFromMat(d.row(begin), end - begin, kFeatureCount, NAN, &h) != 0) {
    return xgb_error("DMatrix");
  }
  DMatrix m(h);
  if (XGDMatrixSetFloatInfo(h, "label", d.y.data() + begin, end - begin) != 0) {
    return xgb_error("labels");
  }
  return m;
}

std::vector<const char*> feature_names() {
  std::vector<const char*> names;
  static std::vector<std::string> storage = [] {
    std::vector<std::string> s;
    for (size_t f = 0; f < kFeatureCount; ++f)
      s.emplace_back(feature_name(static_cast<FeatureId>(f)));
    return s;
  }();
  for (const std::string& s : storage) names.push_back(s.c_str());
  return names;
}

// "[12]\tvalidation-aucpr:0.8123" -> 0.8123
double parse_eval(const char* text) {
  const char* colon = std::strrchr(text, ':');
  return colon != nullptr ? std::strtod(colon + 1, nullptr) : NAN;
}

struct TrialOutcome {
  Trial trial;
  Booster booster;
};

Result<TrialOutcome> run_trial(const TreeParams& p, const TrainOptions& o, double spw,
                               const DMatrix& train, const DMatrix& valid) {
  DMatrixHandle cache[2] = {train.get(), valid.get()};
  BoosterHandle h = nullptr;
  if (XGBoosterCreate(cache, 2, &h) != 0) return xgb_error("booster");
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
  std::vector<const char*> names = feature_names();
  if (XGBoosterSetStrFeatureInfo(h, "feature_name", names.data(), names.size()) != 0) {
    return xgb_error("feature names");
  }
  DMatrixHandle eval_set[1] = {valid.get()};
  const char* eval_names[1] = {"validation"};
  double best = -1;
  int best_round = 0;
  for (int round = 0; round < o.max_rounds; ++round) {
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
  return TrialOutcome{Trial{p, best_round + 1, best}, std::move(cut)};
}

}  // namespace

Result<TrainResult> train_model(const Dataset& data, const TrainOptions& o) {
  const size_t n = data.rows();
  if (n < 100) {
    return make_error("training", fmt::format("{} labelled rows; need at least 100", n));
  }
  if (!(o.validation_fraction > 0 && o.validation_fraction < 1)) {
    return make_error("training", "validation fraction must be between 0 and 1");
  }
  TrainResult r;
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
  r.scale_pos_weight = o.scale_pos_weight > 0
                           ? o.scale_pos_weight
                           : static_cast<double>(r.train_rows - r.train_positives) /
                                 static_cast<double>(r.train_positives);
  auto train = make_matrix(data, 0, r.train_rows);
  if (!train.ok()) return train.error();
  auto valid = make_matrix(data, r.train_rows, n);
  if (!valid.ok()) return valid.error();

  std::mt19937_64 rng(o.seed);
  auto uniform = [&](double lo, double hi) {
    return lo + (hi - lo) * std::uniform_real_distribution<double>(0, 1)(rng);
  };
  Booster best;
  for (int t = 0; t < std::max(1, o.search_trials); ++t) {
    TreeParams p = o.params;
    if (t > 0) {
      p.max_depth = 3 + static_cast<int>(rng() % 6);  // 3..8
      p.eta = std::exp(uniform(std::log(0.03), std::log(0.3)));
      p.subsample = uniform(0.6, 1.0);
      p.colsample_bytree = uniform(0.5, 1.0);
      p.min_child_weight = std::exp(uniform(0, std::log(20)));
    }
    auto outcome = run_trial(p, o, r.scale_pos_weight, *train, *valid);
    if (!outcome.ok()) return outcome.error();
    const Trial& trial = outcome->trial;
    r.trials.push_back(trial);
    if (o.progress) {
      o.progress(fmt::format(
          "trial {}/{}: depth {} eta {:.3f} subsample {:.2f} colsample {:.2f} "
          "min_child_weight {:.2f} -> {} trees, validation PR AUC {:.4f}",
          t + 1, std::max(1, o.search_trials), p.max_depth, p.eta, p.subsample, p.colsample_bytree,
          p.min_child_weight, trial.best_rounds, trial.validation_aucpr));
    }
    if (!best || trial.validation_aucpr > r.best.validation_aucpr) {
      r.best = trial;
      best = std::move(outcome->booster);
    }
  }
  bst_ulong len = 0;
  const char* buf = nullptr;
  if (XGBoosterSaveModelToBuffer(best.get(), R"({"format": "json"})", &len, &buf) != 0) {
    return xgb_error("save");
  }
  r.model_json.assign(buf, len);
  return r;
}

}  // namespace fw
