#include "sources/file_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/hash.h"
#include "model/csv_codec.h"
#include "model/json_codec.h"
#include "testing/paths.h"

namespace fw {
namespace {

using fw::testing::TempDir;

Transaction make_tx(int i) {
  Transaction tx;
  tx.id = "tx-" + std::to_string(i);
  tx.ts = 1767225600LL * kMicrosPerSecond + i * kMicrosPerSecond;
  tx.account_id = "A" + std::to_string(i % 3);
  tx.amount = Money{100 + i, Currency::of("EUR")};
  tx.type = TxType::kCardPurchase;
  tx.channel = Channel::kEcommerce;
  tx.merchant_id = "M" + std::to_string(i % 2);
  tx.finalize_keys();
  return tx;
}

void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

struct ReadAll {
  std::vector<Transaction> txs;
  std::vector<DeadLetter> dead;
  int batches = 0;
};

ReadAll read_all(FileReader& reader, size_t max) {
  ReadAll r;
  while (reader.next_batch(r.txs, r.dead, max)) {
    ++r.batches;
    EXPECT_LT(r.batches, 10000) << "reader does not terminate";
    if (r.batches >= 10000) break;
  }
  return r;
}

std::vector<std::string> ids(const std::vector<Transaction>& txs) {
  std::vector<std::string> out;
  for (const auto& tx : txs) out.push_back(tx.id);
  return out;
}

TEST(FileReader, ReturnsGoodLinesInOrderAndBadOnesAsDeadLetters) {
  TempDir dir;
  std::string path = dir.file("history.jsonl");
  std::string text;
  text += to_json(make_tx(1)) + "\n";    // line 1
  text += "this is not json\n";          // line 2
  text += to_json(make_tx(2)) + "\r\n";  // line 3
  text += "\n";                          // line 4: blank
  std::string bad_amount = to_json(make_tx(99));
  bad_amount.replace(bad_amount.find("\"1.99\""), 6, "\"1.999\"");
  text += bad_amount + "\n";  // line 5
  text += R"({"ts":"2026-01-01T00:00:00Z","account_id":"A","amount":"1",)"
          R"("currency":"EUR","type":"deposit","channel":"atm"})"
          "\n";                                                     // line 6
  for (int i = 3; i <= 9; ++i) text += to_json(make_tx(i)) + "\n";  // lines 7-13
  text += to_json(make_tx(10));                                     // 14, no newline
  write_file(path, text);

  auto reader = FileReader::open(path, nullptr, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  EXPECT_EQ((*reader)->total_bytes(), text.size());
  ManualClock clock(42);
  (*reader)->set_clock(&clock);
  ReadAll all = read_all(**reader, 3);

  EXPECT_EQ(ids(all.txs), (std::vector<std::string>{"tx-1", "tx-2", "tx-3", "tx-4", "tx-5", "tx-6",
                                                    "tx-7", "tx-8", "tx-9", "tx-10"}));
  EXPECT_EQ(all.txs[1].amount.minor, 102);
  EXPECT_EQ(all.txs[1].account_key, hash_id("A2"));
  ASSERT_EQ(all.dead.size(), 3u);
  EXPECT_EQ(all.dead[0].source, "file:" + path + ":2");
  EXPECT_EQ(all.dead[0].raw, "this is not json");
  EXPECT_EQ(all.dead[0].field, "");
  EXPECT_EQ(all.dead[0].received_at, 42);
  EXPECT_EQ(all.dead[1].source, "file:" + path + ":5");
  EXPECT_EQ(all.dead[1].field, "amount");
  EXPECT_NE(all.dead[1].reason.find("more decimals than EUR allows"), std::string::npos);
  EXPECT_EQ(all.dead[1].raw, bad_amount);
  EXPECT_EQ(all.dead[2].source, "file:" + path + ":6");
  EXPECT_EQ(all.dead[2].field, "id");
  EXPECT_EQ((*reader)->records_read(), 13u);
  EXPECT_EQ((*reader)->bytes_read(), text.size());
  EXPECT_GE(all.batches, 4);  // batches of at most 3
  // Exhausted: stays exhausted.
  std::vector<Transaction> more;
  std::vector<DeadLetter> more_dead;
  EXPECT_FALSE((*reader)->next_batch(more, more_dead, 100));
  EXPECT_TRUE(more.empty());
}

TEST(FileReader, ReadsADirectoryRecursivelyInNameOrder) {
  TempDir dir;
  write_file(dir.file("out/2026-01-02.jsonl"), to_json(make_tx(3)) + "\n" + to_json(make_tx(4)));
  write_file(dir.file("out/2026-01-01.jsonl"), to_json(make_tx(1)) + "\n" + to_json(make_tx(2)));
  write_file(dir.file("out/date=2026-01-03/part-0.jsonl"), to_json(make_tx(5)) + "\n");
  write_file(dir.file("out/date=2026-01-03/part-1.ndjson"), to_json(make_tx(6)) + "\n");
  write_file(dir.file("out/README.txt"), "not data\n");
  write_file(dir.file("out/.partial.jsonl"), "garbage being written\n");
  auto reader = FileReader::open(dir.file("out"), nullptr, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  EXPECT_EQ((*reader)->files().size(), 4u);
  ReadAll all = read_all(**reader, 1000);
  EXPECT_EQ(ids(all.txs),
            (std::vector<std::string>{"tx-1", "tx-2", "tx-3", "tx-4", "tx-5", "tx-6"}));
  EXPECT_TRUE(all.dead.empty());
  EXPECT_EQ((*reader)->bytes_read(), (*reader)->total_bytes());
}

TEST(FileReader, ListsLabelFilesOfADirectoryInsteadOfReadingThemAsTransactions) {
  TempDir dir;
  write_file(dir.file("2026-01-01.jsonl"), to_json(make_tx(1)) + "\n" + to_json(make_tx(2)) + "\n");
  LabelEvent label;
  label.transaction_id = "tx-1";
  label.account_id = "A1";
  label.transaction_ts = make_tx(1).ts;
  label.labelled_at = label.transaction_ts + kMicrosPerDay;
  label.label = Label::kFraud;
  label.source = "chargeback";
  write_file(dir.file("labels.jsonl"), to_json(label) + "\n");
  auto reader = FileReader::open(dir.path().string(), nullptr, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  ReadAll all = read_all(**reader, 100);
  EXPECT_EQ(ids(all.txs), (std::vector<std::string>{"tx-1", "tx-2"}));
  EXPECT_TRUE(all.dead.empty()) << all.dead.front().reason;
  ASSERT_EQ((*reader)->label_files().size(), 1u);
  EXPECT_EQ((*reader)->label_files()[0], dir.file("labels.jsonl"));
}

TEST(FileReader, ADirectoryWithOnlyLabelsHasNoTransactionFiles) {
  TempDir dir;
  write_file(dir.file("labels.jsonl"), "");
  auto reader = FileReader::open(dir.path().string(), nullptr, nullptr);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().reason.find("has no"), std::string::npos) << reader.error().reason;
}

TEST(FileReader, ReadsCanonicalCsvWithAHeader) {
  TempDir dir;
  std::string text = std::string(csv_header()) + "\n";
  for (int i = 1; i <= 3; ++i) {
    append_csv_row(text, make_tx(i));
    text += "\r\n";
  }
  text += "tx-bad,2026-01-01T00:00:00Z,A,1.00,EUR,card_purchase,pos,,,,,,,,,,,false,,,\n";  // 21
  text += "tx-q,\"2026-01-01T00:00:00Z\n";  // unbalanced quote
  write_file(dir.file("h.csv"), text);
  auto reader = FileReader::open(dir.file("h.csv"), nullptr, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  ReadAll all = read_all(**reader, 10);
  EXPECT_EQ(ids(all.txs), (std::vector<std::string>{"tx-1", "tx-2", "tx-3", "tx-bad"}));
  EXPECT_EQ(all.txs[2].amount.minor, 103);
  ASSERT_EQ(all.dead.size(), 1u);
  EXPECT_EQ(all.dead[0].source, "file:" + dir.file("h.csv") + ":6");
  EXPECT_NE(all.dead[0].reason.find("unbalanced quote"), std::string::npos);
}

TEST(FileReader, CsvMustStartWithAHeader) {
  TempDir dir;
  std::string text;
  append_csv_row(text, make_tx(1));
  write_file(dir.file("noheader.csv"), text + "\n");
  auto reader = FileReader::open(dir.file("noheader.csv"), nullptr, nullptr);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().message().find("noheader.csv:1: CSV header"), std::string::npos)
      << reader.error().message();
}

TEST(FileReader, ReadsAForeignCsvThroughTheExampleMapping) {
  auto mapping = ColumnMapping::from_yaml_file(
      (fw::testing::source_dir() / "config/mappings/example.yaml").string());
  ASSERT_TRUE(mapping.ok()) << mapping.error().message();
  std::string path = (fw::testing::source_dir() / "tests/model/data/foreign_bank.csv").string();
  auto reader = FileReader::open(path, &*mapping, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  ReadAll all = read_all(**reader, 2);
  EXPECT_EQ(ids(all.txs), (std::vector<std::string>{"R-1001", "R-1002", "R-1003", "R-1004"}));
  EXPECT_TRUE(all.dead.empty());
  EXPECT_EQ(all.txs[1].label, Label::kFraud);
}

TEST(FileReader, MissingOrUnreadableInputIsAnErrorNamingThePath) {
  auto missing = FileReader::open("/nonexistent/history.jsonl", nullptr, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/nonexistent/history.jsonl"), std::string::npos);
  TempDir dir;
  write_file(dir.file("data.bin"), "x\n");
  auto unknown = FileReader::open(dir.file("data.bin"), nullptr, nullptr);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("cannot tell the format"), std::string::npos);
  std::filesystem::create_directories(dir.file("empty"));
  auto empty = FileReader::open(dir.file("empty"), nullptr, nullptr);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message().find("has no"), std::string::npos);
}

TEST(FileReader, OverlongLinesAreDeadLettersWithoutUnboundedBuffering) {
  TempDir dir;
  std::string huge(3 << 20, 'x');
  write_file(dir.file("big.jsonl"), to_json(make_tx(1)) + "\n" + huge + "\n" +
                                        std::string(100000, ' ') + "{}\n" + to_json(make_tx(2)));
  auto reader = FileReader::open(dir.file("big.jsonl"), nullptr, nullptr);
  ASSERT_TRUE(reader.ok());
  ReadAll all = read_all(**reader, 10);
  EXPECT_EQ(ids(all.txs), (std::vector<std::string>{"tx-1", "tx-2"}));
  ASSERT_EQ(all.dead.size(), 2u);
  EXPECT_EQ(all.dead[0].source, "file:" + dir.file("big.jsonl") + ":2");
  EXPECT_EQ(all.dead[0].raw.size(), kMaxDeadLetterRawBytes);
  EXPECT_NE(all.dead[0].reason.find("line is 3145728 bytes"), std::string::npos);
  EXPECT_NE(all.dead[1].reason.find("the limit is 65536"), std::string::npos);
}

TEST(FileReader, TokenizesCardNumbersFromFiles) {
  TempDir dir;
  std::string line = to_json(make_tx(1));
  line.insert(line.size() - 1, R"(,"card_number":"4111111111111111")");
  write_file(dir.file("cards.jsonl"), line + "\n");
  PanTokenizer tokenizer("k");
  auto reader = FileReader::open(dir.file("cards.jsonl"), nullptr, &tokenizer);
  ASSERT_TRUE(reader.ok());
  ReadAll all = read_all(**reader, 10);
  ASSERT_EQ(all.txs.size(), 1u);
  EXPECT_EQ(all.txs[0].card_token, *tokenizer.tokenize("4111111111111111"));
}

}  // namespace
}  // namespace fw
