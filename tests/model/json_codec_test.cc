#include "model/json_codec.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/hash.h"
#include "model/transaction_testing.h"
#include "testing/paths.h"

namespace fw {
namespace {

using fw::testing::expect_same;
using fw::testing::full_transaction;

constexpr std::string_view kSpecExample =
    R"({"id":"tx-1","ts":"2026-11-23T14:05:00Z","account_id":"A1","amount":"12.50","currency":"EUR",)"
    R"("type":"card_purchase","channel":"pos","merchant_id":"M1","mcc":5411,"terminal_id":"T1",)"
    R"("country":"DE","lat":52.52,"lon":13.40,"utc_offset_minutes":60,"device_id":"D1","ip":"10.0.0.1",)"
    R"("counterparty":"","card_present":true,"card_token":"tok_abc","label":"fraud",)"
    R"("fraud_pattern":"card_testing"})";

TEST(JsonDecoder, DecodesTheDocumentedExample) {
  JsonDecoder dec;
  auto tx = dec.decode(kSpecExample);
  ASSERT_TRUE(tx.ok()) << tx.error().message();
  EXPECT_EQ(tx->id, "tx-1");
  EXPECT_EQ(tx->ts, 1795442700LL * kMicrosPerSecond);
  EXPECT_EQ(tx->account_id, "A1");
  EXPECT_EQ(tx->amount.minor, 1250);
  EXPECT_EQ(tx->amount.currency, Currency::of("EUR"));
  EXPECT_EQ(tx->type, TxType::kCardPurchase);
  EXPECT_EQ(tx->channel, Channel::kPos);
  EXPECT_EQ(tx->merchant_id, "M1");
  EXPECT_EQ(tx->mcc, 5411);
  EXPECT_EQ(tx->terminal_id, "T1");
  EXPECT_EQ(tx->country.code(), "DE");
  EXPECT_TRUE(tx->has_location);
  EXPECT_DOUBLE_EQ(tx->lat, 52.52);
  EXPECT_DOUBLE_EQ(tx->lon, 13.40);
  EXPECT_EQ(tx->utc_offset_minutes, 60);
  EXPECT_EQ(tx->device_id, "D1");
  EXPECT_EQ(tx->ip, "10.0.0.1");
  EXPECT_EQ(tx->counterparty, "");
  EXPECT_TRUE(tx->card_present);
  EXPECT_EQ(tx->card_token, "tok_abc");
  EXPECT_EQ(tx->label, Label::kFraud);
  EXPECT_EQ(tx->fraud_pattern, "card_testing");
  EXPECT_EQ(tx->account_key, hash_id("A1"));
  EXPECT_EQ(tx->merchant_key, hash_id("M1"));
  EXPECT_EQ(tx->terminal_key, hash_id("T1"));
  EXPECT_EQ(tx->device_key, hash_id("D1"));
}

TEST(JsonDecoder, AmountIsExactFromTheNumberToken) {
  JsonDecoder dec;
  // 0.29 is not representable as a double; 1234567890123.45 loses cents through a double.
  auto a = dec.decode(R"({"id":"t","ts":"2026-01-01T00:00:00Z","account_id":"A","amount":0.29,)"
                      R"("currency":"EUR","type":"transfer","channel":"branch"})");
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->amount.minor, 29);
  auto b = dec.decode(R"({"id":"t","ts":"2026-01-01T00:00:00Z","account_id":"A",)"
                      R"("amount":1234567890123.45 ,"currency":"EUR","type":"transfer",)"
                      R"("channel":"branch"})");
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(b->amount.minor, 123456789012345);
  // Currency after amount, and a 3-decimal currency.
  auto c = dec.decode(R"({"amount":"1.125","currency":"KWD","id":"t","ts":"2026-01-01T00:00:00Z",)"
                      R"("account_id":"A","type":"deposit","channel":"atm"})");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->amount.minor, 1125);
}

