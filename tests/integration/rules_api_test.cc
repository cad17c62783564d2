// The running demo with a rule file: per-rule stats over HTTP (JSON and Prometheus text), a
// broken file rejected by POST /api/rules/reload with its position while the running set stays,
// a fixed file picked up by SIGHUP, and the built-in rules refusing a reload.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "testing/demo_http.h"
#include "testing/paths.h"
#include "testing/process.h"

namespace fw {
namespace {

using fw::testing::ChildProcess;
using fw::testing::TempDir;

std::vector<std::string> demo_args(const TempDir& dir, const std::string& rules) {
  std::vector<std::string> args = {fw::testing::fraudwatch_binary().string(),
                                   "demo",
                                   "--port",
                                   "0",
                                   "--data-dir",
                                   dir.path().string(),
                                   "--rate",
                                   "2000",
                                   "--seed",
                                   "7",
                                   "--customers",
                                   "2000",
                                   "--merchants",
                                   "200",
                                   "--shards",
                                   "2",
                                   "--quiet"};
  if (!rules.empty()) {
    args.push_back("--rules");
    args.push_back(rules);
  }
  return args;
}

constexpr auto& port_of = fw::testing::demo_port;
constexpr auto& request = fw::testing::demo_request;

TEST(RulesApi, StatsReloadAndSighupOnARunningDemo) {
  TempDir dir;
  const std::string rules = dir.file("rules.yaml");
  std::ofstream(rules) << "name: v1\nrules:\n  - {id: everything, when: \"amount > 0 EUR or "
                          "amount > 0 USD or amount > 0 GBP\", score: 0.1}\n"
                          "  - {id: nothing, when: tx_count_1m > 100, score: 0.5}\n";
  ChildProcess demo(demo_args(dir, rules));
  const uint16_t port = port_of(demo);
  ASSERT_GT(port, 0) << demo.transcript();

  // Hits accumulate while the stream runs: wait for the counter (no sleeping).
  nlohmann::json stats;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = request(port, "GET", "/api/rules/stats");
    ASSERT_EQ(r.status, 200) << r.body;
    stats = nlohmann::json::parse(r.body);
    if (stats["rules"][0]["hits_total"].get<uint64_t>() > 0) break;
  }
  EXPECT_EQ(stats["rule_set_version"].get<std::string>().substr(0, 3), "v1@");
  ASSERT_EQ(stats["rules"].size(), 2u);
  EXPECT_EQ(stats["rules"][0]["id"], "everything");
  EXPECT_GT(stats["rules"][0]["hits_total"].get<uint64_t>(), 0u);
  EXPECT_EQ(stats["rules"][1]["hits_total"], 0);
  auto metrics = request(port, "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("fraudwatch_rule_hits_total{rule=\"nothing\",rule_set=\"v1@"),
            std::string::npos)
      << metrics.body;

  // A broken file: 422 with the position; the running set stays.
  std::ofstream(rules) << "name: v2\nrules:\n  - id: bad\n    when: new_devise\n    score: 0.5\n";
  auto rejected = request(port, "POST", "/api/rules/reload");
  EXPECT_EQ(rejected.status, 422);
  EXPECT_NE(rejected.body.find("rules.yaml:4:11: unknown name 'new_devise'; did you mean "
                               "'new_device'?"),
            std::string::npos)
      << rejected.body;
  auto still = nlohmann::json::parse(request(port, "GET", "/api/rules").body);
  EXPECT_EQ(still["version"].get<std::string>().substr(0, 3), "v1@");

  // Fixed, and picked up by SIGHUP (or the file poll, whichever comes first).
  std::ofstream(rules)
      << "name: v3\nrules:\n  - {id: quiet, when: tx_count_1m > 100, score: 0.5}\n";
  demo.signal(SIGHUP);
  ASSERT_TRUE(demo.wait_for("now v3@")) << demo.transcript();
  auto now = nlohmann::json::parse(request(port, "GET", "/api/rules").body);
  EXPECT_EQ(now["version"].get<std::string>().substr(0, 3), "v3@");
  EXPECT_EQ(now["rules"][0]["when"], "tx_count_1m > 100");

  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait(), 0) << demo.transcript();
}

