#include "training/dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "model/json_codec.h"
#include "sources/history_writer.h"
#include "testing/paths.h"

namespace fw {
namespace {

std::string tx_line(const std::string& id, const std::string& ts, const std::string& account,
                    const std::string& label, const std::string& pattern = "") {
  std::string s = "{\"id\":\"" + id + "\",\"ts\":\"" + ts + "\",\"account_id\":\"" + account +
                  "\",\"amount\":\"20.00\",\"currency\":\"EUR\",\"type\":\"card_purchase\","
                  "\"channel\":\"pos\",\"merchant_id\":\"M1\",\"mcc\":5411,\"terminal_id\":\"T1\","
                  "\"country\":\"DE\"";
  if (!label.empty()) s += ",\"label\":\"" + label + "\"";
  if (!pattern.empty()) s += ",\"fraud_pattern\":\"" + pattern + "\"";
  return s + "}\n";
}

float feature(const Dataset& d, size_t row, FeatureId f) {
  return d.row(row)[static_cast<size_t>(f)];
}

// One merchant: a fraud on day 0, then legit transactions on days 3 and 9. The day-0 fraud may
// only show in the merchant's fraud rate once its label has arrived: after the label delay.
class LabelDelay : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream out(dir_.file("h.jsonl"));
    out << tx_line("t1", "2026-03-01T10:00:00Z", "A1", "fraud", "card_testing")
        << tx_line("t2", "2026-03-04T10:00:00Z", "A2", "legit")
        << tx_line("t3", "2026-03-04T11:00:00Z", "A4", "")  // unlabelled: state only
        << tx_line("t4", "2026-03-10T10:00:00Z", "A3", "legit") << "{\"not\": \"a tx\"}\n";
  }
  Dataset build(int64_t delay_days, Timestamp from = 0) {
    DatasetOptions o;
    o.input = dir_.file("h.jsonl");
    o.label_delay_us = delay_days * kMicrosPerDay;
    o.window_from = from;
    auto d = build_dataset(o);
    EXPECT_TRUE(d.ok()) << d.error().message();
    return std::move(*d);
  }
  testing::TempDir dir_;
};

TEST_F(LabelDelay, FeaturesSeeALabelOnlyAfterTheDelay) {
  Dataset seven = build(7);
  ASSERT_EQ(seven.rows(), 3u);
  EXPECT_EQ(seven.unlabelled, 1u);
  EXPECT_EQ(seven.rejected, 1u);
  EXPECT_EQ(seven.transactions_read, 4u);
  EXPECT_EQ(seven.positives(), 1u);
  // Day 3: the label (due day 7) has not arrived. Day 9: it has.
  EXPECT_EQ(feature(seven, 1, FeatureId::kMerchantFraudRate30d), 0.0F);
  EXPECT_GT(feature(seven, 2, FeatureId::kMerchantFraudRate30d), 0.0F);
  EXPECT_EQ(seven.labels_applied, 1u);

  Dataset one = build(1);
  EXPECT_GT(feature(one, 1, FeatureId::kMerchantFraudRate30d), 0.0F);

  Dataset never = build(100);
  EXPECT_EQ(never.labels_applied, 0u);
  for (size_t r = 0; r < never.rows(); ++r) {
    EXPECT_EQ(feature(never, r, FeatureId::kMerchantFraudRate30d), 0.0F) << r;
    EXPECT_EQ(feature(never, r, FeatureId::kTerminalFraudRate30d), 0.0F) << r;
  }
}

TEST_F(LabelDelay, TransactionsBeforeTheWindowOnlyWarmTheState) {
  Dataset d = build(7, *parse_rfc3339("2026-03-02T00:00:00Z"));
  ASSERT_EQ(d.rows(), 2u);
  EXPECT_EQ(d.warmup, 1u);
  EXPECT_EQ(d.positives(), 0u);
  // The warm-up transaction still counts in the merchant's history.
  EXPECT_GE(feature(d, 0, FeatureId::kMerchantTxCount7d), 1.0F);
  EXPECT_EQ(d.ts[0], *parse_rfc3339("2026-03-04T10:00:00Z"));
  EXPECT_EQ(d.pattern_names[d.pattern[0]], "");
  Dataset all = build(7);
  EXPECT_EQ(all.pattern_names[all.pattern[0]], "card_testing");
}

