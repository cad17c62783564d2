#include "app/setup.h"

#include <spdlog/spdlog.h>

namespace fw {

std::shared_ptr<const RuleSet> load_rules(const AppConfig& cfg) {
  if (cfg.rules_path.empty()) return RuleSet::defaults();
  auto loaded = RuleSet::from_file(cfg.rules_path);
  if (!loaded.ok()) {
    spdlog::error("{}", loaded.error().message());
    return nullptr;
  }
  return *loaded;
}

SimulatorConfig simulator_config(const AppConfig& cfg) {
  SimulatorConfig sc;
  sc.seed = cfg.seed;
  sc.customers = cfg.customers;
  sc.merchants = cfg.merchants;
  sc.fraud_ratio = cfg.fraud_ratio;
  return sc;
}

}  // namespace fw
