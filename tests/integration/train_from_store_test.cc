// `fraudwatch train --from-store`: the store's transactions (in time order, page by page) and its
// labels table go through the same replay as a history file. Checked: a history loaded into a
// SQLite store trains the byte-identical model that the history file trains with the same flags
// and seed; a store filled by `fraudwatch demo` (simulated ground truth and simulated
// chargebacks in the labels table) trains a model that ranks fraud well; a store without
// labels, a missing store and conflicting flags are refused with a message naming the flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sources/file_reader.h"
#include "sources/label_schedule.h"
#include "storage/sqlite_store.h"
#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;
using fw::testing::TempDir;

int run(const std::vector<std::string>& args, std::string* transcript = nullptr) {
  std::vector<std::string> argv = {fw::testing::fraudwatch_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv);
  while (p.read_line(600000)) {
  }
  const int code = p.wait();
  if (transcript != nullptr) *transcript = p.transcript();
  return code;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json metadata(const std::string& model) {
  return nlohmann::json::parse(slurp(model + "/metadata.json"));
}

// Writes every transaction of a history folder (in file order, with its decision-less default
// decision) and every label of its labels.jsonl into a fresh SQLite store in `data_dir`.
void load_history_into_store(const std::string& hist, const std::string& data_dir) {
  std::filesystem::create_directories(data_dir);
  auto store = open_sqlite_store({.path = data_dir + "/fraudwatch.db"});
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto reader = FileReader::open(hist, nullptr, nullptr);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  std::vector<Transaction> txs;
  std::vector<DeadLetter> dead;
  bool more = true;
  while (more) {
    txs.clear();
    more = (*reader)->next_batch(txs, dead, 5000);
    WriteBatch b;
    for (Transaction& tx : txs) {
      Scored s;
      s.decision.transaction_id = tx.id;
      s.decision.decided_at = tx.ts;
      s.tx = std::move(tx);
      b.scored.push_back(std::move(s));
    }
    Status st = (*store)->write(b);
    ASSERT_TRUE(st.ok()) << st.error().message();
  }
  ASSERT_TRUE(dead.empty());
  auto labels = LabelSchedule::load(hist + "/labels.jsonl");
  ASSERT_TRUE(labels.ok()) << labels.error().message();
  ASSERT_GT(labels->size(), 0u);
  WriteBatch lb;
  labels->take_due(INT64_MAX, lb.labels);
  Status st = (*store)->write(lb);
  ASSERT_TRUE(st.ok()) << st.error().message();
}

const std::vector<std::string> kTrainFlags = {"--from",        "2026-03-05", "--to",   "2026-03-22",
                                              "--rounds",      "30",         "--seed", "5",
                                              "--label-delay", "3"};

TEST(TrainFromStore, StoreAndFileGiveTheSameModel) {
  TempDir dir;
  const std::string hist = dir.file("hist");
  std::string out;
  ASSERT_EQ(
      run({"simulate", "--from", "2026-03-01", "--to", "2026-03-25", "--out-dir", hist, "--seed",
           "9", "--customers", "500", "--merchants", "100", "--fraud-ratio", "0.02"},
          &out),
      0)
      << out;
  load_history_into_store(hist, dir.file("data"));
  if (HasFatalFailure()) return;

  std::vector<std::string> from_file = {"train", "--input", hist, "--out", dir.file("m-file")};
  from_file.insert(from_file.end(), kTrainFlags.begin(), kTrainFlags.end());
  ASSERT_EQ(run(from_file, &out), 0) << out;
  std::vector<std::string> from_store = {"train",          "--from-store", "--data-dir",
                                         dir.file("data"), "--out",        dir.file("m-store")};
  from_store.insert(from_store.end(), kTrainFlags.begin(), kTrainFlags.end());
  ASSERT_EQ(run(from_store, &out), 0) << out;

  const nlohmann::json mf = metadata(dir.file("m-file"));
  const nlohmann::json ms = metadata(dir.file("m-store"));
  // The same rows reached the trainer: the replay saw the same transactions and labels.
  EXPECT_EQ(ms["data"]["rows"], mf["data"]["rows"]);
  EXPECT_EQ(ms["data"]["frauds"], mf["data"]["frauds"]);
  EXPECT_EQ(ms["data"]["transactions_replayed"], mf["data"]["transactions_replayed"]);
  EXPECT_EQ(ms["data"]["label_delay_days"], 3.0);
  EXPECT_NE(ms["data"]["input"].get<std::string>().find("store SQLite"), std::string::npos)
      << ms["data"]["input"];
  EXPECT_GT(ms["validation_metrics"]["roc_auc"].get<double>(), 0.85);
  // The simulator's timestamps are distinct, so (ts, id) order is the files' order and every
  // feature value, hence the model, is the same byte for byte.
  const std::string model_file = slurp(dir.file("m-file/model.json"));
  ASSERT_FALSE(model_file.empty());
  EXPECT_TRUE(model_file == slurp(dir.file("m-store/model.json")))
      << "the store and the file trained different models";
  EXPECT_EQ(slurp(dir.file("m-file/isolation_forest.json")),
            slurp(dir.file("m-store/isolation_forest.json")));
}

TEST(TrainFromStore, TrainsOnWhatTheDemoStored) {
  TempDir dir;
  const std::string data = dir.file("data");
  std::string out;
  ASSERT_EQ(
      run({"demo", "--data-dir", data, "--port", "0", "--quiet", "--rate", "0", "--count", "60000",
           "--seed", "9", "--customers", "500", "--merchants", "100", "--fraud-ratio", "0.02"},
          &out),
      0)
      << out;
  const std::string model = dir.file("model");
  ASSERT_EQ(
      run({"train", "--from-store", "--data-dir", data, "--out", model, "--rounds", "30"}, &out), 0)
      << out;
  const nlohmann::json m = metadata(model);
  EXPECT_GT(m["data"]["rows"].get<uint64_t>(), 10000u);
  EXPECT_GT(m["data"]["frauds"].get<uint64_t>(), 50u);
  EXPECT_GT(m["validation_metrics"]["roc_auc"].get<double>(), 0.85) << out;
  EXPECT_TRUE(std::filesystem::exists(model + "/model.json"));
}

TEST(TrainFromStore, RefusesAStoreWithoutLabelsAndBadFlags) {
  TempDir dir;
  const std::string data = dir.file("data");
  std::string out;
  // No database there: named, and none is created.
  EXPECT_EQ(run({"train", "--from-store", "--data-dir", data, "--out", dir.file("m")}, &out), 2);
  EXPECT_NE(out.find("--data-dir"), std::string::npos) << out;
  EXPECT_NE(out.find("no fraudwatch database"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(data + "/fraudwatch.db"));

  std::filesystem::create_directories(data);
  {
    auto store = open_sqlite_store({.path = data + "/fraudwatch.db"});
    ASSERT_TRUE(store.ok()) << store.error().message();
  }
  EXPECT_EQ(run({"train", "--from-store", "--data-dir", data, "--out", dir.file("m")}, &out), 2);
  EXPECT_NE(out.find("holds no transactions"), std::string::npos) << out;

  {
    auto store = open_sqlite_store({.path = data + "/fraudwatch.db"});
    ASSERT_TRUE(store.ok()) << store.error().message();
    WriteBatch b;
    for (int i = 0; i < 50; ++i) {
      Scored s;
      s.tx.id = "tx-" + std::to_string(i);
      s.tx.ts = 1'700'000'000'000'000 + i * 1'000'000;
      s.tx.account_id = "acct-" + std::to_string(i % 7);
      s.tx.amount = Money{1000 + i, Currency::of("EUR")};
      s.tx.finalize_keys();
      s.decision.transaction_id = s.tx.id;
      s.decision.decided_at = s.tx.ts;
      b.scored.push_back(s);
    }
    ASSERT_TRUE((*store)->write(b).ok());
  }
  EXPECT_EQ(run({"train", "--from-store", "--data-dir", data, "--out", dir.file("m")}, &out), 2);
  EXPECT_NE(out.find("50 transactions but no labels"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("m/model.json")));

  EXPECT_EQ(run({"train", "--from-store", "--input", data, "--out", dir.file("m")}, &out), 2);
  EXPECT_NE(out.find("--input: cannot be combined with --from-store"), std::string::npos) << out;
  EXPECT_EQ(run({"train", "--out", dir.file("m")}, &out), 2);
  EXPECT_NE(out.find("--input: is required (or --from-store)"), std::string::npos) << out;
  EXPECT_EQ(run({"train", "--input", data, "--data-dir", data, "--out", dir.file("m")}, &out), 2);
  EXPECT_NE(out.find("--data-dir"), std::string::npos) << out;
  EXPECT_EQ(run({"train", "--from-store", "--data-dir", data, "--mapping", "x.yaml", "--out",
                 dir.file("m")},
                &out),
            2);
  EXPECT_NE(out.find("--mapping"), std::string::npos) << out;
}

}  // namespace
}  // namespace fw
