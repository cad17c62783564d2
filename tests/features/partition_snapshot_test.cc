#include "features/partition_snapshot.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"
#include "features/feature_engine.h"
#include "features/flat_table.h"

namespace fw {
namespace {

const Timestamp kStart = *parse_rfc3339("2026-03-02T08:00:00Z");

// A transaction that touches every part of the account record (ring, windows, location,
// countries, device and counterparty sets) but no merchant or terminal: those are shard-local
// state that does not move with a partition (ADR 0002), so leaving them out lets two engines
// be compared feature for feature.
Transaction account_tx(int n, const std::string& account, int32_t partition) {
  Transaction tx;
  tx.id = "t" + std::to_string(n);
  tx.ts = kStart + n * 7 * kMicrosPerSecond;
  tx.account_id = account;
  tx.amount = Money{1000 + 37 * (n % 11), Currency::of("EUR")};
  tx.has_location = true;
  tx.lat = 48.0 + (n % 5) * 0.5;
  tx.lon = 2.0 + (n % 3);
  tx.country = *Country::parse(n % 4 == 0 ? "FR" : "DE");
  tx.device_id = "d" + std::to_string(n % 3);
  tx.counterparty = "c" + std::to_string(n % 5);
  tx.partition = partition;
  tx.finalize_keys();
  return tx;
}

// Small tables: the fuzz-style tests build thousands of engines.
constexpr FeatureConfig kSmall{.initial_accounts = 64, .initial_merchants = 16};

std::string account_of(int n) { return "acct-" + std::to_string(n % 40); }
int32_t partition_of(int n) { return (n % 40) % 4; }  // accounts 0..39 over partitions 0..3

void expect_same_features(const FeatureVector& a, const FeatureVector& b, const std::string& id) {
  for (size_t f = 0; f < kFeatureCount; ++f) {
    const auto fid = static_cast<FeatureId>(f);
    EXPECT_EQ(a[fid], b[fid]) << id << ": feature " << feature_name(fid);
  }
}

// A blob of `accounts` accounts of partition 2, from a real engine.
std::string small_blob(int accounts = 3) {
  FeatureEngine engine{kSmall};
  FeatureVector f;
  for (int n = 0; n < accounts * 3; ++n)
    engine.process(account_tx(n, "a" + std::to_string(n % accounts), 2), f);
  return engine.snapshot_partition(2, false);
}

TEST(FlatTable, EraseIfKeepsEveryOtherKeyFindable) {
  // A table near its load limit, so probe chains are long, erased in bulk several times; each
  // round also inserts new keys into the holes the last one left.
  FlatTable<AccountState> table(64);
  std::mt19937_64 rng(7);
  std::set<uint64_t> keys;
  auto insert_some = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const uint64_t k = rng() | 1;
      keys.insert(k);
      AccountState a;
      a.key = k;
      a.tx_count = static_cast<uint32_t>(k % 1000);
      table.insert_or_assign(a);
    }
  };
  insert_some(60);
  for (int round = 0; round < 6; ++round) {
    auto doomed = [round](uint64_t k) { return (k >> (8 * round)) % 3 == 0; };
    const size_t removed = table.erase_if([&](const AccountState& a) { return doomed(a.key); });
    const size_t expected_removed = std::erase_if(keys, doomed);
    EXPECT_EQ(removed, expected_removed);
    EXPECT_EQ(table.size(), keys.size());
    for (uint64_t k : keys) {
      const AccountState* a = table.find(k);
      ASSERT_NE(a, nullptr) << "lost key " << k << " in round " << round;
      EXPECT_EQ(a->tx_count, k % 1000);
    }
    size_t seen = 0;
    table.for_each([&](const AccountState& a) { seen += keys.count(a.key); });
    EXPECT_EQ(seen, keys.size());
    insert_some(15);
  }
}

