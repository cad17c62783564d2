#include "features/feature_engine.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <utility>

#include "core/hash.h"
#include "features/geo.h"
#include "features/partition_snapshot.h"

namespace fw {
namespace {

constexpr int64_t kMicrosPerMilli = 1000;
constexpr int64_t kMicrosPerWeek = 7 * kMicrosPerDay;
constexpr int64_t kWindowMicros[kWindowCount] = {kMicrosPerHour, kMicrosPerDay, kMicrosPerWeek,
                                                 30 * kMicrosPerDay};
constexpr FeatureId kWindowCountFeature[kWindowCount] = {
    FeatureId::kTxCount1h, FeatureId::kTxCount24h, FeatureId::kTxCount7d, FeatureId::kTxCount30d};
constexpr FeatureId kWindowSumFeature[kWindowCount] = {FeatureId::kTxSum1h, FeatureId::kTxSum24h,
                                                       FeatureId::kTxSum7d, FeatureId::kTxSum30d};
constexpr int64_t kSecondsPerDay = 86400;
constexpr double kMinAmountSd = 0.01;  // major units: floor of the z-score denominator
constexpr double kMaxAbsZscore = 50;
constexpr int kWelfordSamples = 100;  // exact running mean/variance up to here, then EW 1/100

// MCCs with elevated fraud or money-laundering risk (docs/features.md).
constexpr uint16_t kHighRiskMccs[] = {
    4829,  // wire transfer / money orders
    5933,  // pawn shops
    5967,  // direct marketing: inbound teleservices
    6051,  // quasi-cash: crypto, foreign currency, money orders
    6211,  // securities brokers / dealers
    6540,  // stored-value card purchase / load
    7273,  // dating and escort services
    7801,  // government-licensed online casinos
    7802,  // government-licensed horse / dog racing
    7995,  // betting, lottery, casino chips
};

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Amount in centi-units (hundredths of a major unit): exact for currencies with 0-2 decimals,
// truncated to 0.01 for 3-decimal currencies. Window sums are kept in this unit.
int64_t to_centi(const Money& m) {
  switch (m.currency.exponent()) {
    case 0:
      return m.minor * 100;
    case 1:
      return m.minor * 10;
    case 2:
      return m.minor;
    case 3:
      return m.minor / 10;
    default:
      return m.minor / 100;
  }
}

uint32_t tag_of(uint64_t key) {
  uint32_t t = static_cast<uint32_t>(key >> 32) ^ static_cast<uint32_t>(key);
  return t == 0 ? 1 : t;
}

// Records `tag` as seen at now_s. Returns whether it was already remembered; `had_any` tells
// whether the set remembered anything before. When full, replaces the least recently seen.
template <int N>
bool touch(SeenSlot (&slots)[N], uint32_t tag, uint32_t now_s, bool& had_any) {
  int victim = 0;
  had_any = false;
  for (int i = 0; i < N; ++i) {
    if (slots[i].tag == tag) {
      had_any = true;
      slots[i].seen_s = std::max(slots[i].seen_s, now_s);
      return true;
    }
    if (slots[i].tag != 0) had_any = true;
    if (slots[i].tag == 0 ? slots[victim].tag != 0 || victim == i
                          : slots[victim].tag != 0 && slots[i].seen_s < slots[victim].seen_s) {
      victim = i;
    }
  }
  slots[victim] = SeenSlot{tag, now_s};
  return false;
}

// Values seen less than 24 h before now_s (or after it, for a late transaction).
template <int N>
int count_24h(const SeenSlot (&slots)[N], uint32_t now_s) {
  int n = 0;
  for (const SeenSlot& s : slots) {
    n += s.tag != 0 && static_cast<int64_t>(now_s) - s.seen_s < kSecondsPerDay;
  }
  return n;
}

uint32_t add_sat(uint32_t a, uint32_t b) {
  uint32_t r = a + b;
  return r < a ? std::numeric_limits<uint32_t>::max() : r;
}

// Recomputes the cached sums of the days before day_tag, when day_tag is not the cached day.
void refresh_cache(MerchantState& m, uint32_t day_tag) {
  if (m.cache_day == day_tag) return;
  m.cache_day = day_tag;
  m.prev_tx[0] = m.prev_tx[1] = m.prev_fraud[0] = m.prev_fraud[1] = 0;
  for (const DayBucket& b : m.buckets) {
    if (b.day == 0 || b.day >= day_tag) continue;
    const uint32_t age = day_tag - b.day;
    if (age < 30) {
      m.prev_tx[1] += b.tx;
      m.prev_fraud[1] += b.fraud;
    }
    if (age < 7) {
      m.prev_tx[0] += b.tx;
      m.prev_fraud[0] += b.fraud;
    }
  }
}

// Counts a transaction in its day bucket (unless the bucket already holds a newer day: the
// transaction is over 32 days late).
void bump_day(MerchantState& m, uint32_t day_tag) {
  DayBucket& b = m.buckets[day_tag % kDayBuckets];
  if (b.day != day_tag) {
    if (b.day > day_tag) return;
    b = DayBucket{day_tag, 0, 0};
  }
  b.tx = add_sat(b.tx, 1);
}

struct DayWindows {
  uint32_t tx[3] = {};  // 1d, 7d, 30d
  uint32_t fraud[3] = {};
};

// REQUIRES: m.cache_day == day_tag.
DayWindows day_windows(const MerchantState& m, uint32_t day_tag) {
  DayWindows w;
  const DayBucket& b = m.buckets[day_tag % kDayBuckets];
  const uint32_t tx = b.day == day_tag ? b.tx : 0;
  const uint32_t fraud = b.day == day_tag ? b.fraud : 0;
  w.tx[0] = tx;
  w.fraud[0] = fraud;
  w.tx[1] = m.prev_tx[0] + tx;
  w.fraud[1] = m.prev_fraud[0] + fraud;
  w.tx[2] = m.prev_tx[1] + tx;
  w.fraud[2] = m.prev_fraud[1] + fraud;
  return w;
}

double rate(uint32_t fraud, uint32_t tx) {
  return tx == 0 ? 0.0 : static_cast<double>(fraud) / static_cast<double>(tx);
}

uint32_t day_tag_of(Timestamp ts) {
  return static_cast<uint32_t>(std::max<int64_t>(0, floor_div(ts, kMicrosPerDay)) + 1);
}

}  // namespace

bool is_high_risk_mcc(uint16_t mcc) {
  return std::find(std::begin(kHighRiskMccs), std::end(kHighRiskMccs), mcc) !=
         std::end(kHighRiskMccs);
}

FeatureEngine::FeatureEngine(const FeatureConfig& config)
    : config_(config),
      accounts_(config.initial_accounts),
      merchants_(config.initial_merchants),
      terminals_(config.initial_merchants) {
  if (config_.shard_count < 1) config_.shard_count = 1;
}

void FeatureEngine::prefetch(const Transaction& tx) const {
  accounts_.prefetch(tx.account_key, sizeof(AccountState) / 64);
  // Merchant and terminal: the first line (key, cached sums) and today's bucket.
  const size_t bucket_offset =
      offsetof(MerchantState, buckets) + (day_tag_of(tx.ts) % kDayBuckets) * sizeof(DayBucket);
  for (const auto& [table, key] :
       {std::pair{&merchants_, tx.merchant_key}, std::pair{&terminals_, tx.terminal_key}}) {
    if (key == 0) continue;
    const char* p = reinterpret_cast<const char*>(table->home_slot(key));
    __builtin_prefetch(p, 1, 3);
    __builtin_prefetch(p + bucket_offset, 1, 3);
  }
}

size_t FeatureEngine::memory_bytes() const {
  return sizeof(*this) + accounts_.memory_bytes() + merchants_.memory_bytes() +
         terminals_.memory_bytes();
}

void FeatureEngine::process(const Transaction& tx, FeatureVector& out) {
  bool inserted = false;
  AccountState& a = accounts_.find_or_insert(tx.account_key, inserted);
  // The probe loaded the record's first line; request the other five now so their misses
  // overlap instead of arriving one by one as the code walks the record.
  const char* p = reinterpret_cast<const char*>(&a);
  for (size_t line = 64; line < sizeof(AccountState); line += 64)
    __builtin_prefetch(p + line, 1, 3);
  account_features(a, inserted, tx, out);
  merchant_features(tx, out);
}

void FeatureEngine::account_features(AccountState& a, bool inserted, const Transaction& tx,
                                     FeatureVector& out) {
  using F = FeatureId;
  const Timestamp ts = tx.ts;
  const double amount = tx.amount.major_approx();
  const int64_t centi = std::max<int64_t>(0, to_centi(tx.amount));
  const int64_t minor_per_major = tx.amount.currency.minor_per_major();

  if (inserted) {
    a.first_ts = ts;
    a.last_ts = ts;
  }

  // --- Static attributes of the transaction.
  out[F::kAmount] = amount;
  out[F::kAmountLog] = std::log1p(std::max(0.0, amount));
  out[F::kCardPresent] = tx.card_present ? 1 : 0;
  out[F::kChannel] = static_cast<double>(tx.channel);
  out[F::kType] = static_cast<double>(tx.type);
  out[F::kMcc] = tx.mcc;
  out[F::kIsHighRiskMcc] = is_high_risk_mcc(tx.mcc) ? 1 : 0;
  out[F::kIsRoundAmount] =
      tx.amount.minor != 0 && tx.amount.minor % (100 * minor_per_major) == 0 ? 1 : 0;
  out[F::kNearReportingThreshold] =
      tx.amount.minor >= 9000 * minor_per_major && tx.amount.minor < 10000 * minor_per_major ? 1
                                                                                             : 0;

  // --- Local time: explicit offset, else longitude, else UTC.
  int64_t offset_min = 0;
  if (tx.utc_offset_minutes) {
    offset_min = *tx.utc_offset_minutes;
  } else if (tx.has_location) {
    offset_min = std::lround(tx.lon / 15.0) * 60;
  }
  const Timestamp local = ts + offset_min * kMicrosPerMinute;
  const int64_t local_day = floor_div(local, kMicrosPerDay);
  out[F::kLocalHour] = static_cast<double>((local - local_day * kMicrosPerDay) / kMicrosPerHour);
  out[F::kWeekday] = static_cast<double>(((local_day + 3) % 7 + 7) % 7);  // 0 = Monday

  // --- Amount statistics, from the state before this transaction.
  double z = 0;
  if (a.tx_count >= 2) {
    double sd = std::sqrt(std::max(0.0, static_cast<double>(a.amount_var)));
    z = (amount - a.amount_mean) / std::max(sd, kMinAmountSd);
    z = std::clamp(z, -kMaxAbsZscore, kMaxAbsZscore);
  }
  out[F::kAmountZscore] = z;
  {
    double alpha = 1.0 / static_cast<double>(std::min<uint32_t>(a.tx_count + 1, kWelfordSamples));
    double delta = amount - a.amount_mean;
    a.amount_mean = static_cast<float>(a.amount_mean + alpha * delta);
    a.amount_var = static_cast<float>((1 - alpha) * (a.amount_var + alpha * delta * delta));
  }

  // --- Recency.
  out[F::kHasPrev] = inserted ? 0 : 1;
  out[F::kSecondsSincePrev] =
      inserted ? 0 : static_cast<double>(std::max<int64_t>(0, ts - a.last_ts)) / kMicrosPerSecond;
  out[F::kAccountAgeDays] =
      static_cast<double>(std::max<int64_t>(0, ts - a.first_ts)) / kMicrosPerDay;

  // --- Exact 1-minute window over the ring of the last kRingSize events.
  if (ts - a.last_ts > kMicrosPerMinute) {  // every remembered event is stale
    a.ring_size = 0;
    a.ring_head = 0;  // entries live in slots [0, ring_size) until the ring wraps
  }
  {
    const int64_t ts_ms = floor_div(ts, kMicrosPerMilli);
    const int64_t last_ms = floor_div(a.last_ts, kMicrosPerMilli);
    const uint32_t last_lo = static_cast<uint32_t>(last_ms);
    double count = 1;
    int64_t sum = centi;
    for (int i = 0; i < a.ring_size; ++i) {
      // Every ring entry is at most last_ts and within minutes of it, so the low 32 bits of
      // milliseconds reconstruct it exactly.
      int64_t t = last_ms - static_cast<uint32_t>(last_lo - a.ring_ms[i]);
      if (t > ts_ms - 60'000 && t <= ts_ms) {
        count += 1;
        sum += a.ring_centi[i];
      }
    }
    out[F::kTxCount1m] = count;
    out[F::kTxSum1m] = static_cast<double>(sum) / 100.0;
    a.ring_ms[a.ring_head] = static_cast<uint32_t>(ts_ms);
    a.ring_centi[a.ring_head] =
        static_cast<uint32_t>(std::min<int64_t>(centi, std::numeric_limits<uint32_t>::max()));
    a.ring_head = static_cast<uint8_t>((a.ring_head + 1) % kRingSize);
    if (a.ring_size < kRingSize) ++a.ring_size;
  }

  // --- Longer windows: two aligned buckets per window, sliding estimate.
  const Timestamp now = std::max(ts, a.last_ts);
  for (int w = 0; w < kWindowCount; ++w) {
    const int64_t len = kWindowMicros[w];
    int64_t cur = floor_div(a.last_ts, len);
    const int64_t b = floor_div(ts, len);
    if (b > cur) {
      if (b == cur + 1) {
        a.win_count[w][1] = a.win_count[w][0];
        a.win_sum[w][1] = a.win_sum[w][0];
      } else {
        a.win_count[w][1] = 0;
        a.win_sum[w][1] = 0;
      }
      a.win_count[w][0] = 0;
      a.win_sum[w][0] = 0;
      cur = b;
    }
    if (b == cur || b == cur - 1) {
      int k = b == cur ? 0 : 1;
      a.win_count[w][k] = add_sat(a.win_count[w][k], 1);
      a.win_sum[w][k] += centi;
    }
    const double prev_weight =
        1.0 - static_cast<double>(now - cur * len) / static_cast<double>(len);
    out[kWindowCountFeature[w]] = a.win_count[w][0] + prev_weight * a.win_count[w][1];
    out[kWindowSumFeature[w]] = (static_cast<double>(a.win_sum[w][0]) +
                                 prev_weight * static_cast<double>(a.win_sum[w][1])) /
                                100.0;
  }

  // --- Geography: distance and implied speed from the previous located transaction.
  out[F::kHasPrevLocation] = 0;
  out[F::kSecondsSincePrevLocated] = 0;
  out[F::kDistanceFromPrevKm] = 0;
  out[F::kSpeedFromPrevKmh] = 0;
  if (tx.has_location) {
    if (a.flags & AccountState::kHasLocation) {
      double dist = haversine_km(a.lat, a.lon, tx.lat, tx.lon);
      double dt_s = static_cast<double>(std::abs(ts - a.located_ts)) / kMicrosPerSecond;
      out[F::kHasPrevLocation] = 1;
      out[F::kSecondsSincePrevLocated] = dt_s;
      out[F::kDistanceFromPrevKm] = dist;
      out[F::kSpeedFromPrevKmh] = dist / std::max(dt_s, 1.0) * 3600.0;
    }
    if (!(a.flags & AccountState::kHasLocation) || ts >= a.located_ts) {
      a.lat = static_cast<float>(tx.lat);
      a.lon = static_cast<float>(tx.lon);
      a.located_ts = ts;
      a.flags |= AccountState::kHasLocation;
    }
  }

  // --- Countries: change within the hour, home country, international.
  const uint16_t country = tx.country.packed;
  double since_other = -1;
  if (country != 0) {
    if (a.last_country != 0 && country != a.last_country) {
      since_other = static_cast<double>(std::abs(ts - a.last_country_ts)) / kMicrosPerSecond;
    } else if (a.last_country == country && (a.flags & AccountState::kHasOtherCountry)) {
      since_other = static_cast<double>(std::abs(ts - a.other_country_ts)) / kMicrosPerSecond;
    }
    if (a.last_country == 0 || ts >= a.last_country_ts) {
      if (a.last_country != 0 && country != a.last_country) {
        a.other_country_ts = a.last_country_ts;
        a.flags |= AccountState::kHasOtherCountry;
      }
      a.last_country = country;
      a.last_country_ts = ts;
    }
    if (a.home_country == 0) a.home_country = country;
  }
  out[F::kSecondsSinceOtherCountry] = since_other;
  out[F::kCountryChanged1h] = since_other >= 0 && since_other < 3600 ? 1 : 0;
  out[F::kIsInternational] = country != 0 && a.home_country != 0 && country != a.home_country;

  // --- Distinct values over 24 h and "new" flags.
  const uint32_t now_s =
      static_cast<uint32_t>(std::max<int64_t>(0, floor_div(ts, kMicrosPerSecond)));
  bool had_any = false;
  out[F::kNewMerchant] = 0;
  if (tx.merchant_key != 0) {
    bool seen = touch(a.merchants, tag_of(tx.merchant_key), now_s, had_any);
    out[F::kNewMerchant] = !seen && had_any ? 1 : 0;
  }
  out[F::kNewDevice] = 0;
  if (tx.device_key != 0) {
    bool seen = touch(a.devices, tag_of(tx.device_key), now_s, had_any);
    out[F::kNewDevice] = !seen && had_any ? 1 : 0;
  }
  out[F::kNewCountry] = 0;
  if (country != 0) {
    bool seen = touch(a.countries, country, now_s, had_any);
    out[F::kNewCountry] = !seen && had_any ? 1 : 0;
  }
  if (!tx.counterparty.empty()) {
    touch(a.counterparties, tag_of(hash_id(tx.counterparty)), now_s, had_any);
  }
  out[F::kDistinctMerchants24h] = count_24h(a.merchants, now_s);
  out[F::kDistinctDevices24h] = count_24h(a.devices, now_s);
  out[F::kDistinctCountries24h] = count_24h(a.countries, now_s);
  out[F::kDistinctCounterparties24h] = count_24h(a.counterparties, now_s);

  a.last_ts = now;
  a.partition = tx.partition;
  if (a.tx_count != std::numeric_limits<uint32_t>::max()) ++a.tx_count;
}

void FeatureEngine::merchant_features(const Transaction& tx, FeatureVector& out) {
  using F = FeatureId;
  const uint32_t day_tag = day_tag_of(tx.ts);
  const double scale = config_.shard_count;
  DayWindows m;
  if (tx.merchant_key != 0) {
    bool inserted = false;
    MerchantState& s = merchants_.find_or_insert(tx.merchant_key, inserted);
    refresh_cache(s, day_tag);
    bump_day(s, day_tag);
    m = day_windows(s, day_tag);
  }
  out[F::kMerchantTxCount1d] = m.tx[0] * scale;
  out[F::kMerchantTxCount7d] = m.tx[1] * scale;
  out[F::kMerchantTxCount30d] = m.tx[2] * scale;
  out[F::kMerchantFraudRate1d] = rate(m.fraud[0], m.tx[0]);
  out[F::kMerchantFraudRate7d] = rate(m.fraud[1], m.tx[1]);
  out[F::kMerchantFraudRate30d] = rate(m.fraud[2], m.tx[2]);

  DayWindows t;
  if (tx.terminal_key != 0) {
    bool inserted = false;
    MerchantState& s = terminals_.find_or_insert(tx.terminal_key, inserted);
    refresh_cache(s, day_tag);
    bump_day(s, day_tag);
    t = day_windows(s, day_tag);
  }
  out[F::kTerminalTxCount30d] = t.tx[2] * scale;
  out[F::kTerminalFraudRate1d] = rate(t.fraud[0], t.tx[0]);
  out[F::kTerminalFraudRate7d] = rate(t.fraud[1], t.tx[1]);
  out[F::kTerminalFraudRate30d] = rate(t.fraud[2], t.tx[2]);
}

void FeatureEngine::apply_label(const LabelEvent& label) {
  if (label.label != Label::kFraud) return;
  const uint32_t day_tag = day_tag_of(label.transaction_ts);
  auto count = [&](FlatTable<MerchantState>& table, const std::string& id) {
    if (id.empty()) return;
    MerchantState* s = table.find(hash_id(id));
    if (s == nullptr) return;
    DayBucket& b = s->buckets[day_tag % kDayBuckets];
    // Only while the transaction's day is still held, and never more frauds than transactions.
    if (b.day != day_tag || b.fraud >= b.tx) return;
    ++b.fraud;
    if (s->cache_day > day_tag) {
      const uint32_t age = s->cache_day - day_tag;
      if (age < 7) ++s->prev_fraud[0];
      if (age < 30) ++s->prev_fraud[1];
    }
  };
  count(merchants_, label.merchant_id);
  count(terminals_, label.terminal_id);
}

size_t FeatureEngine::export_partition(int32_t partition, bool evict,
                                       std::vector<AccountState>& out) {
  const size_t before = out.size();
  accounts_.for_each([&](const AccountState& a) {
    if (a.partition == partition) out.push_back(a);
  });
  if (evict) evict_partition(partition);
  return out.size() - before;
}

size_t FeatureEngine::evict_partition(int32_t partition) {
  return accounts_.erase_if(
      [partition](const AccountState& a) { return a.partition == partition; });
}

void FeatureEngine::import_partition(int32_t partition, std::span<const AccountState> accounts) {
  evict_partition(partition);
  for (const AccountState& a : accounts) accounts_.insert_or_assign(a);
}

std::string FeatureEngine::snapshot_partition(int32_t partition, bool evict) {
  std::vector<AccountState> accounts;
  export_partition(partition, evict, accounts);
  return encode_partition_snapshot(partition, std::span(&accounts, 1));
}

Status FeatureEngine::restore_partition(std::string_view blob) {
  Result<PartitionSnapshot> snap = decode_partition_snapshot(blob);
  if (!snap.ok()) return snap.error();
  import_partition(snap->partition, snap->accounts);
  return Status::Ok();
}

}  // namespace fw