TEST(RulesApi, BuiltInRulesCannotBeReloaded) {
  TempDir dir;
  ChildProcess demo(demo_args(dir, ""));
  const uint16_t port = port_of(demo);
  ASSERT_GT(port, 0) << demo.transcript();
  auto r = request(port, "POST", "/api/rules/reload");
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(r.body.find("start with --rules FILE"), std::string::npos) << r.body;
  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait(), 0) << demo.transcript();
}

// `fraudwatch rules check FILE` offline, and `fraudwatch rules reload --url` against a running
// demo: a good file reloads (exit 0), a bad one is refused with file:line:column (exit 1)
// while the running set stays, and an address where nothing listens is a clear error.
TEST(RulesCli, CheckAndReloadARunningDemo) {
  TempDir dir;
  const std::string rules = dir.file("rules.yaml");
  const std::string bin = fw::testing::fraudwatch_binary().string();
  std::ofstream(rules)
      << "name: v1\nrules:\n  - {id: quiet, when: tx_count_1m > 100, score: 0.5}\n";
  {
    ChildProcess check({bin, "rules", "check", rules});
    EXPECT_EQ(check.wait(), 0) << check.transcript();
  }
  const std::string bad = dir.file("bad.yaml");
  std::ofstream(bad) << "name: v2\nrules:\n  - id: bad\n    when: amout > 3\n    score: 0.5\n";
  {
    ChildProcess check({bin, "rules", "check", bad});
    ASSERT_TRUE(check.wait_for("bad.yaml:4:11: unknown name 'amout'")) << check.transcript();
    EXPECT_EQ(check.wait(), 1);
  }
  {
    ChildProcess check({bin, "rules", "check", dir.file("missing.yaml")});
    EXPECT_EQ(check.wait(), 1);
    EXPECT_NE(check.transcript().find("missing.yaml"), std::string::npos) << check.transcript();
  }

  ChildProcess demo(demo_args(dir, rules));
  const uint16_t port = port_of(demo);
  ASSERT_GT(port, 0) << demo.transcript();
  const std::string url = "http://127.0.0.1:" + std::to_string(port);

  std::ofstream(rules) << "name: v2\nrules:\n  - id: bad\n    when: new_devise\n    score: 0.5\n";
  {
    ChildProcess reload({bin, "rules", "reload", "--url", url});
    ASSERT_TRUE(reload.wait_for("rules.yaml:4:11: unknown name 'new_devise'"))
        << reload.transcript();
    EXPECT_EQ(reload.wait(), 1);
  }
  auto still = nlohmann::json::parse(request(port, "GET", "/api/rules").body);
  EXPECT_EQ(still["version"].get<std::string>().substr(0, 3), "v1@");

  std::ofstream(rules) << "name: v3\nrules:\n  - {id: quiet, when: tx_count_1m > 99, score: 0.5}\n";
  {
    ChildProcess reload({bin, "rules", "reload", "--url", url});
    EXPECT_EQ(reload.wait(), 0) << reload.transcript();
  }
  auto now = nlohmann::json::parse(request(port, "GET", "/api/rules").body);
  EXPECT_EQ(now["version"].get<std::string>().substr(0, 3), "v3@");

  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait(), 0) << demo.transcript();
  {
    // The demo is gone: nothing listens on its port now.
    ChildProcess reload({bin, "rules", "reload", "--url", url, "--timeout", "5"});
    ASSERT_TRUE(reload.wait_for("cannot connect")) << reload.transcript();
    EXPECT_EQ(reload.wait(), 1);
  }
}

}  // namespace
}  // namespace fw
