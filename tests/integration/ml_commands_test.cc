// End-to-end: `fraudwatch simulate` writes a history folder, `fraudwatch train` trains on its
// first weeks and writes a model folder, `fraudwatch evaluate` scores the last week with it.
// Bad flags exit 2 naming the flag.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "testing/fraudwatch_cli.h"
#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;
using fw::testing::TempDir;

int run(const std::vector<std::string>& args, std::string* transcript = nullptr) {
  return fw::testing::run_fraudwatch(args, transcript);
}

TEST(MlCommands, SimulateTrainEvaluate) {
  TempDir dir;
  const std::string hist = dir.file("hist");
  const std::string model = dir.file("model");
  const auto trained = fw::testing::simulate_and_train(
      hist, model, "2026-03-29",
      {"--rounds", "30", "--trials", "2", "--threshold", "precision:0.5"});
  ASSERT_TRUE(trained.ok) << trained.transcript;
  const std::string& out = trained.transcript;
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
