// The seam between the Kafka source and per-partition state: Engine::snapshot_partition /
// restore_partition and the store's partition checkpoints
// (docs/adr/0011-partition-state-snapshots.md), in the Kafka source's terms. Stateless free
// functions; thread rules are those of the calls they wrap (engine: the submitting thread; save:
// the store's writer thread; load: any thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "engine/engine.h"
#include "storage/store.h"

namespace fw::kafka_state {

using Checkpoint = PartitionCheckpoint;

// True: partition state follows a partition to its next owner.
inline constexpr bool kAvailable = true;

// Tags a transaction with its source partition (the engine files the account's state under it).
inline void tag(Transaction& tx, int32_t partition) { tx.partition = partition; }

inline std::string snapshot(Engine& engine, int32_t partition, bool evict) {
  return engine.snapshot_partition(partition, evict);
}

inline Status restore(Engine& engine, std::string_view blob) {
  return engine.restore_partition(blob);
}

inline Status save(Store& store, const Checkpoint& c) { return store.save_partition_checkpoint(c); }

inline Result<std::optional<Checkpoint>> load(Store& store, const std::string& group,
                                              const std::string& topic, int32_t partition) {
  return store.load_partition_checkpoint(group, topic, partition);
}

}  // namespace fw::kafka_state
