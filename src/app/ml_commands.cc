#include "app/ml_commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "app/config.h"
#include "app/setup.h"
#include "app/store_flags.h"
#include "core/log.h"
#include "core/time.h"
#include "training/model_dir.h"
#include "training/pipeline.h"

namespace fw {

struct MlCommands {
  CLI::App* train = nullptr;
  CLI::App* evaluate = nullptr;
  // Shared data flags.
  struct Data {
    std::string input, mapping, labels, from, to;
    double label_delay_days = 7;
    // --from-store: the store the configuration names (--config, --data-dir, --database-url).
    bool from_store = false;
    std::string config_path;
    std::optional<std::string> data_dir, database_url;
  } train_data, eval_data;
  std::string out, threshold = "f1", scale_pos_weight = "auto", log_level = "info";
  size_t k = 100;
  TrainOptions options;
  std::string model, eval_out;
  double eval_threshold = -1;
  size_t eval_k = 100;
  bool no_anomaly = false;
  bool anomaly_feature = false;
  std::string validation = "0.2", search = "random";
  IsolationForestOptions forest;
};

namespace {

// Transactions read from the store per query: ~10 MB of rows, large enough that the per-query
// cost is noise, small enough that the scan never holds much of a big history at once.
constexpr size_t kStorePageSize = 8192;

void add_data_flags(CLI::App* cmd, MlCommands::Data& d) {
  cmd->add_option("--input", d.input,
                  "history: a .csv/.jsonl file or a folder of them (or --from-store)");
  cmd->add_flag("--from-store", d.from_store,
                "history from the store instead: its transactions in time order and its labels "
                "table (else each transaction's own label)");
  cmd->add_option("--config", d.config_path, "YAML configuration naming the store (--from-store)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data-dir", d.data_dir,
                  "where the SQLite database lives (--from-store; default ./data)");
  cmd->add_option("--database-url", d.database_url,
                  "the PostgreSQL store at this libpq URL (--from-store; or "
                  "FRAUDWATCH_DATABASE_URL)");
  cmd->add_option("--mapping", d.mapping,
                  "column-mapping YAML for the input (docs/column-mapping.md)");
  cmd->add_option("--labels", d.labels,
                  "late labels (JSON lines); default: the input folder's labels.jsonl");
  cmd->add_option("--from", d.from,
                  "first day of rows (YYYY-MM-DD or RFC 3339); earlier transactions only warm "
                  "the state");
  cmd->add_option("--to", d.to, "end of rows (exclusive); later transactions are not read");
  cmd->add_option("--label-delay", d.label_delay_days,
                  "days after a transaction before its fraud label reaches the features")
      ->capture_default_str();
}

Result<Timestamp> parse_time(const std::string& text, const char* flag) {
  if (text.empty()) return Timestamp{0};
  auto t = parse_rfc3339(text.size() == 10 ? text + "T00:00:00Z" : text);
  if (!t.ok()) return make_error(flag, t.error().reason);
  return *t;
}

// The history of --from-store: reads the store's labels now and its transactions page by page
// during the replay. The source keeps the store open.
Result<std::shared_ptr<const HistorySource>> store_source(const MlCommands::Data& d) {
  auto named = store_config(d.config_path, d.data_dir, d.database_url);
  if (!named.ok()) return named.error();
  const AppConfig& cfg = *named;
  if (cfg.backend != "postgres") {
    // Training never creates a database: an empty new one would only hide a wrong --data-dir.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(cfg.sqlite_file(), ec)) {
      return make_error(d.data_dir ? "--data-dir" : "storage.path",
                        "no fraudwatch database at '" + cfg.sqlite_file() +
                            "': point --data-dir (or --database-url) at the store to train from");
    }
  }
  auto opened = open_store(cfg, /*fresh=*/false);
  if (!opened.ok()) return opened.error();
  std::shared_ptr<Store> store = std::move(opened).value();
  auto labels = store->label_events();
  if (!labels.ok()) return labels.error();
  auto source = std::make_shared<HistorySource>();
  source->name = "store " + describe_store(cfg);
  source->labels = std::move(labels).value();
  source->scan = [store](Timestamp before,
                         const std::function<bool(std::vector<Transaction>&)>& on_page) {
    return store->scan_transactions(before, kStorePageSize, on_page);
  };
  return std::shared_ptr<const HistorySource>(std::move(source));
}

Result<DatasetOptions> data_options(const MlCommands::Data& d) {
  DatasetOptions o;
  if (d.from_store == !d.input.empty()) {
    return make_error("--input", d.from_store ? "cannot be combined with --from-store"
                                              : "is required (or --from-store)");
  }
  if (d.from_store && (!d.mapping.empty() || !d.labels.empty())) {
    return make_error(d.mapping.empty() ? "--labels" : "--mapping",
                      "applies to --input files, not to --from-store (the store holds "
                      "transactions in fraudwatch's own format, and its labels table)");
  }
  if (!d.from_store && (!d.config_path.empty() || d.data_dir || d.database_url)) {
    return make_error(!d.config_path.empty() ? "--config"
                      : d.data_dir           ? "--data-dir"
                                             : "--database-url",
                      "names the store to read with --from-store; add --from-store or drop it");
  }
  if (d.from_store) {
    auto source = store_source(d);
    if (!source.ok()) return source.error();
    o.source = std::move(source).value();
    o.input = o.source->name;  // for metadata.json
  } else {
    o.input = d.input;
  }
  o.mapping = d.mapping;
  o.labels = d.labels;
  auto from = parse_time(d.from, "--from");
  if (!from.ok()) return from.error();
  auto to = parse_time(d.to, "--to");
  if (!to.ok()) return to.error();
  o.window_from = *from;
  o.window_to = *to;
  if (o.window_to != 0 && o.window_to <= o.window_from) {
    return make_error("--to", "must be after --from");
  }
  if (!(d.label_delay_days >= 0 && d.label_delay_days <= 3650)) {
    return make_error("--label-delay", "must be 0..3650 days");
  }
  o.label_delay_us = static_cast<int64_t>(d.label_delay_days * static_cast<double>(kMicrosPerDay));
  return o;
}

void log_line(const std::string& line) { fmt::print(stderr, "{}\n", line); }

int run_train(const MlCommands& c) {
  auto data = data_options(c.train_data);
  if (!data.ok()) {
    spdlog::error("{}", data.error().message());
    return 2;
  }
  auto policy = parse_threshold_policy(c.threshold, "--threshold");
  if (!policy.ok()) {
    spdlog::error("{}", policy.error().message());
    return 2;
  }
  TrainJob job;
  job.data = *data;
  job.train = c.options;
  if (c.scale_pos_weight != "auto") {
    char* end = nullptr;
    job.train.scale_pos_weight = std::strtod(c.scale_pos_weight.c_str(), &end);
    if (end != c.scale_pos_weight.c_str() + c.scale_pos_weight.size() ||
        !(job.train.scale_pos_weight > 0)) {
      spdlog::error("--scale-pos-weight: 'auto' or a positive number");
      return 2;
    }
  }
  if (c.validation == "kfold") {
    job.train.validation = Validation::kKFold;
  } else {
    char* end = nullptr;
    job.train.validation_fraction = std::strtod(c.validation.c_str(), &end);
    if (c.validation.empty() || end != c.validation.c_str() + c.validation.size() ||
        !(job.train.validation_fraction >= 0.01 && job.train.validation_fraction <= 0.9)) {
      spdlog::error("--validation: 'kfold' or a share of rows from 0.01 to 0.9, not '{}'",
                    c.validation);
      return 2;
    }
  }
  job.train.search = c.search == "halving" ? Search::kHalving : Search::kRandom;
  job.threshold = *policy;
  job.k = c.k;
  job.out_dir = c.out;
  job.log = log_line;
  job.anomaly = !c.no_anomaly;
  job.anomaly_feature = c.anomaly_feature;
  job.forest = c.forest;
  job.forest.seed = c.options.seed;
  auto r = run_train_job(job);
  if (!r.ok()) {
    spdlog::error("{}", r.error().message());
    return r.error().field == "training" ? 1 : 2;
  }
  if (job.train.validation == Validation::kKFold) {
    fmt::print(stderr, "\n{}\nout-of-fold scores of every row, threshold by {}:\n{}",
               fold_summary_line(r->train.folds), policy->describe(), report_table(r->validation));
  } else {
    fmt::print(stderr, "\nvalidation (latest {:.0f}% of rows, threshold by {}):\n{}",
               100 * job.train.validation_fraction, policy->describe(),
               report_table(r->validation));
  }
  fmt::print(stderr,
             "model folder: {} (model.json, metadata.json, evaluation.json, roc.svg, pr.svg{})\n",
             c.out, c.no_anomaly ? "" : ", isolation_forest.json");
  return 0;
}

int run_evaluate(const MlCommands& c) {
  auto data = data_options(c.eval_data);
  if (!data.ok()) {
    spdlog::error("{}", data.error().message());
    return 2;
  }
  EvaluateJob job;
  job.model = c.model;
  job.data = *data;
  job.threshold = c.eval_threshold;
  job.k = c.eval_k;
  job.out_dir = c.eval_out;
  job.log = log_line;
  auto r = run_evaluate_job(job);
  if (!r.ok()) {
    spdlog::error("{}", r.error().message());
    return 2;
  }
  fmt::print(stderr, "{}", report_table(*r));
  fmt::print("{}\n", report_to_json(*r).dump(2));
  return 0;
}

}  // namespace

