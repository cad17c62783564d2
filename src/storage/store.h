// Store: the durable record of everything fraudwatch decided (transactions, decisions, alerts,
// labels, dead letters) plus the source checkpoints that say how far each input was consumed.
// Backend-neutral interface; implementations: SQLite (sqlite_store.h), PostgreSQL
// (postgres_store.h).
// The caller owns the Store (unique_ptr). write() is called from one writer thread owned by the
// caller; every read method is thread-safe and may run concurrently with write().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "model/decision.h"
#include "model/transaction.h"
#include "storage/model_registry.h"

namespace fw {

// How far one input source has been consumed, e.g. {"simulator:seed=42", 123456} or
// {"kafka:transactions/3", 987}. Committed atomically with the rows it covers.
struct SourceCheckpoint {
  std::string source;
  int64_t offset = 0;
};

// Everything one writer flush persists. Value type, owned by the writer thread.
struct WriteBatch {
  std::vector<Scored> scored;  // transaction + its decision
  std::vector<Alert> alerts;   // each refers to a transaction in this batch or already stored
  std::vector<LabelEvent> labels;
  std::vector<DeadLetter> dead_letters;
  std::vector<SourceCheckpoint> checkpoints;  // committed atomically with the rows above

  bool empty() const {
    return scored.empty() && alerts.empty() && labels.empty() && dead_letters.empty() &&
           checkpoints.empty();
  }
  void clear() {
    scored.clear();
    alerts.clear();
    labels.clear();
    dead_letters.clear();
    checkpoints.clear();
  }
};

// Row counts; a consistent snapshot (all numbers from one point in time).
struct StoreCounts {
  int64_t transactions = 0;
  int64_t decisions = 0;
  int64_t allow = 0;  // decisions by action
  int64_t review = 0;
  int64_t block = 0;
  int64_t alerts = 0;
  int64_t open_alerts = 0;  // alerts with status kOpen
  int64_t labels = 0;
  int64_t dead_letters = 0;
};

// An alert with the transaction it is about and the reasons of that transaction's decision.
struct AlertRow {
  Alert alert;
  Transaction tx;
  std::vector<Reason> reasons;
  // The model part of the alert's decision (model_score, shadow_score, anomaly_score,
  // model_version, contributions); its other fields are unset.
  Decision decision;
};

struct DecisionRow {
  Transaction tx;
  Decision decision;
};

// The engine state of one source partition (a Kafka partition of `topic`, consumed by
// `group`) and the offset it covers: the next offset to read after restoring `state`.
// `state` is an opaque binary blob (Engine::snapshot_partition, any bytes including NULs).
struct PartitionCheckpoint {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string state;
  Timestamp saved_at = 0;
};

// Largest partition state a store accepts: both SQLite's default blob limit and PostgreSQL's
// bytea limit are about 1 GB.
inline constexpr size_t kMaxPartitionStateBytes = size_t{900} << 20;

class Store {
 public:
  virtual ~Store() = default;

  // Writes everything in one database transaction: all or nothing. Idempotent: a transaction id
  // already stored is skipped along with its decision and alert (first write wins); labels are
  // unique by (transaction_id, source) and dead letters by (source, raw) (first write wins);
  // checkpoints are upserted. An alert whose transaction is neither in the batch nor stored,
  // a decision paired with another transaction, an empty transaction id or a label event with
  // Label::kUnknown fail the whole batch.
  // Returns ok only once the batch is durable against a process crash (SIGKILL).
  // An error leaves the store exactly as it was before the call. An error that retrying the
  // same batch can never fix (a value the database refuses, a broken reference, a failed
  // check) is marked with mark_permanent(); every other error (connection lost, server
  // shutting down, deadlock, disk full) may succeed on a retry.
  // REQUIRES: called from one thread at a time (the writer thread).
  virtual Status write(const WriteBatch& batch) = 0;

  // Reads; thread-safe, callable from any thread concurrently with write(). They see only
  // committed batches, never part of one.
  // The stored offset for `source`, or nullopt if it has none.
  virtual Result<std::optional<int64_t>> checkpoint(const std::string& source) = 0;
  virtual Result<StoreCounts> counts() = 0;
  // Newest first (by created_at, then by order of writing).
  virtual Result<std::vector<AlertRow>> recent_alerts(size_t limit) = 0;
  // Newest first (by decided_at, then by transaction id, descending).
  virtual Result<std::vector<DecisionRow>> recent_decisions(size_t limit) = 0;
  virtual Result<std::optional<DecisionRow>> find_transaction(const std::string& id) = 0;
  // Newest first (by order of writing).
  virtual Result<std::vector<DeadLetter>> recent_dead_letters(size_t limit) = 0;
  // The newest `limit` transactions of one account with their decisions, for the dashboard's
  // account view: newest first (by the transaction's ts, then by transaction id, descending).
  // PostgreSQL reads an index on the account and time; SQLite scans (see docs/storage.md).
  virtual Result<std::vector<DecisionRow>> account_transactions(const std::string& account_id,
                                                                size_t limit) = 0;

  // The schema version this store is at (after migrations).
  virtual int schema_version() = 0;

