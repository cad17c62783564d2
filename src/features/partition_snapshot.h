// The binary format of a partition snapshot: the account state records of the accounts whose
// newest transaction came from one source partition (a Kafka partition), so a partition's state
// can move to another process (docs/adr/0011-partition-state-snapshots.md has the layout and why).
// Pure functions over values; thread-safe.
//
// Layout, all integers little-endian:
//   magic "FWPS" | u32 format version | i32 partition | u32 record size | u64 record count |
//   u64 record bytes (= count * size) | records | u64 checksum of everything before it
// Records are AccountState images (features/state.h); a layout change bumps the version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "features/state.h"

namespace fw {

inline constexpr char kPartitionSnapshotMagic[4] = {'F', 'W', 'P', 'S'};
inline constexpr uint32_t kPartitionSnapshotVersion = 1;
inline constexpr size_t kPartitionSnapshotHeaderBytes = 32;
inline constexpr size_t kPartitionSnapshotTrailerBytes = 8;
// Refuses blobs claiming more accounts than this (6 GiB of records): a partition that large
// is a sizing mistake, and a corrupt count must not drive an allocation.
inline constexpr uint64_t kPartitionSnapshotMaxRecords = uint64_t{16} << 20;

struct PartitionSnapshot {
  int32_t partition = -1;
  std::vector<AccountState> accounts;
};

// Encodes accounts (all tagged with `partition`) into one blob.
std::string encode_partition_snapshot(int32_t partition, std::span<const AccountState> accounts);
// The same from pieces (one per shard), written one after the other, without joining them first.
std::string encode_partition_snapshot(int32_t partition,
                                      std::span<const std::vector<AccountState>> pieces);

// Decodes and validates a blob. A truncated, oversized, corrupt (checksum) or wrong-version
// blob, or a record that could not have come from a FeatureEngine (key 0, a ring index out of
// range, a partition tag other than the blob's, a key twice) is an error naming the field at
// fault and why. Never reads outside `blob`.
Result<PartitionSnapshot> decode_partition_snapshot(std::string_view blob);

// The checksum the format uses: 64-bit, word at a time, so any change to a single 8-byte word
// (every single-bit flip, every one-byte change) always changes it.
uint64_t partition_snapshot_checksum(std::string_view bytes);

}  // namespace fw
