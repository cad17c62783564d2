// `fraudwatch backtest` on a small labelled file whose outcome is known by construction: per-rule
// hits, precision, recall, overlap, and the exact transactions whose decision changes against
// the current rule set, on the terminal and in the JSON report. Also: a bad candidate file is
// refused with its position and nothing is replayed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;
using fw::testing::TempDir;

// Ten transfers on ten accounts, an hour apart, amounts 1000..10000 EUR; labels: the three
// largest are fraud, the rest legitimate, t05 unlabelled.
std::string history() {
  std::string out;
  for (int i = 1; i <= 10; ++i) {
    std::string label = i >= 8 ? ",\"label\":\"fraud\"" : (i == 5 ? "" : ",\"label\":\"legit\"");
    out += "{\"id\":\"t" + std::string(i < 10 ? "0" : "") + std::to_string(i) +
           "\",\"ts\":\"2026-03-02T" + (i < 10 ? "0" : "") + std::to_string(i) +
           ":00:00Z\",\"account_id\":\"a" + std::to_string(i) + "\",\"amount\":\"" +
           std::to_string(i * 1000) +
           ".00\",\"currency\":\"EUR\",\"type\":\"transfer\",\"channel\":\"online_banking\","
           "\"country\":\"DE\"" +
           label + "}\n";
  }
  return out;
}

TEST(Backtest, ReportsPerRuleQualityOverlapAndChangedDecisions) {
  TempDir dir;
  std::ofstream(dir.file("history.jsonl")) << history();
  // Current: REVIEW from 7000 EUR on. Candidate: big (> 7500, 0.6 -> REVIEW), huge (>= 9000,
  // block), mid (4000..6000, 0.1: ALLOW alone).
  std::ofstream(dir.file("current.yaml"))
      << "name: current\nrules:\n  - {id: seven, when: amount >= 7000 EUR, score: 0.5}\n";
  std::ofstream(dir.file("candidate.yaml"))
      << "name: candidate\nrules:\n"
         "  - {id: big, when: amount > 7500 EUR, score: 0.6}\n"
         "  - {id: huge, when: amount >= 9000 EUR, action: block}\n"
         "  - {id: mid, when: amount between 4000 EUR and 6000 EUR, score: 0.1}\n";
  // The table goes to standard output; the shell folds it into the captured stderr.
  ChildProcess p({"/bin/sh", "-c",
                  "\"$0\" backtest --rules \"$1\" --current \"$2\" --input \"$3\" --json \"$4\" "
                  "--shards 2 --batch-size 3 --quiet 1>&2",
                  fw::testing::fraudwatch_binary().string(), dir.file("candidate.yaml"),
                  dir.file("current.yaml"), dir.file("history.jsonl"), dir.file("report.json")});
  ASSERT_EQ(p.wait(), 0) << p.transcript();
  const std::string& t = p.transcript();
  EXPECT_NE(t.find("10 transactions, 3 labelled fraud, 6 labelled legitimate"), std::string::npos)
      << t;
  // big fires on t08..t10 (3 fraud): precision 1, recall 1; huge on t09, t10; mid on t04..t06
  // (t05 unlabelled, t04/t06 legit).
  auto row = [](const char* id, int hits, const char* p, const char* r, const char* o,
                const char* with) {
    return fmt::format("{:<28} {:>9} {:>10} {:>9} {:>7}  {}\n", id, hits, p, r, o, with);
  };
  EXPECT_NE(t.find(row("big", 3, "1.000", "1.000", "0.667", "huge")), std::string::npos) << t;
  EXPECT_NE(t.find(row("huge", 2, "1.000", "0.667", "1.000", "big")), std::string::npos) << t;
  EXPECT_NE(t.find(row("mid", 3, "0.000", "0.000", "0.000", "")), std::string::npos) << t;
  // t07 was REVIEW (>= 7000) and is ALLOW now; t09, t10 go REVIEW -> BLOCK.
  EXPECT_NE(t.find("REVIEW->ALLOW    1"), std::string::npos) << t;
  EXPECT_NE(t.find("REVIEW->BLOCK    2"), std::string::npos) << t;
  EXPECT_NE(t.find("decisions that change: 3"), std::string::npos) << t;

  std::ifstream in(dir.file("report.json"));
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["transactions"], 10);
  EXPECT_EQ(j["current"]["version"].get<std::string>().substr(0, 8), "current@");
  ASSERT_EQ(j["rules"].size(), 3u);
  EXPECT_EQ(j["rules"][0]["id"], "big");
  EXPECT_EQ(j["rules"][0]["hits"], 3);
  EXPECT_EQ(j["rules"][0]["precision"], 1.0);
  EXPECT_EQ(j["rules"][0]["recall"], 1.0);
  EXPECT_EQ(j["rules"][0]["overlap_with"], (nlohmann::json{{"huge", 2}}));
  EXPECT_EQ(j["rules"][1]["hits"], 2);
  EXPECT_NEAR(j["rules"][1]["recall"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(j["rules"][2]["hits"], 3);
  EXPECT_EQ(j["rules"][2]["hits_legit"], 2);
  EXPECT_EQ(j["rules"][2]["precision"], 0.0);
  EXPECT_EQ(j["flagged"]["candidate"]["precision"], 1.0);
  EXPECT_EQ(j["flagged"]["candidate"]["recall"], 1.0);
  EXPECT_NEAR(j["flagged"]["current"]["precision"].get<double>(), 0.75, 1e-12);  // t07 legit
  EXPECT_EQ(j["changes"]["total"], 3);
  ASSERT_EQ(j["changed_transactions"].size(), 3u);
  EXPECT_EQ(j["changed_transactions"][0]["transaction_id"], "t07");
  EXPECT_EQ(j["changed_transactions"][0]["before"], "REVIEW");
  EXPECT_EQ(j["changed_transactions"][0]["after"], "ALLOW");
  EXPECT_EQ(j["changed_transactions"][2]["transaction_id"], "t10");
  EXPECT_EQ(j["changed_transactions"][2]["after"], "BLOCK");
  EXPECT_EQ(j["changed_transactions"][2]["reasons"], "big; huge");
}

TEST(Backtest, ABadCandidateIsRefusedWithItsPosition) {
  TempDir dir;
  std::ofstream(dir.file("history.jsonl")) << history();
  std::ofstream(dir.file("candidate.yaml"))
      << "name: c\nrules:\n  - id: x\n    when: amout > 1 EUR\n    score: 0.5\n";
  ChildProcess p({fw::testing::fraudwatch_binary().string(), "backtest", "--rules",
                  dir.file("candidate.yaml"), "--input", dir.file("history.jsonl")});
  EXPECT_EQ(p.wait(), 2);
  EXPECT_NE(p.transcript().find("candidate rules: candidate.yaml:4:11: unknown name 'amout'; did "
                                "you mean 'amount'? (rule 'x')"),
            std::string::npos)
      << p.transcript();
}

}  // namespace
}  // namespace fw
