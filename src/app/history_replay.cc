// Feeds a transaction history through an engine: shared by `replay` and `backtest`.
#include "app/history_replay.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "app/model_serving.h"
#include "app/shutdown.h"
#include "core/pan.h"
#include "model/mapping.h"
#include "sources/file_reader.h"
#include "sources/label_schedule.h"

namespace fw {
namespace {

// A PAN key only when the operator configured one: a replay must not create key files.
std::optional<PanTokenizer> tokenizer_from_env() {
  if (std::getenv("FRAUDWATCH_PAN_KEY") == nullptr &&
      std::getenv("FRAUDWATCH_PAN_KEY_FILE") == nullptr) {
    return std::nullopt;
  }
  auto t = PanTokenizer::from_environment("");
  if (!t.ok()) {
    spdlog::warn("PAN key: {}; card numbers in the input will be rejected", t.error().message());
    return std::nullopt;
  }
  return std::move(*t);
}

}  // namespace

int replay_history(const HistoryInput& input, const AppConfig& cfg,
                   std::shared_ptr<const RuleSet> rules, DecisionSink& sink,
                   HistoryReplayResult& result, const SubmitObserver& on_submit) {
  std::optional<ColumnMapping> mapping;
  if (!input.mapping.empty()) {
    auto m = ColumnMapping::from_yaml_file(input.mapping);
    if (!m.ok()) {
      spdlog::error("{}", m.error().message());
      return 2;
    }
    mapping = std::move(*m);
  }
  std::optional<PanTokenizer> tokenizer = tokenizer_from_env();
  auto reader = FileReader::open(input.input, mapping ? &*mapping : nullptr,
                                 tokenizer ? &*tokenizer : nullptr);
  if (!reader.ok()) {
    spdlog::error("{}", reader.error().message());
    return 2;
  }
  // Late labels: --labels, else the labels.jsonl files of an input folder. They reach the
  // engine (merchant and terminal fraud rates) only once replayed time passes labelled_at.
  std::vector<std::string> label_paths = (*reader)->label_files();
  if (!input.labels.empty()) label_paths = {input.labels};
  std::vector<LabelSchedule> schedules;
  for (const std::string& path : label_paths) {
    auto s = LabelSchedule::load(path);
    if (!s.ok()) {
      spdlog::error("{}", s.error().message());
      return 2;
    }
    if (!input.quiet) spdlog::info("labels: {} from {}", s->size(), path);
    schedules.push_back(std::move(*s));
  }
  std::FILE* dead_out = nullptr;
  auto models = load_model_bundle(cfg.model_path, cfg.shadow_model_path, cfg);
  if (!models.ok()) {
    spdlog::error("{}", models.error().message());
    return 2;
  }

  EngineConfig engine_config;
  engine_config.shards = cfg.effective_shards();
  engine_config.queue_batches = cfg.queue_batches;
  Engine engine(engine_config, std::move(rules), sink);
  engine.set_models(*models);
  engine.start();
  install_shutdown_handlers();

  const bool tty = isatty(STDERR_FILENO) != 0 && !input.quiet;
  const auto started = std::chrono::steady_clock::now();
  auto next_progress = started + std::chrono::milliseconds(500);
  uint64_t& rejected = result.rejected;
  uint64_t submitted = 0;
  std::vector<DeadLetter> dead;
  std::string line;
  auto write_dead = [&](const DeadLetter& d) {
    if (dead_out == nullptr && !input.dead_letters.empty()) {
      dead_out = std::fopen(input.dead_letters.c_str(), "w");
    }
    if (rejected < 5 && !input.quiet)
      spdlog::warn("rejected {}: {}: {}", d.source, d.field, d.reason);
    ++rejected;
    if (dead_out != nullptr) {
      nlohmann::json j = {
          {"source", d.source}, {"field", d.field}, {"reason", d.reason}, {"raw", d.raw}};
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), dead_out);
    }
  };
  for (const LabelSchedule& s : schedules) {
    for (const DeadLetter& d : s.rejected()) write_dead(d);
  }
  for (;;) {
    if (shutdown_requested()) {
      spdlog::warn("interrupted: the output holds the transactions read so far");
      result.interrupted = true;
      break;
    }
    SourceBatch batch;
    dead.clear();
    bool more = (*reader)->next_batch(batch.txs, dead, cfg.batch_size);
    for (const DeadLetter& d : dead) write_dead(d);
    if (!batch.txs.empty() && !schedules.empty()) {
      // Labels due before the batch's earliest transaction go in with it (the engine applies a
      // batch's labels before its transactions); the output's label column falls back to the
      // label file for transactions that carry none.
      Timestamp earliest = batch.txs.front().ts;
      for (const Transaction& tx : batch.txs) earliest = std::min(earliest, tx.ts);
      for (LabelSchedule& s : schedules) {
        s.take_due(earliest, batch.labels);
        for (Transaction& tx : batch.txs) {
          if (tx.label != Label::kUnknown) continue;
          if (auto l = s.final_label(tx.id)) tx.label = *l;
        }
      }
    }
    if (!batch.txs.empty()) {
      const size_t n = batch.txs.size();
      if (on_submit) on_submit(engine.next_seq(), submitted, n);
      engine.submit(std::move(batch));
      submitted += n;
    }
    if (!more) break;
    auto now = std::chrono::steady_clock::now();
    if (tty && now >= next_progress) {
      double total = static_cast<double>((*reader)->total_bytes());
      double pct = total > 0 ? 100.0 * static_cast<double>((*reader)->bytes_read()) / total : 0;
      fmt::print(stderr, "\r{}: {:5.1f}%  {} records read, {} rejected\x1b[K", input.what, pct,
                 (*reader)->records_read(), rejected);
      next_progress = now + std::chrono::milliseconds(500);
    }
  }
  engine.stop();
  if (dead_out != nullptr) std::fclose(dead_out);
  if (tty) fmt::print(stderr, "\n");
  result.submitted = submitted;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return 0;
}

}  // namespace fw
