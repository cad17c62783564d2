// The feature schema: the stable, ordered list of features the FeatureEngine computes for each
// transaction, their snake_case names, and a hash of the schema that models check at load time.
// Definitions, units and windows are documented in docs/features.md. Pure values and functions;
// thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fw {

// X(enumerator, "name"). Append new features at the end or anywhere: the order and the names
// feed feature_schema_hash(), so any change is visible to models trained on an older schema.
#define FW_FEATURE_LIST(X)                                     \
  X(kAmount, "amount")                                         \
  X(kAmountLog, "amount_log")                                  \
  X(kAmountZscore, "amount_zscore")                            \
  X(kTxCount1m, "tx_count_1m")                                 \
  X(kTxSum1m, "tx_sum_1m")                                     \
  X(kTxCount1h, "tx_count_1h")                                 \
  X(kTxSum1h, "tx_sum_1h")                                     \
  X(kTxCount24h, "tx_count_24h")                               \
  X(kTxSum24h, "tx_sum_24h")                                   \
  X(kTxCount7d, "tx_count_7d")                                 \
  X(kTxSum7d, "tx_sum_7d")                                     \
  X(kTxCount30d, "tx_count_30d")                               \
  X(kTxSum30d, "tx_sum_30d")                                   \
  X(kHasPrev, "has_prev")                                      \
  X(kSecondsSincePrev, "seconds_since_prev")                   \
  X(kDistinctMerchants24h, "distinct_merchants_24h")           \
  X(kDistinctCountries24h, "distinct_countries_24h")           \
  X(kDistinctDevices24h, "distinct_devices_24h")               \
  X(kDistinctCounterparties24h, "distinct_counterparties_24h") \
  X(kHasPrevLocation, "has_prev_location")                     \
  X(kSecondsSincePrevLocated, "seconds_since_prev_located")    \
  X(kDistanceFromPrevKm, "distance_from_prev_km")              \
  X(kSpeedFromPrevKmh, "speed_from_prev_kmh")                  \
  X(kNewDevice, "new_device")                                  \
  X(kNewCountry, "new_country")                                \
  X(kNewMerchant, "new_merchant")                              \
  X(kSecondsSinceOtherCountry, "seconds_since_other_country")  \
  X(kCountryChanged1h, "country_changed_1h")                   \
  X(kLocalHour, "local_hour")                                  \
  X(kWeekday, "weekday")                                       \
  X(kIsInternational, "is_international")                      \
  X(kAccountAgeDays, "account_age_days")                       \
  X(kCardPresent, "card_present")                              \
  X(kChannel, "channel")                                       \
  X(kType, "type")                                             \
  X(kMcc, "mcc")                                               \
  X(kIsHighRiskMcc, "is_high_risk_mcc")                        \
  X(kIsRoundAmount, "is_round_amount")                         \
  X(kNearReportingThreshold, "near_reporting_threshold")       \
  X(kMerchantTxCount1d, "merchant_tx_count_1d")                \
  X(kMerchantTxCount7d, "merchant_tx_count_7d")                \
  X(kMerchantTxCount30d, "merchant_tx_count_30d")              \
  X(kMerchantFraudRate1d, "merchant_fraud_rate_1d")            \
  X(kMerchantFraudRate7d, "merchant_fraud_rate_7d")            \
  X(kMerchantFraudRate30d, "merchant_fraud_rate_30d")          \
  X(kTerminalTxCount30d, "terminal_tx_count_30d")              \
  X(kTerminalFraudRate1d, "terminal_fraud_rate_1d")            \
  X(kTerminalFraudRate7d, "terminal_fraud_rate_7d")            \
  X(kTerminalFraudRate30d, "terminal_fraud_rate_30d")

enum class FeatureId : uint16_t {
#define FW_FEATURE_ENUM(id, name) id,
  FW_FEATURE_LIST(FW_FEATURE_ENUM)
#undef FW_FEATURE_ENUM
      kCount
};

inline constexpr size_t kFeatureCount = static_cast<size_t>(FeatureId::kCount);

// Scores the engine computes from the features (issue 4), kept after them in a FeatureVector so
// rules read them like features ("model_score >= 0.8"). They are not features: not in the
// schema, its names or its hash, never a model input. NaN when no model / forest is loaded.
enum class ScoreSlot : uint16_t { kModelScore = kFeatureCount, kAnomalyScore, kEnd };
inline constexpr size_t kFeatureSlots = static_cast<size_t>(ScoreSlot::kEnd);

// The features of one transaction, indexed by FeatureId. A plain value (408 bytes); reuse one
// per shard to avoid touching fresh memory per transaction.
struct FeatureVector {
  // The features (schema order), then the score slots (ScoreSlot).
  std::array<double, kFeatureSlots> values{};

  double operator[](FeatureId f) const { return values[static_cast<size_t>(f)]; }
  double& operator[](FeatureId f) { return values[static_cast<size_t>(f)]; }
  double operator[](ScoreSlot s) const { return values[static_cast<size_t>(s)]; }
  double& operator[](ScoreSlot s) { return values[static_cast<size_t>(s)]; }
};

// The stable snake_case name of a feature ("tx_count_1m"). REQUIRES: f < FeatureId::kCount.
std::string_view feature_name(FeatureId f);

// The feature with this exact name, if any.
std::optional<FeatureId> find_feature(std::string_view name);

// FNV-1a 64 over the ordered names (each followed by '\n'). Changes whenever a name or the
// order changes; models record it when trained and refuse to load against another schema.
uint64_t feature_schema_hash();

}  // namespace fw
