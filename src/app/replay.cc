// `fraudwatch replay`: scores a history file as fast as possible, one output row per transaction.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "app/commands.h"
#include "app/history_replay.h"
#include "app/replay_writer.h"
#include "app/setup.h"

namespace fw {

int run_replay(const ReplayOptions& options) {
  const AppConfig& cfg = options.config;
  std::shared_ptr<const RuleSet> rules = load_rules(cfg);
  if (!rules) return 2;
  std::FILE* out = std::fopen(options.out.c_str(), "w");
  if (out == nullptr) {
    spdlog::error("cannot write '{}': {}", options.out, std::strerror(errno));
    return 1;
  }
  const std::string dead_path =
      options.dead_letters.empty() ? options.out + ".rejected.jsonl" : options.dead_letters;
  ReplayWriter writer(out);
  HistoryInput input{.input = options.input,
                     .mapping = options.mapping,
                     .labels = options.labels,
                     .dead_letters = dead_path,
                     .what = "replay"};
  HistoryReplayResult run;
  if (int rc = replay_history(input, cfg, rules, writer, run); rc != 0) {
    std::fclose(out);
    std::remove(options.out.c_str());
    return rc;
  }
  std::fclose(out);
  const double secs = run.seconds;
  const uint64_t rejected = run.rejected;
  const ReplayCounts c = writer.counts();
  fmt::print(stderr, "replayed {} transactions in {:.2f} s ({:.0f} tx/s) into {}\n", c.rows, secs,
             static_cast<double>(c.rows) / std::max(secs, 1e-9), options.out);
  fmt::print(stderr, "decisions: ALLOW {}  REVIEW {}  BLOCK {}\n", c.by_action[0], c.by_action[1],
             c.by_action[2]);
  if (c.tp + c.fn + c.fp + c.tn > 0) {
    double precision =
        c.tp + c.fp > 0 ? static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fp) : 0;
    double recall =
        c.tp + c.fn > 0 ? static_cast<double>(c.tp) / static_cast<double>(c.tp + c.fn) : 0;
    fmt::print(stderr,
               "against labels (flagged = REVIEW or BLOCK): precision {:.3f}, recall {:.3f} "
               "(TP {} FP {} FN {} TN {})\n",
               precision, recall, c.tp, c.fp, c.fn, c.tn);
  }
  if (rejected > 0) {
    fmt::print(stderr, "rejected {} records; each with its reason in {}\n", rejected, dead_path);
  }
  return 0;
}

}  // namespace fw
