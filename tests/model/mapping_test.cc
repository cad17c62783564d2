#include "model/mapping.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/hash.h"
#include "testing/paths.h"

namespace fw {
namespace {

std::string path_of(const std::string& rel) { return (fw::testing::source_dir() / rel).string(); }

Timestamp utc(int64_t y, unsigned m, unsigned d, int h, int min, int s) {
  return days_from_civil(y, m, d) * kMicrosPerDay + h * kMicrosPerHour + min * kMicrosPerMinute +
         s * kMicrosPerSecond;
}

// Reads tests/model/data/foreign_bank.csv through config/mappings/example.yaml.
TEST(ColumnMapping, ReadsAForeignCsvThroughTheExampleMapping) {
  auto mapping = ColumnMapping::from_yaml_file(path_of("config/mappings/example.yaml"));
  ASSERT_TRUE(mapping.ok()) << mapping.error().message();
  EXPECT_EQ(mapping->delimiter, ';');
  EXPECT_TRUE(mapping->amount_in_minor_units);

  std::ifstream in(path_of("tests/model/data/foreign_bank.csv"));
  ASSERT_TRUE(in);
  std::string line;
  std::vector<std::string> fields;
  ASSERT_TRUE(std::getline(in, line));
  ASSERT_TRUE(split_csv_record(line, fields, ';').ok());
  auto decoder = RecordDecoder::for_csv(*mapping, fields, nullptr);
  ASSERT_TRUE(decoder.ok()) << decoder.error().message();

  std::vector<Transaction> txs;
  while (std::getline(in, line)) {
    ASSERT_TRUE(split_csv_record(line, fields, ';').ok()) << line;
    Transaction tx;
    Status s = decoder->decode_csv(fields, tx);
    ASSERT_TRUE(s.ok()) << line << ": " << s.error().message();
    txs.push_back(tx);
  }
  ASSERT_EQ(txs.size(), 4u);

  EXPECT_EQ(txs[0].id, "R-1001");
  EXPECT_EQ(txs[0].ts, utc(2026, 11, 23, 14, 5, 0));  // 15:05 CET
  EXPECT_EQ(txs[0].account_id, "C-77");
  EXPECT_EQ(txs[0].amount, (Money{1250, Currency::of("EUR")}));
  EXPECT_EQ(txs[0].type, TxType::kCardPurchase);
  EXPECT_EQ(txs[0].channel, Channel::kPos);
  EXPECT_EQ(txs[0].merchant_id, "SHOP-9");
  EXPECT_EQ(txs[0].mcc, 5411);
  EXPECT_EQ(txs[0].country.code(), "DE");
  EXPECT_EQ(txs[0].label, Label::kLegit);
  EXPECT_EQ(txs[0].account_key, hash_id("C-77"));

  EXPECT_EQ(txs[1].amount, (Money{99, Currency::of("EUR")}));  // default currency
  EXPECT_EQ(txs[1].channel, Channel::kEcommerce);
  EXPECT_EQ(txs[1].merchant_id, "Shop; Online");
  EXPECT_EQ(txs[1].label, Label::kFraud);

  EXPECT_EQ(txs[2].ts, utc(2026, 11, 23, 23, 30, 0));  // crosses midnight back to UTC
  EXPECT_EQ(txs[2].amount, (Money{20000, Currency::of("JPY")}));
  EXPECT_EQ(txs[2].type, TxType::kWithdrawal);
  EXPECT_EQ(txs[2].channel, Channel::kPos);  // defaults.channel
  EXPECT_EQ(txs[2].label, Label::kUnknown);

  EXPECT_EQ(txs[3].type, TxType::kTransfer);
  EXPECT_EQ(txs[3].channel, Channel::kMobileApp);
  EXPECT_FALSE(txs[3].country.known());
  EXPECT_EQ(txs[3].label, Label::kLegit);
}

TEST(ColumnMapping, BadRecordsNameTheField) {
  auto mapping = ColumnMapping::from_yaml_file(path_of("config/mappings/example.yaml"));
  ASSERT_TRUE(mapping.ok());
  std::vector<std::string> header = {"txn_ref",  "event_time", "customer", "amt",
                                     "ccy",      "kind",       "via",      "shop",
                                     "shop_cat", "country",    "is_fraud"};
  auto decoder = RecordDecoder::for_csv(*mapping, header, nullptr);
  ASSERT_TRUE(decoder.ok());
  struct Case {
    std::vector<std::string> row;
    std::string field;
    std::string reason;
  };
  const Case cases[] = {
      {{"R", "2026-11-23 15:05:00", "C", "1", "", "PURCHASE", "", "", "", "", ""},
       "ts",
       "does not match"},
      {{"R", "23.11.2026 15:05:00", "C", "12.50", "", "PURCHASE", "", "", "", "", ""},
       "amount",
       "minor units"},
      {{"R", "23.11.2026 15:05:00", "C", "1", "", "REFUND", "", "", "", "", ""},
       "type",
       "'REFUND' is not a transaction type"},
      {{"R", "23.11.2026 15:05:00", "C", "1", "", "PURCHASE", "", "", "", "", "maybe"},
       "label",
       "neither a fraud value nor a legit value"},
      {{"R", "31.02.2026 15:05:00", "C", "1", "", "PURCHASE", "", "", "", "", ""},
       "ts",
       "out of range"},
      {{"R", "23.11.2026 15:05:00"}, "", "row has 2 fields; the header has 11"},
  };
  for (const auto& c : cases) {
    Transaction tx;
    Status s = decoder->decode_csv(c.row, tx);
    ASSERT_FALSE(s.ok()) << c.reason;
    EXPECT_EQ(s.error().field, c.field) << s.error().message();
    EXPECT_NE(s.error().reason.find(c.reason), std::string::npos) << s.error().message();
  }
}

TEST(ColumnMapping, HeaderWithoutARequiredColumnIsAnError) {
  auto mapping = ColumnMapping::from_yaml_file(path_of("config/mappings/example.yaml"));
  ASSERT_TRUE(mapping.ok());
  auto decoder =
      RecordDecoder::for_csv(*mapping, {"txn_ref", "customer", "amt", "is_fraud"}, nullptr);
  ASSERT_FALSE(decoder.ok());
  EXPECT_EQ(decoder.error().field, "ts");
  EXPECT_NE(decoder.error().reason.find("column 'event_time'"), std::string::npos);
}

TEST(ColumnMapping, ReadsJsonLinesWithEpochMillis) {
  auto mapping = ColumnMapping::from_yaml_string(R"(
format: jsonl
columns: {id: ref, ts: when, account_id: who, amount: value, currency: cur, type: kind}
timestamp_format: epoch_ms
defaults: {channel: ecommerce}
label: {column: fraud, fraud_values: ["true"], legit_values: ["false"]}
)",
                                                 "inline");
  ASSERT_TRUE(mapping.ok()) << mapping.error().message();
  auto decoder = RecordDecoder::for_jsonl(*mapping, nullptr);
  Transaction tx;
  Status s = decoder.decode_json(R"({"ref":"x1","when":1795442700250,"who":"A","value":12.5,)"
                                 R"("cur":"USD","kind":"transfer","fraud":true,"extra":[1]})",
                                 tx);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(tx.id, "x1");
  EXPECT_EQ(tx.ts, 1795442700250000);
  EXPECT_EQ(tx.amount, (Money{1250, Currency::of("USD")}));
  EXPECT_EQ(tx.channel, Channel::kEcommerce);
  EXPECT_EQ(tx.label, Label::kFraud);
}

TEST(ColumnMapping, TimestampFormats) {
  ColumnMapping m;
  m.timestamp_format = TimestampFormat::kIso8601;
  m.timezone_offset_minutes = -300;
  EXPECT_EQ(*parse_mapped_timestamp(m, "2026-01-01T00:00:00"), utc(2026, 1, 1, 5, 0, 0));
  EXPECT_EQ(*parse_mapped_timestamp(m, "2026-01-01T00:00:00+01:00"), utc(2025, 12, 31, 23, 0, 0));
  m.timestamp_format = TimestampFormat::kEpochSeconds;
  EXPECT_EQ(*parse_mapped_timestamp(m, "1700000000.5"), 1700000000500000);
  EXPECT_FALSE(parse_mapped_timestamp(m, "17e8").ok());
  m.timestamp_format = TimestampFormat::kPattern;
  m.timestamp_pattern = "%b %e %Y %I:%M:%S.%f %p %z";
  EXPECT_EQ(*parse_mapped_timestamp(m, "Nov  3 2026 01:02:03.5 PM +0200"),
            utc(2026, 11, 3, 11, 2, 3) + 500000);
  m.timestamp_pattern = "%F %T";
  EXPECT_EQ(*parse_mapped_timestamp(m, "2026-11-03 13:02:03"), utc(2026, 11, 3, 18, 2, 3));
  EXPECT_FALSE(parse_mapped_timestamp(m, "2026-11-03 13:02:03 extra").ok());
  EXPECT_FALSE(parse_mapped_timestamp(m, "2025-02-29 00:00:00").ok());
}

TEST(ColumnMapping, YamlErrorsNameTheLineAndColumn) {
  struct Case {
    std::string yaml;
    std::string fragment;
  };
  const Case cases[] = {
      {"format: csv\ncolums: {id: a}\n", "bad.yaml:2:1: colums: unknown key"},
      {"format: xml\n", "bad.yaml:1:9: format: 'xml' is not a format"},
      {"columns:\n  id: a\n  idd: b\n",
       "bad.yaml:3:3: columns.idd: 'idd' is not a fraudwatch field"},
      {"columns: {id: a, ts: b, account_id: c, amount: d, type: e, channel: f}\n",
       "required field 'currency' has no column and there is no default_currency"},
      {"columns: {id: a}\ntimestamp_format: \"%Y-%Q\"\n",
       "bad.yaml:2:19: timestamp_format: "
       "unsupported pattern directive %Q"},
      {"default_currency: EURO\n", "bad.yaml:1:19: default_currency: currency must be"},
      {"columns: [a, b\n", "bad.yaml:"},
      {"timezone_offset_minutes: 2000\n", "is not an integer in -840..840"},
      {"defaults: {id: x}\n", "defaults.id: cannot have a default"},
  };
  for (const auto& c : cases) {
    auto m = ColumnMapping::from_yaml_string(c.yaml, "bad.yaml");
    ASSERT_FALSE(m.ok()) << c.yaml;
    EXPECT_NE(m.error().message().find(c.fragment), std::string::npos)
        << "got: " << m.error().message() << "\nwanted: " << c.fragment;
  }
  auto missing = ColumnMapping::from_yaml_file("/nonexistent/mapping.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/nonexistent/mapping.yaml"), std::string::npos);
}

}  // namespace
}  // namespace fw
