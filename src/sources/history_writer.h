// Historical mode of the simulator: writes months or years of simulated transactions to one
// file per UTC day (JSON lines or CSV) plus the delayed labels, for training and backtests.
// write_history() is a blocking call that uses one helper thread internally (generation runs
// beside formatting and writing; the output is the same as single-threaded). Thread-safe: each
// call is independent.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/result.h"
#include "core/time.h"
#include "sources/simulator.h"

namespace fw {

struct HistoryProgress {
  uint64_t transactions = 0;  // written so far
  Timestamp sim_time = 0;     // simulated time reached
  Timestamp from = 0, to = 0;
};

struct HistoryOptions {
  std::string out_dir;  // created if missing; existing day files are overwritten
  bool csv = false;     // false: YYYY-MM-DD.jsonl, true: YYYY-MM-DD.csv with a header line
  Timestamp from = 0;   // simulated range [from, to), UTC; from replaces config.start
  Timestamp to = 0;
  // Called on the calling thread about every 0.5 s and once at the end; may be empty.
  std::function<void(const HistoryProgress&)> progress;
};

struct HistoryStats {
  uint64_t transactions = 0;
  uint64_t frauds = 0;
  std::map<std::string, uint64_t> frauds_by_pattern;
  uint64_t labels = 0;  // lines of labels.jsonl
  uint64_t files = 0;   // day files written
  uint64_t bytes = 0;   // bytes written, day files and labels
};

// Writes out_dir/YYYY-MM-DD.jsonl (or .csv) for each UTC day with transactions in [from, to),
// and out_dir/labels.jsonl: the labels of those transactions in labelled_at order, including
// the ones that arrive after `to` (so training data built from the files has all its labels).
// Errors: invalid config, to <= from, or an output file that cannot be created or written.
Result<HistoryStats> write_history(const SimulatorConfig& config, const HistoryOptions& options);

}  // namespace fw
