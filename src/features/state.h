// Per-account and per-merchant state records stored inline in the FeatureEngine's FlatTables.
// Fixed size, trivially copyable, no pointers, so a table rehash (and later a checkpoint) is a
// memcpy. Owned by one FeatureEngine; used by its shard thread only. Field-by-field meaning and
// the approximations are documented in docs/features.md ("State layout").
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/time.h"

namespace fw {

// One remembered value of a small "distinct values" set: a 32-bit tag of the value (non-zero)
// and when it was last seen, in whole seconds since the epoch (good until 2106).
struct SeenSlot {
  uint32_t tag = 0;  // 0 = empty
  uint32_t seen_s = 0;
};

inline constexpr int kRingSize = 8;           // exact 1-minute window: last 8 events
inline constexpr int kWindowCount = 4;        // 1h, 24h, 7d, 30d two-bucket estimates
inline constexpr int kMerchantSlots = 6;      // distinct merchants remembered per account
inline constexpr int kDeviceSlots = 3;        // distinct devices remembered per account
inline constexpr int kCountrySlots = 3;       // distinct countries remembered per account
inline constexpr int kCounterpartySlots = 6;  // distinct counterparties remembered per account

// 384 bytes = 6 cache lines; hot fields (key, times, statistics, location) in the first line.
struct alignas(64) AccountState {
  // -- line 0
  uint64_t key = 0;                // tx.account_key; 0 = empty slot
  Timestamp last_ts = 0;           // newest event time folded in
  Timestamp first_ts = 0;          // first event time: account age
  Timestamp last_country_ts = 0;   // time of the newest event with a known country
  Timestamp other_country_ts = 0;  // newest event in a country other than last_country
  Timestamp located_ts = 0;        // time of the newest located event
  float lat = 0;                   // location of that event, degrees
  float lon = 0;
  float amount_mean = 0;  // running (first 100) then exponentially weighted mean, major units
  float amount_var = 0;   // matching variance (Welford update), major units^2
  // -- line 1
  uint32_t tx_count = 0;      // lifetime transactions, saturating at 2^32-1
  uint16_t home_country = 0;  // first known country seen (Country::packed)
  uint16_t last_country = 0;  // country of the newest event with a known country
  uint8_t ring_head = 0;      // next ring index to write
  uint8_t ring_size = 0;      // valid ring entries (<= kRingSize)
  uint8_t flags = 0;          // kHasLocation | kHasOtherCountry
  uint8_t reserved = 0;
  uint32_t ring_ms[kRingSize] = {};     // low 32 bits of the event time in milliseconds
  uint32_t ring_centi[kRingSize] = {};  // amount in centi-units (saturating at 2^32-1)
  // Source partition of the newest transaction folded in (Transaction::partition; -1 = none).
  // Lives in what was alignment padding before win_sum, so the record does not grow.
  int32_t partition = -1;
  // -- windows: [window][0 = current aligned bucket, 1 = previous bucket]
  int64_t win_sum[kWindowCount][2] = {};  // centi-units
  uint32_t win_count[kWindowCount][2] = {};
  // -- distinct sets, LRU replacement when full
  SeenSlot merchants[kMerchantSlots];
  SeenSlot devices[kDeviceSlots];
  SeenSlot countries[kCountrySlots];
  SeenSlot counterparties[kCounterpartySlots];

  static constexpr uint8_t kHasLocation = 1;
  static constexpr uint8_t kHasOtherCountry = 2;
};
static_assert(sizeof(AccountState) == 384, "AccountState is meant to be exactly 6 cache lines");
static_assert(std::is_trivially_copyable_v<AccountState>);

inline constexpr int kDayBuckets = 32;  // covers the 30-day window plus slack

// One calendar day (UTC) of a merchant's or terminal's traffic on this shard.
struct DayBucket {
  uint32_t day = 0;    // days since the epoch + 1 (0 = empty)
  uint32_t tx = 0;     // transactions this shard saw that day
  uint32_t fraud = 0;  // fraud labels arrived so far for that day's transactions
};

// Per-merchant or per-terminal counts over calendar-day buckets, a ring indexed by
// day % kDayBuckets; a bucket whose `day` differs from the day asked for is stale. The sums of
// the previous 6 and 29 days are cached for `cache_day`, so a transaction reads the first line
// and one bucket instead of all 32 buckets (recomputed once per merchant and day).
struct alignas(64) MerchantState {
  uint64_t key = 0;          // tx.merchant_key or tx.terminal_key; 0 = empty slot
  uint32_t cache_day = 0;    // day tag the sums are for (0 = none)
  uint32_t prev_tx[2] = {};  // transactions on days [cache_day-6, -1] and [cache_day-29, -1]
  uint32_t prev_fraud[2] = {};
  DayBucket buckets[kDayBuckets];
};
static_assert(sizeof(MerchantState) == 448);
static_assert(std::is_trivially_copyable_v<MerchantState>);

}  // namespace fw
