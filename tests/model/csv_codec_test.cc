#include "model/csv_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/mapping.h"
#include "model/transaction_testing.h"

namespace fw {
namespace {

using fw::testing::expect_same;
using fw::testing::full_transaction;

TEST(Csv, HeaderIsTheCanonicalFieldOrder) {
  EXPECT_EQ(csv_header(),
            "id,ts,account_id,amount,currency,type,channel,merchant_id,mcc,terminal_id,country,"
            "lat,lon,utc_offset_minutes,device_id,ip,counterparty,card_present,card_token,label,"
            "fraud_pattern");
}

TEST(Csv, WritesTheDocumentedRow) {
  Transaction tx = full_transaction();
  std::string row;
  append_csv_row(row, tx);
  EXPECT_EQ(row,
            "tx-1,2026-11-23T14:05:00.123456Z,A1,12.50,EUR,card_purchase,pos,M1,5411,T1,DE,52.52,"
            "13.405,60,D1,10.0.0.1,DE89 3704 0044 0532 0130 00,true,"
            "tok_0123456789abcdef0123456789abcdef,fraud,card_testing");
}

struct SplitCase {
  std::string line;
  std::vector<std::string> fields;
};

TEST(Csv, SplitsRecords) {
  const SplitCase cases[] = {
      {"a,b,c", {"a", "b", "c"}},
      {"", {""}},
      {",", {"", ""}},
      {"a,,c,", {"a", "", "c", ""}},
      {"\"a,b\",c", {"a,b", "c"}},
      {"\"he said \"\"hi\"\"\",x", {"he said \"hi\"", "x"}},
      {"\"\"", {""}},
      {"\"line\nbreak\",z\r", {"line\nbreak", "z"}},
      {"x,\"\"", {"x", ""}},
  };
  std::vector<std::string> fields;
  for (const auto& c : cases) {
    Status s = split_csv_record(c.line, fields);
    ASSERT_TRUE(s.ok()) << c.line << ": " << s.error().message();
    EXPECT_EQ(fields, c.fields) << c.line;
  }
  ASSERT_TRUE(split_csv_record("a;\"b;c\";d", fields, ';').ok());
  EXPECT_EQ(fields, (std::vector<std::string>{"a", "b;c", "d"}));
}

TEST(Csv, RejectsUnbalancedQuotes) {
  std::vector<std::string> fields;
  Status s = split_csv_record("a,\"bc,d", fields);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().reason.find("unbalanced quote"), std::string::npos);
  EXPECT_NE(s.error().reason.find("column 3"), std::string::npos);
  s = split_csv_record("\"ab\"c,d", fields);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().reason.find("after the closing quote"), std::string::npos);
}

// Writes rows, splits them again and decodes them through the canonical CSV mapping.
TEST(Csv, RoundTripsThroughTheCanonicalMapping) {
  std::vector<std::string> header;
  ASSERT_TRUE(split_csv_record(csv_header(), header).ok());
  auto decoder = RecordDecoder::for_csv(ColumnMapping::canonical(true), header, nullptr);
  ASSERT_TRUE(decoder.ok()) << decoder.error().message();

  Transaction tx = full_transaction();
  tx.counterparty = "has,comma \"and quotes\"";
  tx.fraud_pattern = "a,\"b\"";
  std::vector<Transaction> samples = {tx};
  Transaction min;
  min.id = "m";
  min.ts = 0;
  min.account_id = "acc";
  min.amount = Money{1, Currency::of("KWD")};
  min.type = TxType::kDeposit;
  min.channel = Channel::kBranch;
  min.label = Label::kLegit;
  min.finalize_keys();
  samples.push_back(min);

  std::vector<std::string> fields;
  for (const Transaction& original : samples) {
    std::string row;
    append_csv_row(row, original);
    ASSERT_TRUE(split_csv_record(row, fields).ok()) << row;
    ASSERT_EQ(fields.size(), kCanonicalFieldCount);
    Transaction back;
    Status s = decoder->decode_csv(fields, back);
    ASSERT_TRUE(s.ok()) << s.error().message() << "\n" << row;
    expect_same(back, original);
  }
}

TEST(TextRecord, DecodesCanonicalTextAndNamesTheFieldOnError) {
  TextRecord r;
  r[TxField::kId] = "t1";
  r[TxField::kTs] = "2026-01-01T00:00:00Z";
  r[TxField::kAccountId] = "A";
  r[TxField::kAmount] = "250";
  r[TxField::kCurrency] = "EUR";
  r[TxField::kType] = "transfer";
  r[TxField::kChannel] = "online_banking";
  r[TxField::kMcc] = " 0742 ";
  r.amount_in_minor_units = true;
  Transaction tx;
  ASSERT_TRUE(decode_text_record(r, nullptr, tx).ok());
  EXPECT_EQ(tx.amount.minor, 250);
  EXPECT_EQ(tx.mcc, 742);

  r[TxField::kAmount] = "2.50";
  Status s = decode_text_record(r, nullptr, tx);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "amount");
  EXPECT_NE(s.error().reason.find("minor units"), std::string::npos);

  r.amount_in_minor_units = false;
  r[TxField::kCardPresent] = "maybe";
  s = decode_text_record(r, nullptr, tx);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "card_present");
}

TEST(FieldNames, RoundTrip) {
  for (size_t i = 0; i < kTxFieldCount; ++i) {
    auto f = static_cast<TxField>(i);
    EXPECT_EQ(parse_field_name(field_name(f)), f);
  }
  EXPECT_FALSE(parse_field_name("amout").has_value());
}

}  // namespace
}  // namespace fw
