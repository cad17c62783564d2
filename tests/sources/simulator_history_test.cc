#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/csv_codec.h"
#include "sources/history_writer.h"
#include "testing/paths.h"

namespace fw {
namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The value of a top-level string field in one of our JSON lines (keys are unique, values
// have no escapes in simulator output).
std::string json_field(const std::string& line, const std::string& key) {
  std::string needle = "\"" + key + "\":\"";
  size_t p = line.find(needle);
  if (p == std::string::npos) return "";
  p += needle.size();
  return line.substr(p, line.find('"', p) - p);
}

SimulatorConfig config() {
  SimulatorConfig c;
  c.seed = 11;
  c.customers = 1000;
  c.merchants = 200;
  c.fraud_ratio = 0.02;
  c.legit_label_fraction = 0.01;
  return c;
}

TEST(SimulatorHistory, WritesOneJsonFilePerDayAndCountsMatch) {
  testing::TempDir dir;
  HistoryOptions opt;
  opt.out_dir = dir.file("hist");
  opt.from = *parse_rfc3339("2026-03-01T00:00:00Z");
  opt.to = *parse_rfc3339("2026-03-08T00:00:00Z");
  int progress_calls = 0;
  HistoryProgress last;
  opt.progress = [&](const HistoryProgress& p) {
    ++progress_calls;
    last = p;
  };
  auto stats = write_history(config(), opt);
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(stats->files, 7u);
  EXPECT_GE(progress_calls, 1);
  EXPECT_EQ(last.transactions, stats->transactions);

  uint64_t lines = 0, frauds = 0, bytes = 0;
  std::map<std::string, uint64_t> by_pattern;
  std::set<std::string> ids;
  for (int d = 1; d <= 7; ++d) {
    std::string name = "2026-03-0" + std::to_string(d) + ".jsonl";
    std::string path = dir.file("hist/" + name);
    ASSERT_TRUE(std::filesystem::exists(path)) << name;
    bytes += std::filesystem::file_size(path);
    for (const std::string& line : read_lines(path)) {
      ++lines;
      EXPECT_EQ(json_field(line, "ts").substr(0, 10), name.substr(0, 10)) << line;
      ids.insert(json_field(line, "id"));
      if (line.find("\"label\":\"fraud\"") != std::string::npos) {
        ++frauds;
        ++by_pattern[json_field(line, "fraud_pattern")];
      }
    }
  }
  EXPECT_EQ(lines, stats->transactions);
  EXPECT_EQ(ids.size(), lines);
  EXPECT_GT(lines, 7u * 1000u);
  EXPECT_EQ(frauds, stats->frauds);
  EXPECT_EQ(by_pattern, stats->frauds_by_pattern);
  EXPECT_NEAR(static_cast<double>(frauds) / static_cast<double>(lines), 0.02, 0.006);

  std::vector<std::string> labels = read_lines(dir.file("hist/labels.jsonl"));
  EXPECT_EQ(labels.size(), stats->labels);
  bytes += std::filesystem::file_size(dir.file("hist/labels.jsonl"));
  EXPECT_EQ(bytes, stats->bytes);
  uint64_t fraud_labels = 0;
  Timestamp prev = 0;
  for (const std::string& l : labels) {
    std::string id = json_field(l, "transaction_id");
    EXPECT_TRUE(ids.count(id)) << "label of a transaction outside the files: " << l;
    fraud_labels += l.find("\"label\":\"fraud\"") != std::string::npos;
    auto at = parse_rfc3339(json_field(l, "labelled_at"));
    ASSERT_TRUE(at.ok()) << l;
    EXPECT_LE(prev, *at) << "labels in labelled_at order";
    prev = *at;
  }
  EXPECT_EQ(fraud_labels, frauds) << "every fraud in the range has its label";
}

TEST(SimulatorHistory, IsDeterministicAndWritesCsvWithHeaders) {
  testing::TempDir dir;
  HistoryOptions opt;
  opt.from = *parse_rfc3339("2026-05-30T12:00:00Z");
  opt.to = *parse_rfc3339("2026-06-01T06:00:00Z");
  opt.out_dir = dir.file("a");
  auto a = write_history(config(), opt);
  opt.out_dir = dir.file("b");
  auto b = write_history(config(), opt);
  ASSERT_TRUE(a.ok() && b.ok());
  for (const char* f : {"2026-05-30.jsonl", "2026-05-31.jsonl", "2026-06-01.jsonl"}) {
    EXPECT_EQ(read_lines(dir.file(std::string("a/") + f)),
              read_lines(dir.file(std::string("b/") + f)))
        << f;
  }
  EXPECT_EQ(a->files, 3u);

  opt.out_dir = dir.file("csv");
  opt.csv = true;
  auto c = write_history(config(), opt);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->transactions, a->transactions);
  uint64_t rows = 0;
  for (const char* f : {"2026-05-30.csv", "2026-05-31.csv", "2026-06-01.csv"}) {
    std::vector<std::string> lines = read_lines(dir.file(std::string("csv/") + f));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], csv_header());
    rows += lines.size() - 1;
  }
  EXPECT_EQ(rows, c->transactions);
}

TEST(SimulatorHistory, RejectsBadRangesAndConfigs) {
  testing::TempDir dir;
  HistoryOptions opt;
  opt.out_dir = dir.file("x");
  opt.from = 10 * kMicrosPerDay;
  opt.to = opt.from;
  auto r = write_history(config(), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "to");

  opt.to = opt.from + kMicrosPerDay;
  SimulatorConfig bad = config();
  bad.patterns = {"no_such_pattern"};
  r = write_history(bad, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "patterns");

  opt.out_dir = "/proc/definitely/not/writable";
  r = write_history(config(), opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "out_dir");
}

}  // namespace
}  // namespace fw
