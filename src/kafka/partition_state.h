// The seam between the Kafka source and per-partition state (branch partition-state): snapshot,
// restore and the store's partition checkpoints. Kept in one place so the source reads the same
// whether or not that work is merged.
//
// TEMPORARY: until partition-state is merged, FW_HAVE_PARTITION_STATE is 0 and these do nothing
// (no snapshot, no checkpoint): a partition that moves starts with empty account state there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "engine/engine.h"
#include "storage/store.h"

#ifndef FW_HAVE_PARTITION_STATE
#define FW_HAVE_PARTITION_STATE 0
#endif

namespace fw::kafka_state {

struct Checkpoint {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;  // the next offset to read: the state covers everything before it
  std::string state;
  Timestamp saved_at = 0;
};

inline constexpr bool kAvailable = FW_HAVE_PARTITION_STATE != 0;

inline void tag(Transaction& tx, int32_t partition) {
#if FW_HAVE_PARTITION_STATE
  tx.partition = partition;
#else
  (void)tx;
  (void)partition;
#endif
}

inline std::string snapshot(Engine& engine, int32_t partition, bool evict) {
#if FW_HAVE_PARTITION_STATE
  return engine.snapshot_partition(partition, evict);
#else
  (void)engine;
  (void)partition;
  (void)evict;
  return {};
#endif
}

inline Status restore(Engine& engine, std::string_view blob) {
#if FW_HAVE_PARTITION_STATE
  return engine.restore_partition(blob);
#else
  (void)engine;
  (void)blob;
  return Status::Ok();
#endif
}

inline Status save(Store& store, const Checkpoint& c) {
#if FW_HAVE_PARTITION_STATE
  PartitionCheckpoint p;
  p.group = c.group;
  p.topic = c.topic;
  p.partition = c.partition;
  p.offset = c.offset;
  p.state = c.state;
  p.saved_at = c.saved_at;
  return store.save_partition_checkpoint(p);
#else
  (void)store;
  (void)c;
  return Status::Ok();
#endif
}

inline Result<std::optional<Checkpoint>> load(Store& store, const std::string& group,
                                              const std::string& topic, int32_t partition) {
#if FW_HAVE_PARTITION_STATE
  auto r = store.load_partition_checkpoint(group, topic, partition);
  if (!r.ok()) return r.error();
  if (!r->has_value()) return std::optional<Checkpoint>();
  const PartitionCheckpoint& p = **r;
  return std::optional<Checkpoint>(
      Checkpoint{p.group, p.topic, p.partition, p.offset, p.state, p.saved_at});
#else
  (void)store;
  (void)group;
  (void)topic;
  (void)partition;
  return std::optional<Checkpoint>();
#endif
}

}  // namespace fw::kafka_state