TEST(PartitionSnapshot, RestoredPartitionScoresExactlyAsIfItNeverMoved) {
  FeatureEngine source{kSmall};
  FeatureEngine reference{kSmall};
  FeatureVector fs, fr;
  for (int n = 0; n < 400; ++n) {
    const Transaction tx = account_tx(n, account_of(n), partition_of(n));
    source.process(tx, fs);
    reference.process(tx, fr);
  }
  ASSERT_EQ(source.account_count(), 40u);

  const std::string blob = source.snapshot_partition(1, /*evict=*/true);
  EXPECT_EQ(source.account_count(), 30u) << "only partition 1's ten accounts leave";
  FeatureEngine target{FeatureConfig{.initial_accounts = 4, .initial_merchants = 16}};  // grows
  ASSERT_TRUE(target.restore_partition(blob).ok());
  EXPECT_EQ(target.account_count(), 10u);

  for (int n = 400; n < 800; ++n) {
    const Transaction tx = account_tx(n, account_of(n), partition_of(n));
    reference.process(tx, fr);
    FeatureEngine& owner = tx.partition == 1 ? target : source;
    owner.process(tx, fs);
    expect_same_features(fs, fr, tx.id);
  }
  EXPECT_EQ(source.account_count(), 30u);
  EXPECT_EQ(target.account_count(), 10u);
}

TEST(PartitionSnapshot, AnAccountIsTaggedWithThePartitionOfItsNewestTransaction) {
  FeatureEngine engine{kSmall};
  FeatureVector f;
  engine.process(account_tx(0, "moving", 5), f);
  engine.process(account_tx(1, "staying", 5), f);
  engine.process(account_tx(2, "moving", 6), f);  // re-keyed topic: now partition 6
  std::vector<AccountState> p5, p6;
  EXPECT_EQ(engine.export_partition(5, false, p5), 1u);
  EXPECT_EQ(engine.export_partition(6, false, p6), 1u);
  EXPECT_EQ(p6[0].tx_count, 2u);
  EXPECT_EQ(engine.evict_partition(7), 0u);
  EXPECT_EQ(engine.evict_partition(5), 1u);
  EXPECT_EQ(engine.account_count(), 1u);
}

TEST(PartitionSnapshot, RestoreReplacesThePartitionsStaleState) {
  FeatureEngine engine{kSmall};
  FeatureVector f;
  for (int n = 0; n < 5; ++n) engine.process(account_tx(n, "a" + std::to_string(n), 2), f);
  const std::string blob = small_blob(3);  // accounts a0..a2 of partition 2, other histories
  ASSERT_TRUE(engine.restore_partition(blob).ok());
  EXPECT_EQ(engine.account_count(), 3u) << "a3 and a4 were partition 2's and are not in the blob";
  std::vector<AccountState> got;
  engine.export_partition(2, false, got);
  for (const AccountState& a : got) EXPECT_EQ(a.tx_count, 3u);
}

TEST(PartitionSnapshot, EmptyPartitionRoundTrips) {
  FeatureEngine engine{kSmall};
  const std::string blob = engine.snapshot_partition(9, false);
  EXPECT_EQ(blob.size(), kPartitionSnapshotHeaderBytes + kPartitionSnapshotTrailerBytes);
  auto snap = decode_partition_snapshot(blob);
  ASSERT_TRUE(snap.ok()) << snap.error().message();
  EXPECT_EQ(snap->partition, 9);
  EXPECT_TRUE(snap->accounts.empty());
}

// Decoding must fail, name the field, and leave the engine as it was.
void expect_refused(std::string_view blob, const std::string& field_part, const char* what) {
  FeatureEngine engine{kSmall};
  FeatureVector f;
  engine.process(account_tx(0, "a0", 2), f);  // an account the failed restore must not evict
  Status st = engine.restore_partition(blob);
  ASSERT_FALSE(st.ok()) << what;
  EXPECT_NE(st.error().field.find(field_part), std::string::npos)
      << what << ": " << st.error().message();
  EXPECT_EQ(engine.account_count(), 1u) << what;
}

