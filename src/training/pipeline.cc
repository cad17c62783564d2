#include "training/pipeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "training/anomaly.h"
#include "training/model_dir.h"

namespace fw {
namespace {

void say(const std::function<void(const std::string&)>& log, const std::string& line) {
  if (log) log(line);
}

Result<Dataset> replay(const DatasetOptions& base,
                       const std::function<void(const std::string&)>& log) {
  DatasetOptions o = base;
  o.progress = [&](uint64_t read, uint64_t rows) {
    say(log, fmt::format("replay: {} transactions read, {} rows", read, rows));
  };
  return build_dataset(o);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

FoldSummary summarize_folds(const std::vector<FoldMetrics>& folds) {
  FoldSummary s;
  if (folds.empty()) return s;
  const auto k = static_cast<double>(folds.size());
  auto mean_std = [&](auto get, double& mean, double& sd) {
    double sum = 0, sq = 0;
    for (const FoldMetrics& f : folds) {
      sum += get(f);
      sq += get(f) * get(f);
    }
    mean = sum / k;
    sd = std::sqrt(std::max(0.0, sq / k - mean * mean));
  };
  mean_std([](const FoldMetrics& f) { return f.roc_auc; }, s.roc_auc_mean, s.roc_auc_std);
  mean_std([](const FoldMetrics& f) { return f.average_precision; }, s.average_precision_mean,
           s.average_precision_std);
  return s;
}

std::string fold_summary_line(const std::vector<FoldMetrics>& folds) {
  const FoldSummary s = summarize_folds(folds);
  return fmt::format("{} folds: ROC AUC {:.4f} ± {:.4f}, PR AUC {:.4f} ± {:.4f} (mean ± std)",
                     folds.size(), s.roc_auc_mean, s.roc_auc_std, s.average_precision_mean,
                     s.average_precision_std);
}

Status write_report(const std::string& dir, const EvaluationReport& report) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(dir, fmt::format("cannot create: {}", ec.message()));
  const std::vector<std::pair<std::string, std::string>> files = {
      {"evaluation.json", report_to_json(report).dump(2) + "\n"},
      {"roc.svg", curve_svg(report.roc, fmt::format("ROC (AUC {:.4f})", report.roc_auc),
                            "false positive rate", "true positive rate")},
      {"pr.svg",
       curve_svg(report.pr, fmt::format("Precision-recall (AP {:.4f})", report.average_precision),
                 "recall", "precision")},
  };
  for (const auto& [name, text] : files) {
    const std::string path = (fs::path(dir) / name).string();
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    if (!out) return make_error(path, "cannot write");
  }
  return Status::Ok();
}

Result<TrainJobResult> run_train_job(const TrainJob& job) {
  const auto started = std::chrono::steady_clock::now();
  if (job.anomaly_feature && !job.anomaly) {
    return make_error("--anomaly-feature", "needs the Isolation Forest: drop --no-anomaly");
  }
  auto data = replay(job.data, job.log);
  if (!data.ok()) return data.error();
  Dataset& d = *data;
  say(job.log, fmt::format("dataset: {} rows ({} fraud) from {} transactions ({} warm-up, {} "
                           "unlabelled, {} rejected) in {:.1f} s",
                           d.rows(), d.positives(), d.transactions_read, d.warmup, d.unlabelled,
                           d.rejected, seconds_since(started)));
  const bool kfold = job.train.validation == Validation::kKFold;
  // The anomaly score as a model input: the forest first, on the rows the model trains on (the
  // earlier rows of the time split, split as train_model does; every row with k-fold).
  std::optional<IsolationForest> forest;
  double forest_secs = 0;
  if (job.anomaly_feature) {
    const auto forest_started = std::chrono::steady_clock::now();
    const size_t forest_rows = kfold ? d.rows()
                                     : static_cast<size_t>(static_cast<double>(d.rows()) *
                                                           (1 - job.train.validation_fraction));
    auto f = train_forest(d, 0, forest_rows, job.forest);
    if (!f.ok()) return f.error();
    d.anomaly = anomaly_scores(*f, d, 0, d.rows());
    forest = std::move(*f);
    forest_secs = seconds_since(forest_started);
    say(job.log, fmt::format("isolation forest: trained first on {} rows in {:.1f} s; its score "
                             "is the model's {} column",
                             forest_rows, forest_secs, kAnomalyColumn));
  }
  const auto train_started = std::chrono::steady_clock::now();
  TrainOptions to = job.train;
  to.progress = job.log;
  auto trained = train_model(d, to);
  if (!trained.ok()) return trained.error();
  TrainJobResult r;
  r.train = std::move(*trained);
  r.rows = d.rows();
  const double train_secs = seconds_since(train_started);
  say(job.log, fmt::format("trained in {:.1f} s: {} trees, depth {}, validation PR AUC {:.4f}",
                           train_secs, r.train.best.best_rounds, r.train.best.params.max_depth,
                           r.train.best.validation_aucpr));

  // Score the validation rows with the serving evaluator itself: what is reported is what serves.
  auto model = TreeModel::from_xgboost_json(r.train.model_json);
  if (!model.ok()) {
    return make_error("training", "the trained model does not load: " + model.error().message());
  }
  // Time split: the validation rows, scored by the serving evaluator. K-fold: every row, scored
  // out of fold by the fold model that did not see it.
  const size_t vb = kfold ? 0 : r.train.train_rows, ve = d.rows();
  std::vector<float> scores = kfold ? r.train.out_of_fold : score_rows(*model, d, vb, ve);
  const std::span<const float> vlabels(d.y.data() + vb, ve - vb);
  const double threshold = choose_threshold(score_curve(scores, vlabels), job.threshold);
  r.validation = evaluate_scores(d, vb, ve, scores, threshold, job.k);

  // The anomaly score: unsupervised, on the training rows only, judged on the validation rows.
  nlohmann::json anomaly_meta = nullptr;
  if (job.anomaly) {
    const auto forest_started = std::chrono::steady_clock::now();
    if (!forest) {
      auto f = train_forest(d, 0, r.train.train_rows, job.forest);
      if (!f.ok()) return f.error();
      forest = std::move(*f);
    }
    const IsolationForest* f = &*forest;
    const std::vector<float> a = anomaly_scores(*f, d, vb, ve);
    const auto curve = score_curve(a, vlabels);
    r.validation.anomaly_roc_auc = roc_auc(curve);
    r.validation.anomaly_average_precision = average_precision(curve);
    anomaly_meta = {{"file", kIsolationForestFile},
                    {"trees", f->tree_count()},
                    {"max_samples", job.forest.max_samples},
                    {"samples_per_tree", f->samples()},
                    {"seed", job.forest.seed},
                    {"trained_on_rows", r.train.train_rows},
                    {"validation_roc_auc", *r.validation.anomaly_roc_auc},
                    {"validation_average_precision", *r.validation.anomaly_average_precision},
                    {"model_input", job.anomaly_feature}};
    say(job.log,
        fmt::format("isolation forest: {} trees on {} rows in {:.1f} s, validation ROC "
                    "AUC {:.4f}",
                    f->tree_count(), r.train.train_rows,
                    forest_secs + seconds_since(forest_started), *r.validation.anomaly_roc_auc));
  }

  const TreeParams& p = r.train.best.params;
  nlohmann::json trials = nlohmann::json::array();
  for (const Trial& t : r.train.trials) {
    trials.push_back({{"max_depth", t.params.max_depth},
                      {"eta", t.params.eta},
                      {"subsample", t.params.subsample},
                      {"colsample_bytree", t.params.colsample_bytree},
                      {"min_child_weight", t.params.min_child_weight},
                      {"trees", t.best_rounds},
                      {"validation_aucpr", t.validation_aucpr},
                      {"validation_aucpr_std", t.validation_aucpr_std},
                      {"candidate", t.candidate},
                      {"rung", t.rung},
                      {"budget", t.budget}});
  }
  nlohmann::json validation_scheme = {
      {"scheme", kfold ? "kfold" : "time"},
      {"search", job.train.search == Search::kHalving ? "halving" : "random"}};
  if (kfold) {
    const FoldSummary fs = summarize_folds(r.train.folds);
    nlohmann::json folds = nlohmann::json::array();
    for (const FoldMetrics& f : r.train.folds) {
      folds.push_back({{"rows", f.rows},
                       {"frauds", f.positives},
                       {"trees", f.best_rounds},
                       {"roc_auc", f.roc_auc},
                       {"average_precision", f.average_precision}});
    }
    validation_scheme["folds"] = folds;
    validation_scheme["roc_auc"] = {{"mean", fs.roc_auc_mean}, {"std", fs.roc_auc_std}};
    validation_scheme["average_precision"] = {{"mean", fs.average_precision_mean},
                                              {"std", fs.average_precision_std}};
    say(job.log, fold_summary_line(r.train.folds));
  } else {
    validation_scheme["fraction"] = job.train.validation_fraction;
  }
  nlohmann::json names = nlohmann::json::array();
  for (size_t f = 0; f < kFeatureCount; ++f)
    names.push_back(feature_name(static_cast<FeatureId>(f)));
  if (job.anomaly_feature) names.push_back(kAnomalyColumn);
  nlohmann::json metrics = report_to_json(r.validation);
  metrics.erase("roc_curve");
  metrics.erase("pr_curve");
  nlohmann::json meta = {
      {"format_version", 1},
      {"created_by", "fraudwatch train"},
      {"objective", "binary:logistic"},
      {"feature_names", names},
      {"feature_schema_hash", schema_hash_hex()},
      {"threshold", threshold},
      {"threshold_policy", job.threshold.describe()},
      {"params",
       {{"tree_method", "hist"},
        {"max_depth", p.max_depth},
        {"eta", p.eta},
        {"subsample", p.subsample},
        {"colsample_bytree", p.colsample_bytree},
        {"min_child_weight", p.min_child_weight},
        {"trees", r.train.best.best_rounds},
        {"scale_pos_weight", r.train.scale_pos_weight},
        {"seed", job.train.seed},
        {"early_stopping_rounds", job.train.early_stopping_rounds},
        {"max_rounds", job.train.max_rounds}}},
      {"search", trials},
      {"validation", validation_scheme},
      {"data",
       {{"input", job.data.input},
        {"label_delay_days",
         static_cast<double>(job.data.label_delay_us) / static_cast<double>(kMicrosPerDay)},
        {"rows", d.rows()},
        {"frauds", d.positives()},
        {"transactions_replayed", d.transactions_read},
        {"warmup_transactions", d.warmup},
        {"train",
         {{"rows", r.train.train_rows},
          {"frauds", r.train.train_positives},
          {"from", d.rows() ? format_rfc3339(d.ts[0]) : ""},
          {"to", r.train.train_rows ? format_rfc3339(d.ts[r.train.train_rows - 1]) : ""}}},
        {"validation",
         {{"rows", r.train.validation_rows},
          {"frauds", r.train.validation_positives},
          {"from", format_rfc3339(d.ts[vb])},
          {"to", format_rfc3339(d.ts[ve - 1])}}}}},
      {"validation_metrics", metrics},
      {"reference",
       {{"features", feature_histograms(d, 0, r.train.train_rows)},
        {"scores", score_histogram(scores)}}},
      {"training_seconds", train_secs},
      {"anomaly", anomaly_meta},
  };
  if (Status s = write_model_dir(job.out_dir, r.train.model_json, meta); !s.ok()) return s.error();
  const std::string forest_path =
      (std::filesystem::path(job.out_dir) / kIsolationForestFile).string();
  if (forest) {
    std::ofstream out(forest_path, std::ios::binary | std::ios::trunc);
    out << forest->to_json();
    out.close();
    if (!out) return make_error(forest_path, "cannot write");
  } else {
    std::error_code ec;  // a forest left by an earlier run in this folder must not load
    std::filesystem::remove(forest_path, ec);
  }
  if (Status s = write_report(job.out_dir, r.validation); !s.ok()) return s.error();
  return r;
}

Result<EvaluationReport> run_evaluate_job(const EvaluateJob& job) {
  auto model = load_model(job.model);
  if (!model.ok()) return model.error();
  auto data = replay(job.data, job.log);
  if (!data.ok()) return data.error();
  if (data->rows() == 0) return make_error("input", "no labelled transactions in the window");
  // load_model refuses a model with the anomaly column whose folder has no forest.
  if (model->model.uses_anomaly_score() && model->forest) {
    data->anomaly = anomaly_scores(*model->forest, *data, 0, data->rows());
  }
  std::vector<float> scores = score_rows(model->model, *data, 0, data->rows());
  const double threshold = job.threshold >= 0 ? job.threshold : model->threshold;
  EvaluationReport r = evaluate_scores(*data, 0, data->rows(), scores, threshold, job.k);
  if (model->forest) {
    const std::vector<float> a = anomaly_scores(*model->forest, *data, 0, data->rows());
    const auto curve = score_curve(a, std::span<const float>(data->y.data(), data->rows()));
    r.anomaly_roc_auc = roc_auc(curve);
    r.anomaly_average_precision = average_precision(curve);
  }
  if (!job.out_dir.empty()) {
    if (Status s = write_report(job.out_dir, r); !s.ok()) return s.error();
  }
  return r;
}

}  // namespace fw
