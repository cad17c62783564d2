#include "features/schema.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace fw {
namespace {

TEST(FeatureSchema, NamesAreUniqueSnakeCaseAndFindable) {
  std::set<std::string> seen;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    auto id = static_cast<FeatureId>(i);
    std::string name(feature_name(id));
    ASSERT_FALSE(name.empty()) << i;
    for (char c : name) {
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << name;
    }
    EXPECT_TRUE(seen.insert(name).second) << "duplicate feature name " << name;
    EXPECT_EQ(find_feature(name), id) << name;
  }
  EXPECT_FALSE(find_feature("no_such_feature").has_value());
}

TEST(FeatureSchema, RequiredNamesArePresent) {
  for (const char* name : {"amount",
                           "amount_log",
                           "amount_zscore",
                           "tx_count_1m",
                           "tx_sum_1m",
                           "tx_count_30d",
                           "seconds_since_prev",
                           "distinct_counterparties_24h",
                           "speed_from_prev_kmh",
                           "country_changed_1h",
                           "local_hour",
                           "weekday",
                           "is_international",
                           "account_age_days",
                           "is_high_risk_mcc",
                           "near_reporting_threshold",
                           "merchant_fraud_rate_30d",
                           "terminal_tx_count_30d",
                           "terminal_fraud_rate_1d",
                           "has_prev"}) {
    EXPECT_TRUE(find_feature(name).has_value()) << name;
  }
  EXPECT_EQ(feature_name(FeatureId::kAmount), "amount");
}

TEST(FeatureSchema, HashIsFnvOfTheOrderedNames) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < kFeatureCount; ++i) {
    for (char c : feature_name(static_cast<FeatureId>(i))) {
      h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    h = (h ^ '\n') * 0x100000001b3ULL;
  }
  EXPECT_EQ(feature_schema_hash(), h);
}

TEST(FeatureVector, IndexesByFeatureId) {
  FeatureVector v;
  v[FeatureId::kTxCount1m] = 4;
  EXPECT_EQ(v.values[static_cast<size_t>(FeatureId::kTxCount1m)], 4);
  EXPECT_EQ(v[FeatureId::kAmount], 0);
}

}  // namespace
}  // namespace fw