TEST(JsonDecoder, NotGivenMeansAbsentNullOrEmptyAndUnknownFieldsAreIgnored) {
  JsonDecoder dec;
  auto tx = dec.decode(
      R"({"id":"t","ts":"2026-01-01T00:00:00+01:00","account_id":"A","amount":"5",)"
      R"("currency":"JPY","type":"withdrawal","channel":"atm","merchant_id":null,"mcc":null,)"
      R"("country":"","lat":null,"lon":null,"label":null,"future_field":{"nested":[1,2,{"x":null}]},)"
      R"("another":"\u00e9\n"})"
      "\r");
  ASSERT_TRUE(tx.ok()) << tx.error().message();
  EXPECT_EQ(tx->ts, (1767225600LL - 3600) * kMicrosPerSecond);
  EXPECT_EQ(tx->amount.minor, 5);
  EXPECT_EQ(tx->merchant_id, "");
  EXPECT_EQ(tx->merchant_key, 0u);
  EXPECT_EQ(tx->mcc, 0);
  EXPECT_FALSE(tx->country.known());
  EXPECT_FALSE(tx->has_location);
  EXPECT_EQ(tx->label, Label::kUnknown);
  EXPECT_FALSE(tx->utc_offset_minutes.has_value());
}

TEST(JsonDecoder, LabelAcceptsNumbersAndBooleans) {
  JsonDecoder dec;
  std::string base =
      R"({"id":"t","ts":"2026-01-01T00:00:00Z","account_id":"A","amount":"5","currency":"EUR",)"
      R"("type":"deposit","channel":"branch","label":)";
  EXPECT_EQ(dec.decode(base + "1}")->label, Label::kFraud);
  EXPECT_EQ(dec.decode(base + "0}")->label, Label::kLegit);
  EXPECT_EQ(dec.decode(base + "true}")->label, Label::kFraud);
  EXPECT_EQ(dec.decode(base + "false}")->label, Label::kLegit);
  EXPECT_EQ(dec.decode(base + "\"legit\"}")->label, Label::kLegit);
  EXPECT_EQ(dec.decode(base + "null}")->label, Label::kUnknown);
}

TEST(JsonCodec, RoundTripsEveryField) {
  JsonDecoder dec;
  Transaction tx = full_transaction();
  std::string line = to_json(tx);
  auto back = dec.decode(line);
  ASSERT_TRUE(back.ok()) << back.error().message() << "\n" << line;
  expect_same(*back, tx);

  // Minimal transaction: optional fields stay absent.
  Transaction min;
  min.id = "m";
  min.ts = -1;  // before the epoch, with a fraction
  min.account_id = "acc";
  min.amount = Money{7, Currency::of("JPY")};
  min.type = TxType::kBillPayment;
  min.channel = Channel::kOnlineBanking;
  min.finalize_keys();
  line = to_json(min);
  EXPECT_EQ(line.find("merchant_id"), std::string::npos);
  back = dec.decode(line);
  ASSERT_TRUE(back.ok()) << back.error().message() << "\n" << line;
  expect_same(*back, min);
}

TEST(JsonCodec, RoundTripsManyVariedTransactions) {
  JsonDecoder dec;
  Transaction tx = full_transaction();
  const char* currencies[] = {"EUR", "JPY", "KWD", "USD"};
  for (int i = 0; i < 500; ++i) {
    tx.id = "tx-" + std::to_string(i) + (i % 7 == 0 ? "\"quoted\\" : "");
    tx.ts = 1700000000000000LL + i * 1234567LL;
    tx.amount = Money{1 + i * 997LL, Currency::parse(currencies[i % 4]).value()};
    tx.type = static_cast<TxType>(i % kTxTypeCount);
    tx.channel = static_cast<Channel>(i % kChannelCount);
    tx.mcc = static_cast<uint16_t>(i % 10000);
    tx.has_location = i % 3 != 0;
    tx.lat = tx.has_location ? -89.999999 + i * 0.3517 : 0;
    tx.lon = tx.has_location ? 179.123456789 - i * 0.71 : 0;
    tx.utc_offset_minutes = i % 5 == 0 ? std::nullopt : std::optional<int16_t>(i % 841 - 420);
    tx.card_present = i % 2 == 0;
    tx.label = static_cast<Label>(i % 3 - 1);
    tx.finalize_keys();
    Transaction back;
    Status s = dec.decode_into(to_json(tx), back);
    ASSERT_TRUE(s.ok()) << s.error().message() << "\n" << to_json(tx);
    expect_same(back, tx);
  }
}