  // Partition checkpoints (docs/storage.md, "Partition checkpoints").
  // Upserts by (group, topic, partition); durable against a process crash on return, like
  // write(). An empty group or topic, a negative partition or offset, or a state over
  // kMaxPartitionStateBytes is a permanent error. REQUIRES: the writer thread.
  virtual Status save_partition_checkpoint(const PartitionCheckpoint& checkpoint) = 0;
  // The checkpoint stored for (group, topic, partition), or nullopt. Thread-safe.
  virtual Result<std::optional<PartitionCheckpoint>> load_partition_checkpoint(
      const std::string& group, const std::string& topic, int32_t partition) = 0;

  // Named allow/deny lists, read by rules as list("name") (docs/rules.md). Thread-safe,
  // callable from any thread, independent of write(). Names and values are checked with
  // storage/named_list.h (errors name the field). A list exists while it holds a value.
  // Adds the values (one already there is kept); returns how many were new.
  virtual Result<size_t> add_list_values(const std::string& name,
                                         const std::vector<std::string>& values) = 0;
  // Removes the values; returns how many were there.
  virtual Result<size_t> remove_list_values(const std::string& name,
                                            const std::vector<std::string>& values) = 0;
  // The values of a list, in byte order; an unknown list is an error naming it.
  virtual Result<std::vector<std::string>> list_values(const std::string& name) = 0;
  // Every list and its number of values, by name.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> lists() = 0;

  // The model registry (docs/models.md, "Registry"). Thread-safe, callable from any thread,
  // independent of write(). Entries are checked with storage/model_registry.h (errors name the
  // field). At most one champion and at most one shadow at any time (enforced by the schema).
  // Registers m.version as a candidate at m.registered_at (status_at likewise). Idempotent: a
  // version already registered keeps its status and registration time; its path and metrics
  // are updated to m's (the same model.json moved or re-described). Returns true when new.
  virtual Result<bool> register_model(const RegisteredModel& m) = 0;
  // Every registered version, oldest registration first (then by version).
  virtual Result<std::vector<RegisteredModel>> registered_models() = 0;
  // Gives `version` the status `to` at time `at`, in one transaction: a new champion retires the
  // old champion, a new shadow makes the old shadow a candidate again, and a champion made
  // shadow (or the reverse) leaves that role empty. Returns every status changed, the asked
  // version last; empty when it already had that status. An unknown version is an error
  // naming it (unknown_model_version).
  virtual Result<std::vector<ModelStatusChange>> set_model_status(const std::string& version,
                                                                  ModelStatus to, Timestamp at) = 0;
  // Training history (`fraudwatch train --from-store`, docs/models.md). Thread-safe reads.
  // Hands every stored transaction with ts < `before` (0: no bound) to `on_page`, in time order
  // (ts, then id), at most `page_size` (>= 1) at a time: pages are read one by one (keyset
  // pagination), so a history of millions of rows is never held in memory at once, and other
  // readers and the writer run between pages. Stops early when on_page returns false. A write
  // committed during the scan may or may not be seen (each page is its own snapshot).
  virtual Status scan_transactions(
      Timestamp before, size_t page_size,
      const std::function<bool(std::vector<Transaction>&)>& on_page) = 0;
  // Every stored label event, in labelled_at order (then transaction id, then source). Held in
  // memory, as a label file's are (LabelSchedule): labels are a small share of transactions.
  virtual Result<std::vector<LabelEvent>> label_events() = 0;
};

// Write errors a retry cannot fix carry this tag at the end of their reason, so a writer can
// isolate the offending rows (StoreWriter turns them into dead letters) instead of retrying a
// batch for ever.
inline constexpr std::string_view kPermanentErrorTag = " [permanent: the data is refused]";
inline bool is_permanent(const Error& e) {
  return e.reason.size() >= kPermanentErrorTag.size() &&
         e.reason.compare(e.reason.size() - kPermanentErrorTag.size(), kPermanentErrorTag.size(),
                          kPermanentErrorTag) == 0;
}
inline Error mark_permanent(Error e) {
  if (!is_permanent(e)) e.reason += kPermanentErrorTag;
  return e;
}

// The checks both stores make before saving a partition checkpoint (permanent errors).
inline Status check_partition_checkpoint(const PartitionCheckpoint& cp) {
  auto refuse = [](const char* field, std::string reason) {
    return Status(mark_permanent(
        make_error(std::string("partition_checkpoint.") + field, std::move(reason))));
  };
  if (cp.group.empty()) return refuse("group", "is empty");
  if (cp.topic.empty()) return refuse("topic", "is empty");
  if (cp.partition < 0) return refuse("partition", std::to_string(cp.partition) + " is negative");
  if (cp.offset < 0) return refuse("offset", std::to_string(cp.offset) + " is negative");
  if (cp.state.size() > kMaxPartitionStateBytes) {
    return refuse("state", std::to_string(cp.state.size()) + " bytes exceeds the limit of " +
                               std::to_string(kMaxPartitionStateBytes));
  }
  return Status::Ok();
}

}  // namespace fw
