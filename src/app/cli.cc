#include "app/cli.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <optional>

#include "app/commands.h"
#include "app/config.h"
#include "app/ml_commands.h"
#include "app/model_commands.h"
#include "app/rules_commands.h"
#include "core/log.h"

namespace fw {
namespace {

// Flags shared by several commands; each overrides the config file when given.
struct CommonFlags {
  std::string config_path;
  std::optional<std::string> data_dir, log_level, rules, bind, database_url;
  std::optional<std::string> model, shadow_model;
  std::optional<int> shards, port;
  std::optional<uint64_t> seed;
  std::optional<size_t> customers, merchants, batch_size;
  std::optional<double> rate, fraud_ratio;
  bool log_json = false;
};

void add_database_url(CLI::App* cmd, CommonFlags& f) {
  cmd->add_option("--database-url", f.database_url,
                  "store in PostgreSQL at this libpq URL (e.g. postgresql://fw@db/fraud?"
                  "sslmode=verify-full); default: storage.backend from the config. Prefer the "
                  "FRAUDWATCH_DATABASE_URL variable when the URL holds a password");
}

void add_common(CLI::App* cmd, CommonFlags& f, bool engine, bool simulator, bool server) {
  cmd->add_option("--config", f.config_path, "YAML configuration file (see config/fraudwatch.yaml)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--log-level", f.log_level, "trace, debug, info, warn or error (default info)");
  cmd->add_flag("--log-json", f.log_json, "log one JSON object per line");
  if (engine) {
    cmd->add_option("--shards", f.shards, "scoring threads (default: one per CPU core)");
    cmd->add_option("--batch-size", f.batch_size, "transactions per engine batch (default 2048)");
    cmd->add_option("--rules", f.rules, "rule-set YAML file (default: built-in rules)");
    cmd->add_option("--model", f.model,
                    "champion model folder (from `fraudwatch train`, or an XGBoost JSON); "
                    "default: model.path in the config; none = the store registry's champion "
                    "and shadow, followed while running (`fraudwatch model`), else rules only");
    cmd->add_option("--shadow-model", f.shadow_model,
                    "shadow model folder: scored and recorded beside the champion, never decides");
  }
  if (simulator) {
    cmd->add_option("--seed", f.seed, "simulator seed: same seed, same transactions (default 42)");
    cmd->add_option("--customers", f.customers, "simulated customers (default 20000)");
    cmd->add_option("--merchants", f.merchants, "simulated merchants (default 2000)");
    cmd->add_option("--fraud-ratio", f.fraud_ratio,
                    "fraction of transactions from fraud patterns (default 0.005)");
    cmd->add_option("--rate", f.rate,
                    "transactions per second, 0 = as fast as possible (demo default 2000, "
                    "simulate default 0)");
  }
  if (server) {
    add_database_url(cmd, f);
    cmd->add_option("--port", f.port, "HTTP port (default 8080; 0 = any free port)");
    cmd->add_option("--bind", f.bind, "HTTP bind address (default 127.0.0.1)");
    cmd->add_option("--data-dir", f.data_dir, "where the database lives (default ./data)");
  }
}

// Loads the config file (if any) and applies the flags. Exits with 2 on a bad file.
std::optional<AppConfig> resolve(const CommonFlags& f) {
  AppConfig c;
  if (!f.config_path.empty()) {
    auto loaded = load_config(f.config_path);
    if (!loaded.ok()) {
      spdlog::error("{}", loaded.error().message());
      return std::nullopt;
    }
    c = *loaded;
  }
  if (f.data_dir) c.data_dir = *f.data_dir;
  if (f.database_url) {
    c.backend = "postgres";
    c.database_url = *f.database_url;
  }
  if (f.log_level) c.log_level = *f.log_level;
  if (f.log_json) c.log_json = true;
  if (f.rules) c.rules_path = *f.rules;
  if (f.model) c.model_path = *f.model;
  if (f.shadow_model) c.shadow_model_path = *f.shadow_model;
  if (f.bind) c.bind = *f.bind;
  if (f.shards) c.shards = *f.shards;
  if (f.port) c.port = *f.port;
  if (f.seed) c.seed = *f.seed;
  if (f.customers) c.customers = *f.customers;
  if (f.merchants) c.merchants = *f.merchants;
  if (f.batch_size) c.batch_size = *f.batch_size;
  if (f.rate) c.rate = *f.rate;
  if (f.fraud_ratio) c.fraud_ratio = *f.fraud_ratio;
  const char* bad = nullptr;
  if (c.shards < 0 || c.shards > 256) bad = "--shards: must be 0..256";
  if (c.port < 0 || c.port > 65535) bad = "--port: must be 0..65535";
  if (c.batch_size == 0 || c.batch_size > 1'000'000) bad = "--batch-size: must be 1..1000000";
  if (c.rate < 0) bad = "--rate: must be >= 0";
  if (c.fraud_ratio < 0 || c.fraud_ratio > 0.5) bad = "--fraud-ratio: must be 0..0.5";
  if (c.customers == 0 || c.merchants == 0) bad = "--customers/--merchants: must be at least 1";
  if (bad != nullptr) {
    spdlog::error("{}", bad);
    return std::nullopt;
  }
  return c;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{
      "fraudwatch: real-time transaction monitoring and fraud detection.\n"
      "Start with `fraudwatch demo` and open the printed address."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "fraudwatch 0.1.0");

  CommonFlags demo_flags, replay_flags, bench_flags, sim_flags;
  DemoOptions demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "simulated traffic scored live, stored in SQLite, shown at http://localhost:8080");
  add_common(demo_cmd, demo_flags, true, true, true);
  demo_cmd->add_option("--count", demo.count,
                       "stop once this many transactions have been produced (0 = no limit)");
  demo_cmd->add_option("--duration", demo.duration_s, "stop after this many seconds");
  demo_cmd->add_flag("--fresh", demo.fresh, "delete the database first instead of resuming");
  demo_cmd->add_flag("--quiet", demo.quiet, "no live status line");
  demo_cmd
      ->add_option("--shutdown-timeout", demo.shutdown_timeout_s,
                   "seconds stopping waits for a failing database before giving up on the "
                   "transactions not yet stored (they are re-read on restart); default 30")
      ->check(CLI::Range(0.0, 86400.0));

