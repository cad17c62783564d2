// replay_history(): reads a transaction history (a CSV / JSON-lines file or a folder of them,
// with an optional column mapping and late labels) and scores it through a fresh Engine with
// the given rule set into `sink`. The one replay path, shared by `fraudwatch replay` (CSV out)
// and `fraudwatch backtest` (two passes, candidate vs current rules). Runs on the calling
// thread; the sink is called from shard threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "app/config.h"
#include "engine/engine.h"
#include "rules/rule_set.h"

namespace fw {

struct HistoryInput {
  std::string input;            // file or folder
  std::string mapping;          // optional column-mapping YAML
  std::string labels;           // optional late labels; default: labels.jsonl files of a folder
  std::string dead_letters;     // where rejected records go; empty: counted only
  std::string what = "replay";  // progress-line prefix
  bool quiet = false;           // no progress line, labels line or rejection warnings
};

struct HistoryReplayResult {
  uint64_t submitted = 0;  // transactions handed to the engine
  uint64_t rejected = 0;   // dead letters
  double seconds = 0;
  bool interrupted = false;
};

// Called before each batch is submitted: (batch sequence number, index of its first
// transaction in the whole history, batch size). Lets a sink map (seq, position) to the
// transaction's index in the input.
using SubmitObserver = std::function<void(uint64_t seq, uint64_t first_index, size_t count)>;

// Returns 0, or the exit code of a failure already logged (2: bad input or mapping).
int replay_history(const HistoryInput& input, const AppConfig& cfg,
                   std::shared_ptr<const RuleSet> rules, DecisionSink& sink,
                   HistoryReplayResult& result, const SubmitObserver& on_submit = {});

}  // namespace fw