std::shared_ptr<MlCommands> add_ml_commands(CLI::App& app) {
  auto c = std::make_shared<MlCommands>();
  TrainOptions& o = c->options;
  c->train = app.add_subcommand(
      "train",
      "train a gradient-boosted model on labelled history, replayed through the engine's "
      "feature code (docs/models.md)");
  add_data_flags(c->train, c->train_data);
  c->train->add_option("--out", c->out, "model folder to write")->required();
  c->train
      ->add_option("--validation", c->validation,
                   "SHARE: hold out the latest SHARE of rows (0.01..0.9) for validation, early "
                   "stopping and the threshold; kfold: stratified k-fold over all rows, the "
                   "final model on every row")
      ->capture_default_str();
  c->train->add_option("--folds", o.folds, "folds of --validation kfold")
      ->capture_default_str()
      ->check(CLI::Range(2, 20));
  c->train
      ->add_option("--search", c->search,
                   "random: --trials candidates, each up to --rounds trees; halving: successive "
                   "halving of --trials candidates on a doubling tree budget")
      ->capture_default_str()
      ->check(CLI::IsMember({"random", "halving"}));
  c->train
      ->add_option("--trials", o.search_trials,
                   "hyperparameter trials: the given parameters, then random draws")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  c->train->add_option("--rounds", o.max_rounds, "trees at most (early stopping picks fewer)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  c->train
      ->add_option("--early-stopping", o.early_stopping_rounds,
                   "stop after this many rounds without a better validation PR AUC")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  c->train->add_option("--max-depth", o.params.max_depth)
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  c->train->add_option("--eta", o.params.eta, "learning rate")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1.0));
  c->train->add_option("--subsample", o.params.subsample)
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1.0));
  c->train->add_option("--colsample", o.params.colsample_bytree)
      ->capture_default_str()
      ->check(CLI::Range(0.1, 1.0));
  c->train->add_option("--min-child-weight", o.params.min_child_weight)
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1000.0));
  c->train
      ->add_option("--scale-pos-weight", c->scale_pos_weight,
                   "weight of fraud rows: auto = legit/fraud of the training rows")
      ->capture_default_str();
  c->train
      ->add_option("--threshold", c->threshold,
                   "threshold choice on validation: f1, precision:P or cost:FP,FN")
      ->capture_default_str();
  c->train->add_option("--k", c->k, "alerts per day for account precision@k")
      ->capture_default_str();
  c->train->add_option("--seed", o.seed, "same data and seed, same model")->capture_default_str();
  c->train->add_option("--threads", o.threads, "XGBoost threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));

  c->train->add_flag("--no-anomaly", c->no_anomaly,
                     "skip the Isolation Forest (isolation_forest.json, the anomaly score)");
  c->train->add_flag("--anomaly-feature", c->anomaly_feature,
                     "train the Isolation Forest first and give the model its score as an extra "
                     "input column, anomaly_score (served from the folder's forest)");
  c->train->add_option("--anomaly-trees", c->forest.trees, "trees of the Isolation Forest")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));

  c->evaluate = app.add_subcommand(
      "evaluate", "evaluate a model on labelled history: a table on stderr, JSON on stdout");
  c->evaluate->add_option("--model", c->model, "model folder or XGBoost JSON file")->required();
  add_data_flags(c->evaluate, c->eval_data);
  c->evaluate->add_option("--threshold", c->eval_threshold,
                          "decision threshold (default: the model's own)");
  c->evaluate->add_option("--k", c->eval_k, "alerts per day for account precision@k")
      ->capture_default_str();
  c->evaluate->add_option("--out", c->eval_out,
                          "folder for evaluation.json, roc.svg and pr.svg (optional)");
  return c;
}

std::optional<int> run_ml_commands(const MlCommands& c) {
  if (c.train->parsed()) return run_train(c);
  if (c.evaluate->parsed()) return run_evaluate(c);
  return std::nullopt;
}

}  // namespace fw