TEST(PartitionSnapshot, EveryTruncationIsAClearError) {
  const std::string blob = small_blob();
  for (size_t len = 0; len < blob.size(); ++len) {
    const std::string cut = blob.substr(0, len);  // own allocation: ASan sees any over-read
    expect_refused(cut, len < 40 ? "snapshot." : "snapshot.length", "truncated");
    if (::testing::Test::HasFailure()) FAIL() << "at length " << len;
  }
}

TEST(PartitionSnapshot, EverySingleByteCorruptionIsDetected) {
  const std::string blob = small_blob();
  std::mt19937 rng(42);
  for (size_t pos = 0; pos < blob.size(); ++pos) {
    std::string bad = blob;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (rng() % 8)));
    expect_refused(bad, "snapshot.", "bit flip");
    std::string random_byte = blob;
    random_byte[pos] = static_cast<char>(random_byte[pos] ^ (1 + rng() % 255));
    expect_refused(random_byte, "snapshot.", "random byte");
    if (::testing::Test::HasFailure()) FAIL() << "at position " << pos;
  }
}

TEST(PartitionSnapshot, HostileHeadersWithValidChecksumsAreRefused) {
  const std::string blob = small_blob();
  // Rewrites a header field and re-seals the blob, as a hostile writer would.
  auto forge = [&](size_t offset, const void* value, size_t n, size_t new_size = 0) {
    std::string b = blob;
    std::memcpy(b.data() + offset, value, n);
    if (new_size != 0) b.resize(new_size, '\0');
    const size_t body = b.size() - 8;
    const uint64_t sum = partition_snapshot_checksum(std::string_view(b).substr(0, body));
    std::memcpy(b.data() + body, &sum, 8);
    return b;
  };
  const uint32_t v2 = 2;
  expect_refused(forge(4, &v2, 4), "snapshot.format_version", "future version");
  const uint32_t small = 100;
  expect_refused(forge(12, &small, 4), "snapshot.record_size", "record size");
  const uint64_t huge = uint64_t{1} << 40;
  expect_refused(forge(16, &huge, 8), "snapshot.record_count", "huge count");
  const uint64_t four = 4;
  expect_refused(forge(16, &four, 8), "snapshot.record_bytes", "count/bytes disagree");
  const uint64_t wrap = (uint64_t{1} << 63) / 3;  // count * 384 overflows 64 bits
  expect_refused(forge(16, &wrap, 8), "snapshot.record_count", "overflowing count");
  expect_refused(forge(0, "FWPS", 4, blob.size() + 16), "snapshot.length", "trailing bytes");
  expect_refused(std::string(1 << 16, '\0'), "snapshot.magic", "zeros");
  expect_refused(forge(0, "PSWF", 4), "snapshot.magic", "wrong magic");
}

TEST(PartitionSnapshot, RecordsNoEngineCouldHaveWrittenAreRefused) {
  auto snap = decode_partition_snapshot(small_blob());
  ASSERT_TRUE(snap.ok());
  auto with = [&](auto change) {
    std::vector<AccountState> records = snap->accounts;
    change(records);
    return encode_partition_snapshot(2, records);
  };
  expect_refused(with([](auto& r) { r[1].ring_head = 200; }), "accounts[1].ring", "ring head");
  expect_refused(with([](auto& r) { r[2].ring_size = 9; }), "accounts[2].ring", "ring size");
  expect_refused(with([](auto& r) { r[0].key = 0; }), "accounts[0].key", "key 0");
  expect_refused(with([](auto& r) { r[2].key = r[0].key; }), "accounts[2].key", "duplicate");
  expect_refused(with([](auto& r) { r[1].partition = 3; }), "accounts[1].partition", "tag");
}

}  // namespace
}  // namespace fw