  ReplayOptions replay;
  auto* replay_cmd =
      app.add_subcommand("replay", "score a history file (CSV or JSON lines) as fast as possible");
  add_common(replay_cmd, replay_flags, true, false, false);
  replay_cmd->add_option("--input", replay.input, "a .csv/.jsonl file or a folder of them")
      ->required();
  replay_cmd->add_option("--mapping", replay.mapping,
                         "column mapping YAML for other layouts (docs/column-mapping.md)");
  replay_cmd->add_option("--labels", replay.labels,
                         "late labels (JSON lines) applied as replayed time reaches them "
                         "(default: labels.jsonl in an input folder)");
  replay_cmd->add_option("--out", replay.out, "output CSV: id,score,decision,reasons,label")
      ->required();
  replay_cmd->add_option("--dead-letters", replay.dead_letters,
                         "where rejected records go (default <out>.rejected.jsonl)");

  BenchOptions bench;
  BacktestOptions backtest;
  CommonFlags backtest_flags;
  auto* backtest_cmd = app.add_subcommand(
      "backtest",
      "replay history with a candidate rule set and the current one; report per rule hits, "
      "precision, recall, overlap, and the decisions that would change");
  add_common(backtest_cmd, backtest_flags, /*engine=*/false, false, false);
  backtest_cmd->add_option("--rules", backtest.rules, "candidate rule-set YAML file")
      ->required()
      ->check(CLI::ExistingFile);
  backtest_cmd
      ->add_option("--current", backtest.current,
                   "rule set to compare with (default: the built-in rules)")
      ->check(CLI::ExistingFile);
  backtest_cmd->add_option("--input", backtest.input, "a .csv/.jsonl file or a folder of them")
      ->required();
  backtest_cmd
      ->add_option("--mapping", backtest.mapping, "column-mapping YAML (docs/column-mapping.md)")
      ->check(CLI::ExistingFile);
  backtest_cmd
      ->add_option("--labels", backtest.labels,
                   "late labels (JSON lines); default: labels.jsonl in an input folder")
      ->check(CLI::ExistingFile);
  backtest_cmd->add_option("--json", backtest.json, "also write the full report as JSON here");
  backtest_cmd->add_option("--show-changes", backtest.show_changes,
                           "changed transactions to list on the terminal (default 20)");
  backtest_cmd->add_option("--shards", backtest_flags.shards,
                           "scoring threads (default: one per CPU core)");
  backtest_cmd->add_option("--batch-size", backtest_flags.batch_size,
                           "transactions per engine batch (default 2048)");
  backtest_cmd->add_flag("--quiet", backtest.quiet, "no progress or warnings on stderr");

