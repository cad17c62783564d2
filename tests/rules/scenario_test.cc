// Runs every tests/rules/scenarios/*.yaml through FeatureEngine + RuleSet and checks, for each
// transaction, the action, the ids of the rules that fired and (optionally) detail substrings.
// File format: see tests/rules/scenarios/README.md.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "features/feature_engine.h"
#include "rules/rule_set.h"
#include "testing/paths.h"

namespace fw {
namespace {

const std::set<std::string> kTxKeys = {"id",
                                       "ts",
                                       "account_id",
                                       "amount",
                                       "currency",
                                       "type",
                                       "channel",
                                       "country",
                                       "lat",
                                       "lon",
                                       "utc_offset_minutes",
                                       "merchant_id",
                                       "terminal_id",
                                       "mcc",
                                       "device_id",
                                       "counterparty",
                                       "card_present",
                                       "expect",
                                       "rules",
                                       "detail_contains"};

// The transaction's field: its own value, else the file's defaults.
YAML::Node field(const YAML::Node& tx, const YAML::Node& defaults, const std::string& key) {
  if (tx[key]) return tx[key];
  if (defaults && defaults[key]) return defaults[key];
  return YAML::Node(YAML::NodeType::Undefined);
}

Transaction build_tx(const YAML::Node& node, const YAML::Node& defaults, const std::string& where) {
  for (const auto& kv : node) {
    EXPECT_TRUE(kTxKeys.count(kv.first.Scalar())) << where << ": unknown key " << kv.first.Scalar();
  }
  Transaction tx;
  tx.id = field(node, defaults, "id").as<std::string>();
  auto ts = parse_rfc3339(field(node, defaults, "ts").as<std::string>());
  EXPECT_TRUE(ts.ok()) << where << ": ts";
  tx.ts = ts.ok() ? *ts : 0;
  tx.account_id = field(node, defaults, "account_id").as<std::string>();
  auto currency = Currency::parse(field(node, defaults, "currency").as<std::string>());
  EXPECT_TRUE(currency.ok()) << where << ": currency";
  auto minor = parse_decimal_amount(field(node, defaults, "amount").as<std::string>(), *currency);
  EXPECT_TRUE(minor.ok()) << where << ": amount";
  tx.amount = Money{minor.ok() ? *minor : 0, *currency};
  if (auto n = field(node, defaults, "type")) tx.type = *parse_tx_type(n.as<std::string>());
  if (auto n = field(node, defaults, "channel")) tx.channel = *parse_channel(n.as<std::string>());
  if (auto n = field(node, defaults, "country")) tx.country = *Country::parse(n.as<std::string>());
  if (auto lat = field(node, defaults, "lat")) {
    tx.has_location = true;
    tx.lat = lat.as<double>();
    tx.lon = field(node, defaults, "lon").as<double>();
  }
  if (auto n = field(node, defaults, "utc_offset_minutes")) {
    tx.utc_offset_minutes = static_cast<int16_t>(n.as<int>());
  }
  if (auto n = field(node, defaults, "merchant_id")) tx.merchant_id = n.as<std::string>();
  if (auto n = field(node, defaults, "terminal_id")) tx.terminal_id = n.as<std::string>();
  if (auto n = field(node, defaults, "mcc")) tx.mcc = static_cast<uint16_t>(n.as<int>());
  if (auto n = field(node, defaults, "device_id")) tx.device_id = n.as<std::string>();
  if (auto n = field(node, defaults, "counterparty")) tx.counterparty = n.as<std::string>();
  if (auto n = field(node, defaults, "card_present")) tx.card_present = n.as<bool>();
  tx.finalize_keys();
  return tx;
}

void run_scenario(const std::filesystem::path& file) {
  SCOPED_TRACE(file.filename().string());
  YAML::Node root = YAML::LoadFile(file.string());
  ASSERT_TRUE(root["description"]) << "every scenario says what it checks";
  std::shared_ptr<const RuleSet> rules = RuleSet::defaults();
  if (root["rules_yaml"]) {
    auto custom = RuleSet::from_yaml_string(root["rules_yaml"].as<std::string>(), "rules_yaml");
    ASSERT_TRUE(custom.ok()) << custom.error().message();
    rules = *custom;
  }
  const YAML::Node defaults = root["defaults"];
  const YAML::Node txs = root["transactions"];
  ASSERT_TRUE(txs && txs.IsSequence() && txs.size() > 0);

  FeatureEngine engine(FeatureConfig{.initial_accounts = 64, .initial_merchants = 16});
  FeatureVector features;
  Decision decision;
  int checked = 0;
  for (size_t i = 0; i < txs.size(); ++i) {
    const YAML::Node node = txs[i];
    const std::string where = file.filename().string() + " transactions[" + std::to_string(i) +
                              "] (" + node["id"].as<std::string>("?") + ")";
    Transaction tx = build_tx(node, defaults, where);
    engine.process(tx, features);
    rules->evaluate(tx, features, decision);
    EXPECT_EQ(decision.rule_set_version, rules->version());

    std::vector<std::string> fired;
    for (const Reason& r : decision.reasons) fired.push_back(r.rule_id);
    std::string details;
    for (const Reason& r : decision.reasons) details += r.rule_id + ": " + r.detail + "\n";

    ASSERT_TRUE(node["expect"]) << where << ": every transaction states its expected action";
    EXPECT_EQ(std::string(to_string(decision.action)), node["expect"].as<std::string>())
        << where << " score " << decision.score << "\n"
        << details;
    std::vector<std::string> expected;
    if (node["rules"]) expected = node["rules"].as<std::vector<std::string>>();
    std::sort(fired.begin(), fired.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(fired, expected) << where << "\n" << details;
    if (node["detail_contains"]) {
      for (const auto& s : node["detail_contains"].as<std::vector<std::string>>()) {
        EXPECT_NE(details.find(s), std::string::npos) << where << ": '" << s << "' not in\n"
                                                      << details;
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(txs.size()));
}

TEST(RuleScenarios, EveryScenarioFileHoldsItsExpectations) {
  const auto dir = testing::source_dir() / "tests/rules/scenarios";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  // One per rule plus the combinations.
  ASSERT_GE(files.size(), 5u) << dir;
  for (const auto& f : files) run_scenario(f);
}

}  // namespace
}  // namespace fw
