// FeatureEngine: per-shard account, merchant and terminal state, and the features computed from
// it for each transaction (features/schema.h, docs/features.md).
// One instance lives on each engine shard and is used by that shard's thread only: it is not
// thread-safe and takes no locks. It owns its tables; nothing is shared between shards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "features/flat_table.h"
#include "features/schema.h"
#include "features/state.h"
#include "model/transaction.h"

namespace fw {

struct FeatureConfig {
  size_t initial_accounts = 1 << 16;   // presized so this many accounts fit without a rehash
  size_t initial_merchants = 1 << 12;  // same for merchants and, separately, terminals
  // Number of shards (or processes x shards) the merchant traffic is split over; merchant and
  // terminal counts are multiplied by it to estimate the merchant's total (ADR 0002).
  int shard_count = 1;
};

// MCCs flagged by is_high_risk_mcc (docs/features.md lists why).
bool is_high_risk_mcc(uint16_t mcc);

class FeatureEngine {
 public:
  explicit FeatureEngine(const FeatureConfig& config);

  // Hints the CPU to load tx's account record. Call for the next few transactions of a batch
  // before process() to overlap their cache misses.
  void prefetch(const Transaction& tx) const;

  // Computes tx's features into out and folds tx into the state. REQUIRES: tx.account_key != 0
  // (Transaction::finalize_keys), tx.amount.currency valid.
  void process(const Transaction& tx, FeatureVector& out);

  // Counts a fraud label in the day bucket of its transaction for the merchant and terminal
  // (legit labels change nothing). REQUIRES: label.account_id is routed to this shard, so this
  // shard saw the transaction. Labels for days no longer held (older than 32 days) are ignored.
  void apply_label(const LabelEvent& label);

  size_t account_count() const { return accounts_.size(); }
  size_t merchant_count() const { return merchants_.size(); }
  size_t terminal_count() const { return terminals_.size(); }
  size_t memory_bytes() const;

  // --- Partition state. Each account record is tagged with the partition of its newest
  // transaction (Transaction::partition), so the accounts of one source partition can be moved
  // to another process (docs/adr/0011-partition-state-snapshots.md). Merchant and terminal state is
  // shard-local (ADR 0002) and does not move.

  // Appends the records of the accounts tagged with `partition` to out; with evict, removes
  // them from this engine. Returns how many.
  size_t export_partition(int32_t partition, bool evict, std::vector<AccountState>& out);
  // Removes the accounts tagged with `partition`; returns how many.
  size_t evict_partition(int32_t partition);
  // Makes `accounts` this engine's state of `partition`: evicts the accounts tagged with it,
  // then stores each record (replacing an account of the same key tagged otherwise).
  // REQUIRES: records as decode_partition_snapshot() validates them, tagged with `partition`.
  void import_partition(int32_t partition, std::span<const AccountState> accounts);
  // The same two through the snapshot format (features/partition_snapshot.h). A blob that does
  // not decode is an error and changes nothing.
  std::string snapshot_partition(int32_t partition, bool evict);
  Status restore_partition(std::string_view blob);

 private:
  void account_features(AccountState& a, bool inserted, const Transaction& tx, FeatureVector& out);
  void merchant_features(const Transaction& tx, FeatureVector& out);

  FeatureConfig config_;
  FlatTable<AccountState> accounts_;
  FlatTable<MerchantState> merchants_;
  FlatTable<MerchantState> terminals_;
};

}  // namespace fw