  auto* bench_cmd = app.add_subcommand(
      "bench", "measure the engine on pre-generated transactions (throughput and latency)");
  add_common(bench_cmd, bench_flags, true, false, false);
  bench_cmd->add_option("--transactions", bench.transactions, "how many (default 2000000)");
  bench_cmd->add_option("--accounts", bench.accounts, "distinct accounts (default 1000000)");
  bench_cmd->add_option("--sqlite", bench.sqlite,
                        "also persist everything to this SQLite file (it is recreated)");
  bench_cmd->add_flag("--json", bench.json, "print one JSON object for machines");
  bench_cmd->add_flag("--postgres", bench.postgres,
                      "also persist everything to PostgreSQL (FRAUDWATCH_DATABASE_URL, PG* "
                      "variables or --database-url); the rows are added to that database");
  bench_cmd
      ->add_option("--store-timeout", bench.store_timeout_s,
                   "with a store: seconds of failing writes (database down or unreachable) "
                   "before giving up with exit code 1; default 30")
      ->check(CLI::Range(0.0, 86400.0));
  add_database_url(bench_cmd, bench_flags);

  CommonFlags db_flags;
  DbOptions db;
  auto* db_cmd = app.add_subcommand("db", "PostgreSQL schema migrations and partition maintenance");
  db_cmd->require_subcommand(1);
  std::optional<int> retention_days, days_ahead;
  auto* migrate_cmd =
      db_cmd->add_subcommand("migrate", "apply pending schema migrations (safe to repeat)");
  auto* maintain_cmd = db_cmd->add_subcommand(
      "maintain", "create the coming days' partitions; drop those older than the retention");
  for (CLI::App* sub : {migrate_cmd, maintain_cmd}) {
    add_common(sub, db_flags, false, false, false);
    add_database_url(sub, db_flags);
  }
  maintain_cmd->add_option("--retention-days", retention_days,
                           "drop transactions older than this many days (default "
                           "storage.retention_days; 0 = keep everything)");
  maintain_cmd->add_option("--days-ahead", days_ahead,
                           "create partitions this many days ahead (default 3)");

  SimulateOptions sim;
  auto* sim_cmd = app.add_subcommand(
      "simulate", "generate realistic labelled transactions (stream, file or daily history)");
  add_common(sim_cmd, sim_flags, false, true, false);
  sim_cmd->add_flag("--list-patterns", sim.list_patterns, "list the fraud patterns and exit");
  sim_cmd->add_option("--patterns", sim.patterns, "only these fraud patterns (comma-separated)")
      ->delimiter(',');
  sim_cmd->add_option("--count", sim.count, "how many transactions");
  sim_cmd->add_option("--duration", sim.duration_s, "for how many seconds");
  sim_cmd->add_option("--format", sim.format, "jsonl (default) or csv");
  sim_cmd->add_option("--out", sim.out, "output file, - for standard output (default)");
  sim_cmd->add_option("--start", sim.start, "simulated start time (YYYY-MM-DD or RFC 3339)");
  sim_cmd->add_option("--from", sim.from, "history mode: first day (YYYY-MM-DD)");
  sim_cmd->add_option("--to", sim.to,
                      "history mode: day after the last (YYYY-MM-DD); or `kafka` to produce "
                      "into a Kafka topic keyed by account id (with --brokers, --topic, --rate)");
  sim_cmd->add_option("--brokers", sim.brokers,
                      "with --to kafka: bootstrap servers (default kafka.brokers of --config)");
  sim_cmd->add_option("--topic", sim.topic,
                      "with --to kafka: topic (default kafka.topics.transactions, transactions)");
  sim_cmd->add_option("--out-dir", sim.out_dir, "history mode: folder for one file per day");

