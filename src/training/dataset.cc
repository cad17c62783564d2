#include "training/dataset.h"

#include <memory>
#include <optional>
#include <queue>
#include <unordered_map>

#include "features/feature_engine.h"
#include "model/mapping.h"
#include "sources/file_reader.h"
#include "sources/label_schedule.h"

namespace fw {

uint64_t Dataset::positives() const {
  uint64_t n = 0;
  for (float v : y) n += v > 0.5F ? 1 : 0;
  return n;
}

Result<Dataset> build_dataset(const DatasetOptions& options) {
  std::optional<ColumnMapping> mapping;
  std::unique_ptr<FileReader> reader;
  Dataset d;
  std::vector<LabelSchedule> schedules;
  if (options.source) {
    if (!options.source->labels.empty()) {
      schedules.push_back(LabelSchedule::from_events(options.source->labels));
      d.label_files = {options.source->name + " (labels table)"};
    }
  } else {
    if (!options.mapping.empty()) {
      auto m = ColumnMapping::from_yaml_file(options.mapping);
      if (!m.ok()) return m.error();
      mapping = std::move(*m);
    }
    auto opened = FileReader::open(options.input, mapping ? &*mapping : nullptr, nullptr);
    if (!opened.ok()) return opened.error();
    reader = std::move(opened).value();
    d.label_files = reader->label_files();
    if (!options.labels.empty()) d.label_files = {options.labels};
    for (const std::string& path : d.label_files) {
      auto s = LabelSchedule::load(path);
      if (!s.ok()) return s.error();
      d.labels_rejected += s->rejected().size();
      schedules.push_back(std::move(*s));
    }
  }

  // One FeatureEngine with shard_count 1: the code each shard runs, over all accounts.
  FeatureConfig fc;
  fc.initial_accounts = 1 << 16;
  FeatureEngine features(fc);
  const bool from_files = !schedules.empty();

  // Fraud labels waiting for their delay, earliest due first.
  struct Pending {
    Timestamp due;
    uint64_t seq;  // ties in arrival order
    LabelEvent label;
    bool operator>(const Pending& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending;
  uint64_t seq = 0;
  std::vector<LabelEvent> arrived;
  std::unordered_map<std::string, uint16_t> pattern_index{{"", 0}};
  std::vector<DeadLetter> dead;
  FeatureVector fv;
  Timestamp last_ts = INT64_MIN;
  uint64_t next_progress = options.progress_every;
  // Replays one batch in order; false once the window's end is reached.
  auto consume = [&](std::vector<Transaction>& batch) -> bool {
    for (Transaction& tx : batch) {
      if (options.window_to != 0 && tx.ts >= options.window_to) {
        return false;
      }
      if (tx.ts < last_ts) ++d.out_of_order;
      last_ts = std::max(last_ts, tx.ts);
      for (LabelSchedule& sched : schedules) {
        arrived.clear();
        sched.take_due(tx.ts, arrived);
        for (LabelEvent& ev : arrived) {
          if (ev.label != Label::kFraud) continue;
          const Timestamp due =
              std::max(ev.labelled_at, ev.transaction_ts + options.label_delay_us);
          pending.push({due, seq++, std::move(ev)});
        }
      }
      while (!pending.empty() && pending.top().due <= tx.ts) {
        features.apply_label(pending.top().label);
        ++d.labels_applied;
        pending.pop();
      }
      if (tx.account_key == 0) tx.finalize_keys();
      features.process(tx, fv);
      ++d.transactions_read;
      if (tx.label == Label::kUnknown) {
        for (const LabelSchedule& sched : schedules) {
          if (auto l = sched.final_label(tx.id)) tx.label = *l;
        }
      }
      if (!from_files && tx.label == Label::kFraud) {
        LabelEvent ev;
        ev.transaction_id = tx.id;
        ev.account_id = tx.account_id;
        ev.merchant_id = tx.merchant_id;
        ev.terminal_id = tx.terminal_id;
        ev.transaction_ts = tx.ts;
        ev.labelled_at = tx.ts + options.label_delay_us;
        ev.label = Label::kFraud;
        ev.source = "replay";
        pending.push({ev.labelled_at, seq++, std::move(ev)});
      }
      if (tx.ts < options.window_from) {
        ++d.warmup;
        continue;
      }
      if (tx.label == Label::kUnknown) {
        ++d.unlabelled;
        continue;
      }
      for (size_t f = 0; f < kFeatureCount; ++f) d.x.push_back(static_cast<float>(fv.values[f]));
      d.y.push_back(tx.label == Label::kFraud ? 1.0F : 0.0F);
      d.ts.push_back(tx.ts);
      d.account.push_back(tx.account_key);
      auto [it, inserted] = pattern_index.try_emplace(
          tx.fraud_pattern, static_cast<uint16_t>(d.pattern_names.size()));
      if (inserted) d.pattern_names.push_back(tx.fraud_pattern);
      d.pattern.push_back(it->second);
    }
    if (options.progress && d.transactions_read >= next_progress) {
      options.progress(d.transactions_read, d.rows());
      next_progress = d.transactions_read + options.progress_every;
    }
    return true;
  };
  if (options.source) {
    Status st = options.source->scan(options.window_to, consume);
    if (!st.ok()) return st.error();
    if (d.transactions_read == 0) {
      return make_error("--from-store", options.source->name + " holds no transactions" +
                                            (options.window_to != 0 ? " before --to" : ""));
    }
    if (schedules.empty() && d.rows() == 0 && d.unlabelled > 0) {
      return make_error("--from-store",
                        options.source->name + " holds " + std::to_string(d.transactions_read) +
                            " transactions but no labels (the labels table is empty and no "
                            "transaction carries a label): label transactions first, or train "
                            "from a labelled history file with --input");
    }
  } else {
    std::vector<Transaction> batch;
    for (;;) {
      batch.clear();
      dead.clear();
      const bool more = reader->next_batch(batch, dead, 4096);
      d.rejected += dead.size();
      if (!consume(batch) || !more) break;
    }
  }
  if (options.progress) options.progress(d.transactions_read, d.rows());
  return d;
}

}  // namespace fw