// A history folder with labels.jsonl: the transactions carry no label; the file labels t1 as
// fraud on day 2. Fed at max(labelled_at, ts + delay); rows take their truth from the file.
TEST(Dataset, LabelFilesInAFolderAreFedNoEarlierThanTheDelay) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.file("h"));
  {
    std::ofstream out(dir.file("h/2026-03.jsonl"));
    out << tx_line("t1", "2026-03-01T10:00:00Z", "A1", "")
        << tx_line("t2", "2026-03-04T10:00:00Z", "A2", "legit")
        << tx_line("t4", "2026-03-10T10:00:00Z", "A3", "");
    LabelEvent l;
    l.transaction_id = "t1";
    l.account_id = "A1";
    l.merchant_id = "M1";
    l.terminal_id = "T1";
    l.transaction_ts = *parse_rfc3339("2026-03-01T10:00:00Z");
    l.labelled_at = *parse_rfc3339("2026-03-03T00:00:00Z");
    l.label = Label::kFraud;
    l.source = "chargeback";
    std::ofstream(dir.file("h/labels.jsonl")) << to_json(l) << "\n";
  }
  auto build = [&](int64_t delay_days) {
    DatasetOptions o;
    o.input = dir.file("h");
    o.label_delay_us = delay_days * kMicrosPerDay;
    auto d = build_dataset(o);
    EXPECT_TRUE(d.ok()) << d.error().message();
    return std::move(*d);
  };
  Dataset seven = build(7);
  ASSERT_EQ(seven.label_files.size(), 1u);
  EXPECT_EQ(seven.rejected, 0u);
  ASSERT_EQ(seven.rows(), 2u);  // t1 (label from the file) and t2 (its own label)
  EXPECT_EQ(seven.positives(), 1u);
  EXPECT_EQ(seven.unlabelled, 1u);
  EXPECT_EQ(seven.labels_applied, 1u);  // due day 8, before t4
  EXPECT_EQ(feature(seven, 1, FeatureId::kMerchantFraudRate30d), 0.0F);
  Dataset one = build(1);  // due at labelled_at (day 2), before t2
  EXPECT_EQ(one.labels_applied, 1u);
  EXPECT_GT(feature(one, 1, FeatureId::kMerchantFraudRate30d), 0.0F);
  Dataset never = build(30);
  EXPECT_EQ(never.labels_applied, 0u);
}

TEST(Dataset, MissingInputIsAnErrorNamingThePath) {
  DatasetOptions o;
  o.input = "/nonexistent/history";
  auto d = build_dataset(o);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message().find("/nonexistent/history"), std::string::npos);
}

TEST(Dataset, SimulatedHistoryRowsAreInTimeOrderWithEveryPattern) {
  testing::TempDir dir;
  SimulatorConfig c;
  c.seed = 5;
  c.customers = 500;
  c.merchants = 100;
  c.fraud_ratio = 0.02;
  HistoryOptions h;
  h.out_dir = dir.file("hist");
  h.from = *parse_rfc3339("2026-03-01T00:00:00Z");
  h.to = *parse_rfc3339("2026-03-15T00:00:00Z");
  auto stats = write_history(c, h);
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  DatasetOptions o;
  o.input = h.out_dir;
  o.window_from = *parse_rfc3339("2026-03-05T00:00:00Z");
  auto d = build_dataset(o);
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->transactions_read, stats->transactions);
  EXPECT_EQ(d->rows() + d->warmup + d->unlabelled, stats->transactions);
  EXPECT_GT(d->warmup, 0u);
  EXPECT_EQ(d->out_of_order, 0u);
  for (size_t i = 1; i < d->rows(); ++i) ASSERT_LE(d->ts[i - 1], d->ts[i]) << i;
  EXPECT_GT(d->positives(), 0u);
  EXPECT_GT(d->pattern_names.size(), 3u);
}

}  // namespace
}  // namespace fw