TEST(JsonCodec, EscapesStringsCorrectly) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\n\t\x01\x1f\xc3\xa9", 11));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\xc3\xa9\"");
}

TEST(JsonDecoder, DecodeIntoOverwritesEveryFieldOfAReusedTransaction) {
  JsonDecoder dec;
  Transaction tx = full_transaction();
  ASSERT_TRUE(dec.decode_into(R"({"id":"n","ts":"2026-01-01T00:00:00Z","account_id":"B",)"
                              R"("amount":"1","currency":"USD","type":"transfer",)"
                              R"("channel":"mobile_app"})",
                              tx)
                  .ok());
  Transaction expected;
  expected.id = "n";
  expected.ts = 1767225600LL * kMicrosPerSecond;
  expected.account_id = "B";
  expected.amount = Money{100, Currency::of("USD")};
  expected.type = TxType::kTransfer;
  expected.channel = Channel::kMobileApp;
  expected.finalize_keys();
  expect_same(tx, expected);
}

TEST(JsonDecoder, TokenizesCardNumbersAndNeverKeepsThemInClear) {
  PanTokenizer tokenizer("test-key");
  JsonDecoder dec(&tokenizer);
  std::string line =
      R"({"id":"t","ts":"2026-01-01T00:00:00Z","account_id":"A","amount":"5","currency":"EUR",)"
      R"("type":"card_purchase","channel":"ecommerce","card_number":"4111-1111-1111-1111"})";
  auto tx = dec.decode(line);
  ASSERT_TRUE(tx.ok()) << tx.error().message();
  EXPECT_EQ(tx->card_token, *tokenizer.tokenize("4111111111111111"));
  std::string json = to_json(*tx);
  EXPECT_EQ(json.find("4111"), std::string::npos);
  EXPECT_NE(json.find(tx->card_token), std::string::npos);

  JsonDecoder no_key;
  auto refused = no_key.decode(line);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "card_number");
  EXPECT_NE(refused.error().reason.find("refusing a clear card number without a PAN key"),
            std::string::npos);
}

TEST(JsonCodec, LabelEventsRoundTrip) {
  LabelEvent ev;
  ev.transaction_id = "tx-9";
  ev.account_id = "A1";
  ev.merchant_id = "M1";
  ev.terminal_id = "T1";
  ev.transaction_ts = 1795442700LL * kMicrosPerSecond;
  ev.labelled_at = ev.transaction_ts + 3 * kMicrosPerDay + 17;
  ev.label = Label::kFraud;
  ev.source = "chargeback";
  JsonDecoder dec;
  auto back = dec.decode_label(to_json(ev));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->transaction_id, ev.transaction_id);
  EXPECT_EQ(back->account_id, ev.account_id);
  EXPECT_EQ(back->merchant_id, ev.merchant_id);
  EXPECT_EQ(back->terminal_id, ev.terminal_id);
  EXPECT_EQ(back->transaction_ts, ev.transaction_ts);
  EXPECT_EQ(back->labelled_at, ev.labelled_at);
  EXPECT_EQ(back->label, ev.label);
  EXPECT_EQ(back->source, ev.source);

  auto missing = dec.decode_label(R"({"transaction_id":"t","account_id":"A",)"
                                  R"("transaction_ts":"2026-01-01T00:00:00Z",)"
                                  R"("labelled_at":"2026-01-02T00:00:00Z"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "label");
  auto bad_ts = dec.decode_label(R"({"transaction_id":"t","account_id":"A","label":"fraud",)"
                                 R"("transaction_ts":"2026-01-01T00:00:00Z","labelled_at":"x"})");
  ASSERT_FALSE(bad_ts.ok());
  EXPECT_EQ(bad_ts.error().field, "labelled_at");
}

