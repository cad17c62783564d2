#include "features/feature_engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/time.h"

namespace fw {
namespace {

using F = FeatureId;

// 2026-03-02 is a Monday.
const Timestamp kMonday = *parse_rfc3339("2026-03-02T00:00:00Z");

Timestamp at(const char* rfc3339) { return *parse_rfc3339(rfc3339); }

Transaction make_tx(Timestamp ts, const std::string& account = "acc-1", int64_t minor = 1000) {
  Transaction tx;
  tx.id = "t" + std::to_string(ts);
  tx.ts = ts;
  tx.account_id = account;
  tx.amount = Money{minor, Currency::of("EUR")};
  tx.finalize_keys();
  return tx;
}

void set_merchant(Transaction& tx, const std::string& merchant) {
  tx.merchant_id = merchant;
  tx.finalize_keys();
}

void set_device(Transaction& tx, const std::string& device) {
  tx.device_id = device;
  tx.finalize_keys();
}

void set_location(Transaction& tx, double lat, double lon, const char* country) {
  tx.has_location = true;
  tx.lat = lat;
  tx.lon = lon;
  tx.country = *Country::parse(country);
}

class FeatureEngineTest : public ::testing::Test {
 protected:
  FeatureVector run(const Transaction& tx) {
    FeatureVector f;
    engine_.process(tx, f);
    return f;
  }
  FeatureEngine engine_{FeatureConfig{}};
};

TEST_F(FeatureEngineTest, FirstTransactionHasNoPreviousAndIsNotNew) {
  Transaction tx = make_tx(kMonday + 10 * kMicrosPerHour, "acc-1", 2550);
  set_merchant(tx, "m1");
  set_device(tx, "d1");
  set_location(tx, 52.52, 13.405, "DE");
  FeatureVector f = run(tx);
  EXPECT_EQ(f[F::kHasPrev], 0);
  EXPECT_EQ(f[F::kSecondsSincePrev], 0);
  EXPECT_EQ(f[F::kHasPrevLocation], 0);
  EXPECT_EQ(f[F::kDistanceFromPrevKm], 0);
  EXPECT_EQ(f[F::kSpeedFromPrevKmh], 0);
  EXPECT_EQ(f[F::kNewDevice], 0);
  EXPECT_EQ(f[F::kNewCountry], 0);
  EXPECT_EQ(f[F::kNewMerchant], 0);
  EXPECT_EQ(f[F::kIsInternational], 0);
  EXPECT_EQ(f[F::kAccountAgeDays], 0);
  EXPECT_DOUBLE_EQ(f[F::kAmount], 25.50);
  EXPECT_DOUBLE_EQ(f[F::kAmountLog], std::log1p(25.50));
  EXPECT_EQ(f[F::kTxCount1m], 1);
  EXPECT_EQ(f[F::kTxCount30d], 1);
  EXPECT_DOUBLE_EQ(f[F::kTxSum24h], 25.50);
  EXPECT_EQ(f[F::kSecondsSinceOtherCountry], -1);
  EXPECT_EQ(engine_.account_count(), 1u);
}

TEST_F(FeatureEngineTest, OneMinuteWindowIsExactAtTheBoundary) {
  const Timestamp t0 = kMonday + 9 * kMicrosPerHour;
  EXPECT_EQ(run(make_tx(t0, "a", 100))[F::kTxCount1m], 1);
  EXPECT_EQ(run(make_tx(t0 + 10 * kMicrosPerSecond, "a", 200))[F::kTxCount1m], 2);
  EXPECT_EQ(run(make_tx(t0 + 20 * kMicrosPerSecond, "a", 300))[F::kTxCount1m], 3);
  FeatureVector f = run(make_tx(t0 + 30 * kMicrosPerSecond, "a", 400));
  EXPECT_EQ(f[F::kTxCount1m], 4);
  EXPECT_DOUBLE_EQ(f[F::kTxSum1m], 10.00);
  EXPECT_DOUBLE_EQ(f[F::kSecondsSincePrev], 10);
  // Exactly 60 s after t0: the event at t0 is outside (t - 60 s, t].
  f = run(make_tx(t0 + 60 * kMicrosPerSecond, "a", 500));
  EXPECT_EQ(f[F::kTxCount1m], 4);
  EXPECT_DOUBLE_EQ(f[F::kTxSum1m], 14.00);
  // One millisecond earlier the event at t0 would still count: check on a second account.
  run(make_tx(t0, "b"));
  EXPECT_EQ(run(make_tx(t0 + 60 * kMicrosPerSecond - 1000, "b"))[F::kTxCount1m], 2);
  // After a pause of more than a minute everything is forgotten.
  EXPECT_EQ(run(make_tx(t0 + 200 * kMicrosPerSecond, "a"))[F::kTxCount1m], 1);
}

// Regression (found by the pattern test): after a pause the ring restarts from slot 0, so a
// burst that follows any earlier activity is counted from its first event.
TEST_F(FeatureEngineTest, OneMinuteWindowCountsABurstAfterAPause) {
  const Timestamp t0 = kMonday + 9 * kMicrosPerHour;
  for (int i = 0; i < 3; ++i) run(make_tx(t0 + i * 10 * kMicrosPerSecond, "a"));
  const Timestamp t1 = t0 + kMicrosPerHour;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(run(make_tx(t1 + i * 10 * kMicrosPerSecond, "a"))[F::kTxCount1m], i + 1) << i;
  }
}

TEST_F(FeatureEngineTest, OneMinuteWindowSaturatesAtNine) {
  const Timestamp t0 = kMonday + 9 * kMicrosPerHour;
  double last = 0;
  for (int i = 0; i < 12; ++i) {
    last = run(make_tx(t0 + i * kMicrosPerSecond, "a"))[F::kTxCount1m];
    EXPECT_EQ(last, std::min(i + 1, kRingSize + 1)) << i;
  }
  EXPECT_EQ(last, 9);
}

// Windows longer than a minute: count = current aligned bucket + previous bucket weighted by
// the part of it still inside the window (docs/features.md).
TEST_F(FeatureEngineTest, HourWindowUsesTwoBucketEstimate) {
  const Timestamp h10 = kMonday + 10 * kMicrosPerHour;
  EXPECT_EQ(run(make_tx(h10, "a", 1000))[F::kTxCount1h], 1);
  EXPECT_EQ(run(make_tx(h10 + 10 * kMicrosPerMinute, "a", 2000))[F::kTxCount1h], 2);
  FeatureVector f = run(make_tx(h10 + 50 * kMicrosPerMinute, "a", 3000));
  EXPECT_EQ(f[F::kTxCount1h], 3);
  EXPECT_DOUBLE_EQ(f[F::kTxSum1h], 60.00);
  // 11:15: this one + 3 x (1 - 15/60). True count is 2 (10:50 and 11:15); error <= 3.
  f = run(make_tx(h10 + 75 * kMicrosPerMinute, "a", 4000));
  EXPECT_DOUBLE_EQ(f[F::kTxCount1h], 1 + 3 * 0.75);
  EXPECT_DOUBLE_EQ(f[F::kTxSum1h], 40.00 + 60.00 * 0.75);
  EXPECT_LE(std::abs(f[F::kTxCount1h] - 2), 3);
  // 12:30: previous bucket (11:00) holds one.
  f = run(make_tx(h10 + 150 * kMicrosPerMinute, "a", 1000));
  EXPECT_DOUBLE_EQ(f[F::kTxCount1h], 1 + 1 * 0.5);
  // 15:00: two empty hours in between: only this one.
  f = run(make_tx(h10 + 5 * kMicrosPerHour, "a", 1000));
  EXPECT_EQ(f[F::kTxCount1h], 1);
  // All of them are on the same UTC day, so the 24 h window is exact: 6 transactions.
  EXPECT_EQ(f[F::kTxCount24h], 6);
  EXPECT_DOUBLE_EQ(f[F::kTxSum24h], 10 + 20 + 30 + 40 + 10 + 10);
}

TEST_F(FeatureEngineTest, DayWeekAndMonthWindowsAcrossBoundaries) {
  constexpr int64_t kWeek = 7 * kMicrosPerDay;
  constexpr int64_t kMonth = 30 * kMicrosPerDay;
  // Start of an epoch-aligned 30-day bucket, plus 1 day.
  const Timestamp m0 = (kMonday / kMonth) * kMonth + kMicrosPerDay;
  run(make_tx(m0, "a", 10000));
  run(make_tx(m0 + 2 * kMicrosPerDay, "a", 10000));
  FeatureVector f = run(make_tx(m0 + 5 * kMicrosPerDay, "a", 10000));
  EXPECT_EQ(f[F::kTxCount30d], 3);
  EXPECT_DOUBLE_EQ(f[F::kTxSum30d], 300);
  // 24 h: day buckets. Day of m0+5d has only this one; previous day is empty.
  EXPECT_EQ(f[F::kTxCount24h], 1);
  // Next 30-day bucket, 6 days in: 1 + 3 x (1 - 6/30).
  const Timestamp m1 = m0 - kMicrosPerDay + kMonth + 6 * kMicrosPerDay;
  f = run(make_tx(m1, "a", 10000));
  EXPECT_DOUBLE_EQ(f[F::kTxCount30d], 1 + 3 * (1 - 6.0 / 30));
  EXPECT_DOUBLE_EQ(f[F::kTxSum30d], 100 + 300 * (1 - 6.0 / 30));
  // 7-day window: compute the expectation from the aligned week buckets.
  const int64_t wk_now = m1 / kWeek;
  int in_cur = 0, in_prev = 0;
  for (Timestamp t : {m0, m0 + 2 * kMicrosPerDay, m0 + 5 * kMicrosPerDay, m1}) {
    in_cur += t / kWeek == wk_now;
    in_prev += t / kWeek == wk_now - 1;
  }
  const double frac = static_cast<double>(m1 - wk_now * kWeek) / kWeek;
  EXPECT_DOUBLE_EQ(f[F::kTxCount7d], in_cur + in_prev * (1 - frac));
  // 24 h across midnight: 23:30 then 00:30 the next day -> 1 + 1 x (1 - 0.5/24).
  const Timestamp d = kMonday + 20 * kMicrosPerDay + 23 * kMicrosPerHour + 30 * kMicrosPerMinute;
  run(make_tx(d, "b"));
  f = run(make_tx(d + kMicrosPerHour, "b"));
  EXPECT_DOUBLE_EQ(f[F::kTxCount24h], 1 + 1 * (1 - 0.5 / 24));
  EXPECT_DOUBLE_EQ(f[F::kSecondsSincePrev], 3600);
}

TEST_F(FeatureEngineTest, AmountZscoreUsesStateBeforeThisTransaction) {
  const Timestamp t0 = kMonday + 12 * kMicrosPerHour;
  EXPECT_EQ(run(make_tx(t0, "a", 1000))[F::kAmountZscore], 0);
  EXPECT_EQ(run(make_tx(t0 + kMicrosPerHour, "a", 1200))[F::kAmountZscore], 0);
  // Before: 10, 12 -> mean 11, population sd 1.
  EXPECT_NEAR(run(make_tx(t0 + 2 * kMicrosPerHour, "a", 800))[F::kAmountZscore], -3.0, 1e-5);
  // Before: 10, 12, 8 -> mean 10, variance 8/3.
  EXPECT_NEAR(run(make_tx(t0 + 3 * kMicrosPerHour, "a", 2000))[F::kAmountZscore],
              10.0 / std::sqrt(8.0 / 3.0), 1e-5);
  // Always the same amount: sd is 0, the denominator floor (0.01) and the clamp (50) apply.
  for (int i = 0; i < 3; ++i) run(make_tx(t0 + i * kMicrosPerHour, "b", 1000));
  EXPECT_NEAR(run(make_tx(t0 + 4 * kMicrosPerHour, "b", 1001))[F::kAmountZscore], 1.0, 1e-5);
  EXPECT_EQ(run(make_tx(t0 + 5 * kMicrosPerHour, "b", 900000))[F::kAmountZscore], 50);
}

TEST_F(FeatureEngineTest, DistinctMerchantsSaturateAndExpireAfter24h) {
  const Timestamp t0 = kMonday + 8 * kMicrosPerHour;
  for (int i = 0; i < 9; ++i) {
    Transaction tx = make_tx(t0 + i * kMicrosPerMinute);
    set_merchant(tx, "m" + std::to_string(i));
    FeatureVector f = run(tx);
    EXPECT_EQ(f[F::kDistinctMerchants24h], std::min(i + 1, kMerchantSlots)) << i;
    EXPECT_EQ(f[F::kNewMerchant], i == 0 ? 0 : 1) << i;
  }
  // m8 is remembered: not new.
  Transaction again = make_tx(t0 + 10 * kMicrosPerMinute);
  set_merchant(again, "m8");
  EXPECT_EQ(run(again)[F::kNewMerchant], 0);
  // m0 was evicted (least recently seen): new again, within what the set remembers.
  Transaction evicted = make_tx(t0 + 11 * kMicrosPerMinute);
  set_merchant(evicted, "m0");
  EXPECT_EQ(run(evicted)[F::kNewMerchant], 1);
  // 25 hours later only this transaction's merchant is within 24 h.
  Transaction later = make_tx(t0 + 11 * kMicrosPerMinute + 25 * kMicrosPerHour);
  set_merchant(later, "m8");
  FeatureVector f = run(later);
  EXPECT_EQ(f[F::kDistinctMerchants24h], 1);
  EXPECT_EQ(f[F::kNewMerchant], 0);
}

TEST_F(FeatureEngineTest, DistinctDevicesCountriesAndCounterpartiesSaturate) {
  const Timestamp t0 = kMonday + 8 * kMicrosPerHour;
  const char* countries[] = {"DE", "FR", "NL", "BE", "AT"};
  FeatureVector f;
  for (int i = 0; i < 8; ++i) {
    Transaction tx = make_tx(t0 + i * kMicrosPerHour);
    set_device(tx, "dev" + std::to_string(i));
    tx.country = *Country::parse(countries[i % 5]);
    tx.counterparty = "cp" + std::to_string(i);
    f = run(tx);
    EXPECT_EQ(f[F::kDistinctDevices24h], std::min(i + 1, kDeviceSlots)) << i;
    EXPECT_EQ(f[F::kDistinctCountries24h], std::min(i + 1, kCountrySlots)) << i;
    EXPECT_EQ(f[F::kDistinctCounterparties24h], std::min(i + 1, kCounterpartySlots)) << i;
    EXPECT_EQ(f[F::kNewDevice], i == 0 ? 0 : 1) << i;
  }
}

TEST_F(FeatureEngineTest, NewFlagsNeedHistoryOfThatKind) {
  const Timestamp t0 = kMonday + 8 * kMicrosPerHour;
  // A POS transaction without a device, then the first device: not "new" (nothing to compare).
  run(make_tx(t0));
  Transaction tx = make_tx(t0 + kMicrosPerHour);
  set_device(tx, "phone");
  EXPECT_EQ(run(tx)[F::kNewDevice], 0);
  tx = make_tx(t0 + 2 * kMicrosPerHour);
  set_device(tx, "phone");
  EXPECT_EQ(run(tx)[F::kNewDevice], 0);
  tx = make_tx(t0 + 3 * kMicrosPerHour);
  set_device(tx, "laptop");
  EXPECT_EQ(run(tx)[F::kNewDevice], 1);
  // Countries: first known country sets home; another one is new and international.
  tx = make_tx(t0 + 4 * kMicrosPerHour);
  tx.country = *Country::parse("DE");
  FeatureVector f = run(tx);
  EXPECT_EQ(f[F::kNewCountry], 0);
  EXPECT_EQ(f[F::kIsInternational], 0);
  tx = make_tx(t0 + 6 * kMicrosPerHour);
  tx.country = *Country::parse("ES");
  f = run(tx);
  EXPECT_EQ(f[F::kNewCountry], 1);
  EXPECT_EQ(f[F::kIsInternational], 1);
  EXPECT_EQ(f[F::kCountryChanged1h], 0);  // 2 h after the DE transaction
  EXPECT_DOUBLE_EQ(f[F::kSecondsSinceOtherCountry], 7200);
}

TEST_F(FeatureEngineTest, CountryChangeWithinAnHour) {
  const Timestamp t0 = kMonday + 8 * kMicrosPerHour;
  Transaction tx = make_tx(t0);
  tx.country = *Country::parse("DE");
  run(tx);
  tx = make_tx(t0 + 30 * kMicrosPerMinute);
  tx.country = *Country::parse("FR");
  FeatureVector f = run(tx);
  EXPECT_EQ(f[F::kCountryChanged1h], 1);
  EXPECT_DOUBLE_EQ(f[F::kSecondsSinceOtherCountry], 1800);
  // Still FR, 59:59 after the DE one: still a change within the hour.
  tx = make_tx(t0 + kMicrosPerHour - kMicrosPerSecond);
  tx.country = *Country::parse("FR");
  EXPECT_EQ(run(tx)[F::kCountryChanged1h], 1);
  // Exactly one hour after: no longer.
  tx = make_tx(t0 + kMicrosPerHour);
  tx.country = *Country::parse("FR");
  f = run(tx);
  EXPECT_EQ(f[F::kCountryChanged1h], 0);
  EXPECT_DOUBLE_EQ(f[F::kSecondsSinceOtherCountry], 3600);
  // Unknown country changes nothing.
  f = run(make_tx(t0 + kMicrosPerHour + kMicrosPerMinute));
  EXPECT_EQ(f[F::kCountryChanged1h], 0);
  EXPECT_EQ(f[F::kSecondsSinceOtherCountry], -1);
}

TEST_F(FeatureEngineTest, DistanceAndSpeedBetweenCities) {
  const Timestamp t0 = kMonday + 8 * kMicrosPerHour;
  Transaction berlin = make_tx(t0);
  set_location(berlin, 52.5200, 13.4050, "DE");
  run(berlin);
  Transaction paris = make_tx(t0 + 2 * kMicrosPerHour);
  set_location(paris, 48.8566, 2.3522, "FR");
  FeatureVector f = run(paris);
  EXPECT_EQ(f[F::kHasPrevLocation], 1);
  EXPECT_NEAR(f[F::kDistanceFromPrevKm], 878, 5);
  EXPECT_NEAR(f[F::kSpeedFromPrevKmh], f[F::kDistanceFromPrevKm] / 2, 1e-9);
  EXPECT_DOUBLE_EQ(f[F::kSecondsSincePrevLocated], 7200);
  // A transaction without location in between does not reset the previous location.
  run(make_tx(t0 + 3 * kMicrosPerHour));
  Transaction ny = make_tx(t0 + 3 * kMicrosPerHour + 30 * kMicrosPerMinute);
  set_location(ny, 40.7128, -74.0060, "US");
  f = run(ny);
  EXPECT_NEAR(f[F::kDistanceFromPrevKm], 5837, 30);  // Paris - New York
  EXPECT_NEAR(f[F::kSpeedFromPrevKmh], f[F::kDistanceFromPrevKm] / 1.5, 1e-6);
}

TEST_F(FeatureEngineTest, LocalHourFromOffsetLongitudeOrUtc) {
  const Timestamp t = at("2026-03-02T02:30:00Z");  // Monday 02:30 UTC
  Transaction tx = make_tx(t, "off");
  tx.utc_offset_minutes = 60;
  FeatureVector f = run(tx);
  EXPECT_EQ(f[F::kLocalHour], 3);
  EXPECT_EQ(f[F::kWeekday], 0);
  tx = make_tx(t, "off2");
  tx.utc_offset_minutes = -180;  // wins over the longitude
  set_location(tx, 52.52, 13.405, "DE");
  f = run(tx);
  EXPECT_EQ(f[F::kLocalHour], 23);
  EXPECT_EQ(f[F::kWeekday], 6);  // Sunday
  tx = make_tx(t, "berlin");
  set_location(tx, 52.52, 13.405, "DE");  // round(13.4 / 15) = 1 h
  EXPECT_EQ(run(tx)[F::kLocalHour], 3);
  tx = make_tx(t, "ny");
  set_location(tx, 40.7128, -74.0060, "US");  // round(-4.93) = -5 h: Sunday 21:30
  f = run(tx);
  EXPECT_EQ(f[F::kLocalHour], 21);
  EXPECT_EQ(f[F::kWeekday], 6);
  f = run(make_tx(t, "utc"));
  EXPECT_EQ(f[F::kLocalHour], 2);
  EXPECT_EQ(f[F::kWeekday], 0);
}

TEST_F(FeatureEngineTest, AmountFlagsAndCategoricals) {
  const Timestamp t = kMonday + 12 * kMicrosPerHour;
  auto amount_features = [&](int64_t minor, const char* currency) {
    Transaction tx = make_tx(t, "flags");
    tx.amount = Money{minor, *Currency::parse(currency)};
    return run(tx);
  };
  EXPECT_EQ(amount_features(50000, "EUR")[F::kIsRoundAmount], 1);
  EXPECT_EQ(amount_features(50050, "EUR")[F::kIsRoundAmount], 0);
  EXPECT_EQ(amount_features(5000, "JPY")[F::kIsRoundAmount], 1);
  EXPECT_EQ(amount_features(900000, "EUR")[F::kNearReportingThreshold], 1);
  EXPECT_EQ(amount_features(999999, "EUR")[F::kNearReportingThreshold], 1);
  EXPECT_EQ(amount_features(899999, "EUR")[F::kNearReportingThreshold], 0);
  EXPECT_EQ(amount_features(1000000, "EUR")[F::kNearReportingThreshold], 0);
  EXPECT_DOUBLE_EQ(amount_features(1250, "KWD")[F::kAmount], 1.25);

  Transaction tx = make_tx(t, "cat");
  tx.mcc = 7995;
  tx.channel = Channel::kEcommerce;
  tx.type = TxType::kTransfer;
  tx.card_present = true;
  FeatureVector f = run(tx);
  EXPECT_EQ(f[F::kIsHighRiskMcc], 1);
  EXPECT_EQ(f[F::kMcc], 7995);
  EXPECT_EQ(f[F::kChannel], static_cast<double>(Channel::kEcommerce));
  EXPECT_EQ(f[F::kType], static_cast<double>(TxType::kTransfer));
  EXPECT_EQ(f[F::kCardPresent], 1);
  EXPECT_FALSE(is_high_risk_mcc(5411));  // grocery
}

TEST(FeatureEngineGrowth, RehashKeepsEveryAccountsState) {
  FeatureEngine engine(FeatureConfig{.initial_accounts = 16, .initial_merchants = 16});
  const size_t before = engine.memory_bytes();
  constexpr int kAccounts = 20000;
  FeatureVector f;
  for (int i = 0; i < kAccounts; ++i) {
    engine.process(make_tx(kMonday + i * kMicrosPerSecond, "acc-" + std::to_string(i), 1000 + i),
                   f);
  }
  EXPECT_EQ(engine.account_count(), static_cast<size_t>(kAccounts));
  EXPECT_GT(engine.memory_bytes(), before);
  EXPECT_GE(engine.memory_bytes(), kAccounts * sizeof(AccountState));
  for (int i = 0; i < kAccounts; ++i) {
    const Timestamp first = kMonday + i * kMicrosPerSecond;
    engine.process(make_tx(first + 30 * kMicrosPerSecond, "acc-" + std::to_string(i), 500), f);
    ASSERT_EQ(f[F::kHasPrev], 1) << i;
    ASSERT_EQ(f[F::kTxCount1m], 2) << i;
    ASSERT_DOUBLE_EQ(f[F::kTxSum1m], (1000 + i + 500) / 100.0) << i;
  }
  EXPECT_EQ(engine.account_count(), static_cast<size_t>(kAccounts));
}

TEST(FeatureEngineMerchant, FraudRateCountsOnlyArrivedLabels) {
  FeatureEngine engine(FeatureConfig{.shard_count = 4});
  const Timestamp day = kMonday + 10 * kMicrosPerHour;
  FeatureVector f;
  auto tx_at = [&](Timestamp ts, const std::string& account) {
    Transaction tx = make_tx(ts, account);
    tx.merchant_id = "shop";
    tx.terminal_id = "pos-1";
    tx.finalize_keys();
    engine.process(tx, f);
    return tx;
  };
  Transaction old = tx_at(day - 40 * kMicrosPerDay, "old");
  Transaction week = tx_at(day - 3 * kMicrosPerDay, "w");
  for (int i = 0; i < 3; ++i) tx_at(day + i * kMicrosPerMinute, "a" + std::to_string(i));
  // This shard has seen 4 today (counting this one) -> estimated total 4 x 4 shards.
  Transaction now = tx_at(day + 5 * kMicrosPerMinute, "b");
  EXPECT_EQ(f[F::kMerchantTxCount1d], 16);
  EXPECT_EQ(f[F::kMerchantTxCount7d], 20);
  EXPECT_EQ(f[F::kMerchantTxCount30d], 20);
  EXPECT_EQ(f[F::kTerminalTxCount30d], 20);
  EXPECT_EQ(f[F::kMerchantFraudRate1d], 0);  // no label has arrived yet

  auto label = [&](const Transaction& tx, Label l) {
    LabelEvent e;
    e.transaction_id = tx.id;
    e.account_id = tx.account_id;
    e.merchant_id = tx.merchant_id;
    e.terminal_id = tx.terminal_id;
    e.transaction_ts = tx.ts;
    e.label = l;
    engine.apply_label(e);
  };
  label(now, Label::kLegit);
  label(old, Label::kFraud);  // 40 days ago: outside every window
  tx_at(day + 6 * kMicrosPerMinute, "c");
  EXPECT_EQ(f[F::kMerchantFraudRate30d], 0);
  EXPECT_EQ(f[F::kMerchantFraudRate1d], 0);

  label(now, Label::kFraud);
  label(week, Label::kFraud);
  tx_at(day + 7 * kMicrosPerMinute, "d");
  EXPECT_DOUBLE_EQ(f[F::kMerchantFraudRate1d], 1.0 / 6);  // 6 today, 1 fraud
  EXPECT_DOUBLE_EQ(f[F::kMerchantFraudRate7d], 2.0 / 7);
  EXPECT_DOUBLE_EQ(f[F::kMerchantFraudRate30d], 2.0 / 7);
  EXPECT_DOUBLE_EQ(f[F::kTerminalFraudRate1d], 1.0 / 6);
  EXPECT_DOUBLE_EQ(f[F::kTerminalFraudRate7d], 2.0 / 7);
  EXPECT_EQ(engine.merchant_count(), 1u);
  EXPECT_EQ(engine.terminal_count(), 1u);

  // The next day: 1d starts over, 7d and 30d keep yesterday's transactions and fraud.
  tx_at(day + kMicrosPerDay, "next");
  EXPECT_EQ(f[F::kMerchantTxCount1d], 4);
  EXPECT_EQ(f[F::kMerchantTxCount7d], 4 * 8);
  EXPECT_EQ(f[F::kMerchantFraudRate1d], 0);
  EXPECT_DOUBLE_EQ(f[F::kMerchantFraudRate7d], 2.0 / 8);
  // A late fraud label for another of yesterday's transactions updates the cached sums.
  Transaction a1 = now;
  a1.ts = day + kMicrosPerMinute;
  label(a1, Label::kFraud);
  tx_at(day + kMicrosPerDay + kMicrosPerMinute, "next2");
  EXPECT_DOUBLE_EQ(f[F::kMerchantFraudRate7d], 3.0 / 9);
  EXPECT_DOUBLE_EQ(f[F::kMerchantFraudRate30d], 3.0 / 9);

  // A transaction without a merchant has zero merchant features.
  engine.process(make_tx(day + 8 * kMicrosPerMinute, "e"), f);
  EXPECT_EQ(f[F::kMerchantTxCount1d], 0);
  EXPECT_EQ(f[F::kMerchantFraudRate1d], 0);
}

}  // namespace
}  // namespace fw