  CommonFlags serve_flags;
  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand(
      "serve",
      "one member of a Kafka consumer group: score the transactions topic, store the results "
      "(SQLite or PostgreSQL) and write decisions, alerts and dead letters to Kafka "
      "(docs/scaling.md)");
  add_common(serve_cmd, serve_flags, true, false, true);
  serve_cmd->add_flag("--embedded-kafka", serve.embedded_kafka,
                      "start librdkafka's mock cluster in this process (in memory, NOT durable; "
                      "for trying Kafka mode on one machine) and print its bootstrap address");
  serve_cmd->add_option("--partitions", serve.embedded_partitions,
                        "with --embedded-kafka: partitions per topic (default 4)");
  serve_cmd->add_option("--duration", serve.duration_s, "stop after this many seconds");
  serve_cmd
      ->add_option("--shutdown-timeout", serve.shutdown_timeout_s,
                   "seconds stopping waits for a failing database (default 30)")
      ->check(CLI::Range(0.0, 86400.0));

  std::shared_ptr<MlCommands> ml = add_ml_commands(app);                // train, evaluate
  std::shared_ptr<RulesCommands> rules_cmds = add_rules_commands(app);  // rules check|reload
  std::shared_ptr<ModelCommands> model_cmds = add_model_commands(app);  // model register|...
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto with_config = [](CommonFlags& flags, AppConfig& into) {
    auto c = resolve(flags);
    if (!c) return false;
    into = *c;
    setup_logging(into.log_level, into.log_json);
    return true;
  };
  // Until the config is read, log plainly to stderr: errors about the config itself.
  spdlog::set_default_logger(spdlog::stderr_color_st("startup"));
  spdlog::set_pattern("%^%l%$: %v");
  if (auto code = run_ml_commands(*ml)) return *code;
  if (auto code = run_rules_commands(*rules_cmds)) return *code;
  if (auto code = run_model_commands(*model_cmds)) return *code;
  if (demo_cmd->parsed()) {
    if (!with_config(demo_flags, demo.config)) return 2;
    return run_demo(demo);
  }
  if (replay_cmd->parsed()) {
    if (!with_config(replay_flags, replay.config)) return 2;
    return run_replay(replay);
  }
  if (backtest_cmd->parsed()) {
    if (!with_config(backtest_flags, backtest.config)) return 2;
    return run_backtest(backtest);
  }
  if (bench_cmd->parsed()) {
    if (!with_config(bench_flags, bench.config)) return 2;
    bench.config.rate = 0;
    return run_bench(bench);
  }
  if (db_cmd->parsed()) {
    if (!with_config(db_flags, db.config)) return 2;
    if (retention_days) db.config.retention_days = *retention_days;
    if (days_ahead) db.config.partition_days_ahead = *days_ahead;
    if (db.config.retention_days < 0 || db.config.partition_days_ahead < 0) {
      spdlog::error("--retention-days and --days-ahead must be >= 0");
      return 2;
    }
    db.action = maintain_cmd->parsed() ? "maintain" : "migrate";
    return run_db(db);
  }
  if (serve_cmd->parsed()) {
    if (!with_config(serve_flags, serve.config)) return 2;
    return run_serve(serve);
  }
  if (sim_cmd->parsed()) {
    if (!with_config(sim_flags, sim.config)) return 2;
    if (!sim_flags.rate) sim.config.rate = 0;  // simulate: as fast as possible unless asked
    return run_simulate(sim);
  }
  return 2;
}

}  // namespace fw