// Expands the data file's two escapes: \xHH bytes and {{N*text}} repetitions.
std::string expand(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size();) {
    if (in.compare(i, 2, "\\x") == 0 && i + 4 <= in.size()) {
      out.push_back(static_cast<char>(std::stoi(in.substr(i + 2, 2), nullptr, 16)));
      i += 4;
    } else if (in.compare(i, 2, "{{") == 0 && in.find("}}", i) != std::string::npos &&
               in.find('*', i) < in.find("}}", i)) {
      size_t star = in.find('*', i);
      size_t end = in.find("}}", i);
      int n = std::stoi(in.substr(i + 2, star - i - 2));
      std::string text = in.substr(star + 1, end - star - 1);
      for (int k = 0; k < n; ++k) out += text;
      i = end + 2;
    } else {
      out.push_back(in[i++]);
    }
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

TEST(JsonDecoder, RejectsEveryCaseInTheMalformedInputFile) {
  std::ifstream in(fw::testing::source_dir() / "tests/model/data/bad_transactions.jsonl",
                   std::ios::binary);
  ASSERT_TRUE(in);
  PanTokenizer tokenizer("test-key");
  JsonDecoder with_key(&tokenizer);
  JsonDecoder without_key;
  std::string line;
  int cases = 0;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    ASSERT_EQ(line.rfind("// ", 0), 0u) << "line " << line_no << ": expected an expectation";
    std::string spec = line.substr(3);
    size_t bar = spec.find(" | ");
    ASSERT_NE(bar, std::string::npos) << "line " << line_no;
    std::string field = trim(spec.substr(0, bar));
    std::string rest = spec.substr(bar + 3);
    bool use_tokenizer = false;
    if (size_t bar2 = rest.rfind(" | "); bar2 != std::string::npos) {
      use_tokenizer = trim(rest.substr(bar2 + 3)) == "tokenizer";
      rest = rest.substr(0, bar2);
    }
    std::string reason = trim(rest);
    if (field == "-") field.clear();
    std::string input;
    ASSERT_TRUE(std::getline(in, input)) << "line " << line_no << ": no input after it";
    ++line_no;
    input = expand(input);
    auto result = (use_tokenizer ? with_key : without_key).decode(input);
    ++cases;
    ASSERT_FALSE(result.ok()) << "line " << line_no << " was accepted";
    EXPECT_EQ(result.error().field, field)
        << "line " << line_no << ": " << result.error().message();
    EXPECT_NE(result.error().reason.find(reason), std::string::npos)
        << "line " << line_no << ": reason '" << result.error().reason << "' lacks '" << reason
        << "'";
    // The decoder stays usable after every failure.
    ASSERT_TRUE(without_key.decode(kSpecExample).ok());
  }
  EXPECT_GE(cases, 80);
}

TEST(JsonDecoder, SurvivesEveryTruncationOfAValidLine) {
  JsonDecoder dec;
  std::string full(kSpecExample);
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = dec.decode(std::string_view(full).substr(0, n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes was accepted";
  }
  EXPECT_TRUE(dec.decode(full).ok());
}

// Every free-text field of a transaction reaches the stores (PostgreSQL refuses NUL bytes and
// invalid UTF-8 in text columns), so each one is checked at the JSON boundary and the error
// names the field.
TEST(JsonDecoder, TextFieldsRejectNulAndNonAsciiNamingTheField) {
  JsonDecoder dec;
  const std::vector<std::string> fields = {"id",           "account_id", "merchant_id",
                                           "terminal_id",  "device_id",  "ip",
                                           "counterparty", "card_token", "fraud_pattern"};
  for (const std::string& field : fields) {
    for (const std::string& bad :
         {std::string(R"(x\u0000y)"), std::string("x\xc3\xa9y"), std::string(R"(x\u0001y)")}) {
      std::string line(kSpecExample);
      const std::string key = "\"" + field + "\":\"";
      size_t at = line.find(key);
      ASSERT_NE(at, std::string::npos) << field;
      size_t start = at + key.size();
      size_t end = line.find('"', start);
      line.replace(start, end - start, bad);
      auto tx = dec.decode(line);
      ASSERT_FALSE(tx.ok()) << field << " accepted " << bad;
      EXPECT_EQ(tx.error().field, field) << tx.error().message();
    }
  }
}

}  // namespace
}  // namespace fw
