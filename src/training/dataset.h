// Training data by replay: reads a transaction history through FileReader and runs every
// transaction, in file (time) order, through a FeatureEngine, the same code the engine's shards
// run live. Each labelled transaction in the window becomes one row: its features at the moment
// it happened. Fraud labels reach the FeatureEngine (merchant and terminal fraud rates) no
// earlier than label_delay after the transaction, as chargebacks do, so no feature sees the
// future. Labels come from label files (an explicit one, or a history folder's labels.jsonl:
// each fed at max(labelled_at, ts + label_delay)) or, without label files, from the
// transactions' own `label` (fed at ts + label_delay). A row's truth is the transaction's
// `label`, else the label file's final label for it.
// build_dataset() is a blocking call on the calling thread; Dataset is a plain value.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "features/schema.h"
#include "model/transaction.h"

namespace fw {

// A history read from somewhere other than files (`train --from-store`: the store's
// transactions and labels tables), replayed by the same loop as a file. Immutable once built;
// the caller keeps whatever `scan` reads from alive for the build_dataset() call.
struct HistorySource {
  std::string name;  // for messages and metadata.json, e.g. "store: SQLite data/fraudwatch.db"
  // Hands the transactions with ts < before (0: all) to on_page in time order, page by page,
  // until on_page returns false or the history ends (Store::scan_transactions).
  std::function<Status(Timestamp before,
                       const std::function<bool(std::vector<Transaction>&)>& on_page)>
      scan;
  // Late labels of that history in labelled_at order (Store::label_events), applied like a
  // label file's; empty: each transaction's own `label` is its truth, fed after the delay.
  std::vector<LabelEvent> labels;
};

struct DatasetOptions {
  std::string input;    // a history file or folder (FileReader)
  std::string mapping;  // optional column-mapping YAML
  std::string labels;   // optional label file (JSON lines); default: the folder's labels.jsonl
  // Set: the history comes from here instead of `input` / `mapping` / `labels`.
  std::shared_ptr<const HistorySource> source;
  // Rows come from transactions with window_from <= ts < window_to; earlier ones only warm the
  // state, later ones are not read. 0 = no bound.
  Timestamp window_from = 0;
  Timestamp window_to = 0;
  int64_t label_delay_us = 7 * kMicrosPerDay;
  // Called about every `progress_every` transactions and once at the end; may be empty.
  std::function<void(uint64_t read, uint64_t rows)> progress;
  uint64_t progress_every = 1 << 18;
};

// Rows in time order. x is row-major, kFeatureCount floats per row (schema order), as XGBoost
// reads it; y is 1 for fraud, 0 for legitimate.
struct Dataset {
  std::vector<float> x;
  std::vector<float> y;
  std::vector<Timestamp> ts;
  std::vector<uint64_t> account;  // account key, for alerts per account and day
  std::vector<uint16_t> pattern;  // index into pattern_names; 0 = "" (none / not simulated)
  std::vector<std::string> pattern_names{""};
  // Empty, or one Isolation Forest score per row: the model's extra kAnomalyColumn column
  // (`train --anomaly-feature`; filled by the pipeline, not by build_dataset).
  std::vector<float> anomaly;

  uint64_t transactions_read = 0;  // valid transactions replayed, warm-up included
  uint64_t rejected = 0;           // records FileReader refused (dead letters)
  uint64_t warmup = 0;             // before window_from
  uint64_t unlabelled = 0;         // in the window without a label: replayed, not a row
  uint64_t out_of_order = 0;       // transactions earlier than the one before them
  uint64_t labels_applied = 0;     // fraud labels fed to the FeatureEngine
  uint64_t labels_rejected = 0;    // bad lines in label files
  std::vector<std::string> label_files;

  size_t rows() const { return y.size(); }
  const float* row(size_t i) const { return x.data() + i * kFeatureCount; }
  uint64_t positives() const;
  // First and last row time; 0 when empty.
  Timestamp first_ts() const { return ts.empty() ? 0 : ts.front(); }
  Timestamp last_ts() const { return ts.empty() ? 0 : ts.back(); }
};

// Errors: the input or mapping cannot be opened (named by path); a HistorySource that fails to
// read, holds no transactions in the window, or holds transactions but no labels (field
// "--from-store").
Result<Dataset> build_dataset(const DatasetOptions& options);

}  // namespace fw
