// End-to-end: `fraudwatch simulate` writes a history file, a few malformed lines are mixed in,
// and `fraudwatch replay` scores it: one row per good transaction in input order, each bad line
// a dead letter naming its line and field, and the stream never stops.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;
using fw::testing::TempDir;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string id_of_json(const std::string& line) {
  const std::string key = "\"id\":\"";
  size_t at = line.find(key) + key.size();
  return line.substr(at, line.find('"', at) - at);
}

TEST(Replay, ScoresEveryGoodLineInOrderAndDeadLettersTheRest) {
  TempDir dir;
  const std::string sim = dir.file("sim.jsonl");
  {
    ChildProcess p({fw::testing::fraudwatch_binary().string(), "simulate", "--count", "3000",
                    "--seed", "5", "--customers", "500", "--out", sim});
    ASSERT_EQ(p.wait(), 0) << p.transcript();
  }
  std::vector<std::string> good = read_lines(sim);
  ASSERT_EQ(good.size(), 3000u);
  // Mix in bad lines at known places: line numbers are 1-based in the mixed file.
  const std::string input = dir.file("mixed.jsonl");
  {
    std::ofstream out(input);
    for (size_t i = 0; i < good.size(); ++i) {
      if (i == 10) out << "{not json\n";  // line 11
      if (i == 500)
        out << R"({"id":"x","ts":"2026-01-01T00:00:00Z"})"
            << "\n";  // line 502
      out << good[i] << "\n";
    }
  }
  const std::string scored = dir.file("scored.csv");
  ChildProcess p({fw::testing::fraudwatch_binary().string(), "replay", "--input", input, "--out",
                  scored, "--shards", "3", "--batch-size", "128"});
  ASSERT_EQ(p.wait(), 0) << p.transcript();
  EXPECT_NE(p.transcript().find("replayed 3000 transactions"), std::string::npos) << p.transcript();
  EXPECT_NE(p.transcript().find("rejected 2 records"), std::string::npos) << p.transcript();

  std::vector<std::string> rows = read_lines(scored);
  ASSERT_EQ(rows.size(), good.size() + 1);
  EXPECT_EQ(rows[0], "id,score,decision,reasons,label");
  for (size_t i = 0; i < good.size(); ++i) {
    const std::string& row = rows[i + 1];
    ASSERT_EQ(row.substr(0, row.find(',')), id_of_json(good[i])) << "row " << i;
    EXPECT_TRUE(row.find(",ALLOW,") != std::string::npos ||
                row.find(",REVIEW,") != std::string::npos ||
                row.find(",BLOCK,") != std::string::npos)
        << row;
    EXPECT_TRUE(row.ends_with(",legit") || row.ends_with(",fraud")) << row;
  }

  std::vector<std::string> dead = read_lines(scored + ".rejected.jsonl");
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_NE(dead[0].find("mixed.jsonl:11"), std::string::npos) << dead[0];
  EXPECT_NE(dead[0].find("{not json"), std::string::npos) << dead[0];
  EXPECT_NE(dead[1].find("mixed.jsonl:502"), std::string::npos) << dead[1];
  EXPECT_NE(dead[1].find("account_id"), std::string::npos) << dead[1];
}

TEST(Replay, ASimulatedHistoryFolderReplaysWithItsLateLabels) {
  TempDir dir;
  const std::string hist = dir.file("history");
  {
    ChildProcess p({fw::testing::fraudwatch_binary().string(), "simulate", "--from", "2026-01-01",
                    "--to", "2026-01-03", "--customers", "300", "--fraud-ratio", "0.05",
                    "--out-dir", hist});
    ASSERT_EQ(p.wait(), 0) << p.transcript();
  }
  size_t transactions = 0;
  for (const char* day : {"2026-01-01.jsonl", "2026-01-02.jsonl"}) {
    transactions += read_lines(hist + "/" + day).size();
  }
  const size_t labels = read_lines(hist + "/labels.jsonl").size();
  ASSERT_GT(transactions, 0u);
  ASSERT_GT(labels, 0u);

  const std::string scored = dir.file("scored.csv");
  ChildProcess p(
      {fw::testing::fraudwatch_binary().string(), "replay", "--input", hist, "--out", scored});
  ASSERT_EQ(p.wait(), 0) << p.transcript();
  // labels.jsonl is read as labels, not as transactions that fail validation.
  EXPECT_EQ(p.transcript().find("rejected"), std::string::npos) << p.transcript();
  EXPECT_NE(p.transcript().find("labels: " + std::to_string(labels) + " from"), std::string::npos)
      << p.transcript();
  EXPECT_NE(p.transcript().find("replayed " + std::to_string(transactions) + " transactions"),
            std::string::npos)
      << p.transcript();
  EXPECT_EQ(read_lines(scored).size(), transactions + 1);
}

}  // namespace
}  // namespace fw
