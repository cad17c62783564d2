#include "features/partition_snapshot.h"

#include <bit>
#include <cstddef>
#include <cstring>
#include <unordered_set>

#include "core/hash.h"

namespace fw {
namespace {

static_assert(std::endian::native == std::endian::little,
              "partition snapshots store AccountState images; a big-endian build needs a "
              "field-by-field codec");
// The record image is part of the format: if one of these fails, AccountState changed, so bump
// kPartitionSnapshotVersion (old blobs are then refused by version, never misread) and update
// the offsets here.
static_assert(sizeof(AccountState) == 384);
static_assert(offsetof(AccountState, last_ts) == 8);
static_assert(offsetof(AccountState, amount_var) == 60);
static_assert(offsetof(AccountState, tx_count) == 64);
static_assert(offsetof(AccountState, ring_head) == 72);
static_assert(offsetof(AccountState, ring_ms) == 76);
static_assert(offsetof(AccountState, ring_centi) == 108);
static_assert(offsetof(AccountState, partition) == 140);
static_assert(offsetof(AccountState, win_sum) == 144);
static_assert(offsetof(AccountState, win_count) == 208);
static_assert(offsetof(AccountState, merchants) == 240);
static_assert(offsetof(AccountState, counterparties) == 336);

void put_u32(std::string& out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}
void put_u64(std::string& out, uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}
uint32_t get_u32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t get_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

Error snapshot_error(std::string field, std::string reason) {
  return make_error("snapshot." + field, std::move(reason));
}

}  // namespace

uint64_t partition_snapshot_checksum(std::string_view bytes) {
  // Each step h -> (h ^ w) * odd is a bijection of both h and w, so a changed word always
  // yields a different final value; the rotation spreads high bits into the low ones.
  uint64_t h = 0x6a09e667f3bcc909ULL ^ bytes.size();
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    h = std::rotl((h ^ get_u64(bytes.data() + i)) * 0x9e3779b97f4a7c15ULL, 29);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
  h = std::rotl((h ^ tail) * 0x9e3779b97f4a7c15ULL, 29);
  return mix64(h);
}

std::string encode_partition_snapshot(int32_t partition,
                                      std::span<const std::vector<AccountState>> pieces) {
  uint64_t count = 0;
  for (const auto& piece : pieces) count += piece.size();
  const uint64_t record_bytes = count * sizeof(AccountState);
  std::string out;
  out.reserve(kPartitionSnapshotHeaderBytes + record_bytes + kPartitionSnapshotTrailerBytes);
  out.append(kPartitionSnapshotMagic, 4);
  put_u32(out, kPartitionSnapshotVersion);
  put_u32(out, static_cast<uint32_t>(partition));
  put_u32(out, sizeof(AccountState));
  put_u64(out, count);
  put_u64(out, record_bytes);
  for (const auto& piece : pieces) {
    out.append(reinterpret_cast<const char*>(piece.data()), piece.size() * sizeof(AccountState));
  }
  put_u64(out, partition_snapshot_checksum(out));
  return out;
}

std::string encode_partition_snapshot(int32_t partition, std::span<const AccountState> accounts) {
  const std::vector<AccountState> one(accounts.begin(), accounts.end());
  return encode_partition_snapshot(partition, std::span(&one, 1));
}

Result<PartitionSnapshot> decode_partition_snapshot(std::string_view blob) {
  constexpr size_t kFixed = kPartitionSnapshotHeaderBytes + kPartitionSnapshotTrailerBytes;
  if (blob.size() < kFixed) {
    return snapshot_error("header", "truncated: " + std::to_string(blob.size()) +
                                        " bytes, a snapshot has at least " +
                                        std::to_string(kFixed));
  }
  const char* p = blob.data();
  if (std::memcmp(p, kPartitionSnapshotMagic, 4) != 0) {
    return snapshot_error("magic", "not a partition snapshot (expected \"FWPS\")");
  }
  const uint32_t version = get_u32(p + 4);
  if (version != kPartitionSnapshotVersion) {
    return snapshot_error("format_version", "unsupported version " + std::to_string(version) +
                                                " (this build reads version " +
                                                std::to_string(kPartitionSnapshotVersion) + ")");
  }
  const auto partition = static_cast<int32_t>(get_u32(p + 8));
  const uint32_t record_size = get_u32(p + 12);
  if (record_size != sizeof(AccountState)) {
    return snapshot_error("record_size", std::to_string(record_size) + " bytes, version " +
                                             std::to_string(version) + " records are " +
                                             std::to_string(sizeof(AccountState)));
  }
  const uint64_t count = get_u64(p + 16);
  const uint64_t record_bytes = get_u64(p + 24);
  if (count > kPartitionSnapshotMaxRecords) {
    return snapshot_error("record_count", std::to_string(count) +
                                              " accounts exceeds the limit of " +
                                              std::to_string(kPartitionSnapshotMaxRecords));
  }
  if (record_bytes != count * sizeof(AccountState)) {
    return snapshot_error("record_bytes", std::to_string(record_bytes) + " does not match " +
                                              std::to_string(count) + " records of " +
                                              std::to_string(sizeof(AccountState)) + " bytes");
  }
  if (blob.size() - kFixed != record_bytes) {
    return snapshot_error(
        "length", std::string(blob.size() - kFixed < record_bytes ? "truncated" : "oversized") +
                      ": " + std::to_string(blob.size()) + " bytes, the header describes " +
                      std::to_string(record_bytes + kFixed));
  }
  const size_t body = blob.size() - kPartitionSnapshotTrailerBytes;
  if (partition_snapshot_checksum(blob.substr(0, body)) != get_u64(p + body)) {
    return snapshot_error("checksum", "mismatch: the snapshot is corrupt");
  }

  PartitionSnapshot snap;
  snap.partition = partition;
  snap.accounts.resize(count);
  if (count > 0) {
    std::memcpy(static_cast<void*>(snap.accounts.data()), p + kPartitionSnapshotHeaderBytes,
                record_bytes);
  }
  std::unordered_set<uint64_t> keys;
  keys.reserve(count);
  for (size_t i = 0; i < snap.accounts.size(); ++i) {
    const AccountState& a = snap.accounts[i];
    auto field = [i](const char* name) { return "accounts[" + std::to_string(i) + "]." + name; };
    if (a.key == 0) return snapshot_error(field("key"), "is 0 (an empty slot)");
    if (!keys.insert(a.key).second) return snapshot_error(field("key"), "appears twice");
    if (a.partition != partition) {
      return snapshot_error(field("partition"), "is " + std::to_string(a.partition) +
                                                    ", the snapshot is of " +
                                                    std::to_string(partition));
    }
    if (a.ring_head >= kRingSize || a.ring_size > kRingSize) {
      return snapshot_error(field("ring"), "head " + std::to_string(a.ring_head) + " / size " +
                                               std::to_string(a.ring_size) + " out of range");
    }
  }
  return snap;
}

}  // namespace fw
