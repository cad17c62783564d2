// The fraudwatch commands. Each returns the process exit code: 0 success, 1 runtime failure,
// 2 bad usage or configuration. They run on the calling (main) thread and own what they start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/config.h"

namespace fw {

struct DemoOptions {
  AppConfig config;
  uint64_t count = 0;     // stop after the source offset reaches this; 0 = run until Ctrl-C
  double duration_s = 0;  // stop after this many seconds; 0 = no limit
  bool fresh = false;     // delete the database first
  bool quiet = false;     // no live status line
  // How long stopping may wait for a failing store before giving up on the unstored rest.
  double shutdown_timeout_s = 30;
};
int run_demo(const DemoOptions& options);

struct ReplayOptions {
  AppConfig config;
  std::string input;
  std::string mapping;       // optional column-mapping YAML
  std::string labels;        // late labels JSON lines; default: labels.jsonl in an input folder
  std::string out;           // output CSV: one row per transaction
  std::string dead_letters;  // default: <out>.rejected.jsonl
};
int run_replay(const ReplayOptions& options);

struct BacktestOptions {
  AppConfig config;
  std::string rules;           // candidate rule-set YAML (required)
  std::string current;         // the rule set to compare with; empty = the built-in default rules
  std::string input;           // history file or folder
  std::string mapping;         // optional column-mapping YAML
  std::string labels;          // optional late labels; default: labels.jsonl in an input folder
  std::string json;            // optional JSON report
  size_t show_changes = 20;    // changed transactions listed on the terminal
  size_t max_changes = 10000;  // changed transactions kept for the JSON report
  bool quiet = false;
};
int run_backtest(const BacktestOptions& options);

struct BenchOptions {
  AppConfig config;
  uint64_t transactions = 2'000'000;
  size_t accounts = 1'000'000;
  std::string sqlite;     // when set, persist every transaction and decision to this database
  bool postgres = false;  // persist to PostgreSQL (config.database_url / environment) instead
  bool json = false;
  // Give up (exit 1) once store writes have failed without a success for this long.
  double store_timeout_s = 30;
};
int run_bench(const BenchOptions& options);

struct DbOptions {
  AppConfig config;
  std::string action;  // migrate | maintain
};
int run_db(const DbOptions& options);

struct SimulateOptions {
  AppConfig config;
  std::vector<std::string> patterns;
  bool list_patterns = false;
  uint64_t count = 0;
  double duration_s = 0;
  std::string format = "jsonl";  // jsonl | csv
  std::string out = "-";         // file, or - for standard output
  std::string from, to;          // historical mode: YYYY-MM-DD range, files per day into out_dir
  std::string out_dir;
  std::string start;  // simulated start time (RFC 3339 or YYYY-MM-DD)
  // --to kafka: produce into a Kafka topic (keyed by account id) instead of a file
  std::string brokers;  // default: kafka.brokers of the config
  std::string topic;    // default: kafka.topics.transactions of the config
};
int run_simulate(const SimulateOptions& options);
int run_simulate_kafka(const SimulateOptions& options);

struct ServeOptions {
  AppConfig config;
  bool embedded_kafka = false;  // start librdkafka's in-memory mock cluster in this process
  int embedded_partitions = 4;  // partitions of each input topic of the embedded cluster
  double duration_s = 0;        // stop after this many seconds; 0 = until SIGINT/SIGTERM
  double shutdown_timeout_s = 30;
};
int run_serve(const ServeOptions& options);

}  // namespace fw
