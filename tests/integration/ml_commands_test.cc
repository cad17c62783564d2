// End-to-end: `fraudwatch simulate` writes a history folder, `fraudwatch train` trains on its
// first weeks and writes a model folder, `fraudwatch evaluate` scores the last week with it.
// Bad flags exit 2 naming the flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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
  while (p.read_line(300000)) {
  }
  int code = p.wait();
  if (transcript != nullptr) *transcript = p.transcript();
  return code;
}

TEST(MlCommands, SimulateTrainEvaluate) {
  TempDir dir;
  const std::string hist = dir.file("hist");
  std::string out;
  ASSERT_EQ(
      run({"simulate", "--from", "2026-03-01", "--to", "2026-03-29", "--out-dir", hist, "--seed",
           "9", "--customers", "500", "--merchants", "100", "--fraud-ratio", "0.02"},
          &out),
      0)
      << out;
  const std::string model = dir.file("model");
  ASSERT_EQ(run({"train", "--input", hist, "--from", "2026-03-05", "--to", "2026-03-22", "--out",
                 model, "--rounds", "30", "--trials", "2", "--threshold", "precision:0.5"},
                &out),
            0)
      << out;
  EXPECT_NE(out.find("trial 2/2"), std::string::npos) << out;
  EXPECT_NE(out.find("ROC AUC"), std::string::npos) << out;
  for (const char* f : {"model.json", "metadata.json", "evaluation.json", "roc.svg", "pr.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(model + "/" + f)) << f;
  }
  std::ifstream meta(model + "/metadata.json");
  nlohmann::json m = nlohmann::json::parse(meta);
  EXPECT_EQ(m["threshold_policy"], "precision >= 0.5");
  EXPECT_EQ(m["data"]["label_delay_days"], 7.0);

  ChildProcess eval({fw::testing::fraudwatch_binary().string(), "evaluate", "--model", model,
                     "--input", hist, "--from", "2026-03-22", "--out", dir.file("eval")});
  while (eval.read_line(300000)) {
  }
  ASSERT_EQ(eval.wait(), 0) << eval.transcript();
  EXPECT_NE(eval.transcript().find("recall by fraud pattern"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.file("eval/evaluation.json")));
}

TEST(MlCommands, BadFlagsNameTheFlag) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(
      run({"train", "--input", dir.path().string(), "--out", dir.file("m"), "--threshold", "best"},
          &out),
      2);
  EXPECT_NE(out.find("--threshold"), std::string::npos) << out;
  EXPECT_EQ(
      run({"train", "--input", dir.path().string(), "--out", dir.file("m"), "--from", "yesterday"},
          &out),
      2);
  EXPECT_NE(out.find("--from"), std::string::npos) << out;
  EXPECT_EQ(run({"evaluate", "--model", dir.file("none"), "--input", dir.path().string()}, &out),
            2);
  EXPECT_NE(out.find("none"), std::string::npos) << out;
}

}  // namespace
}  // namespace fw
