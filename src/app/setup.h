// Pieces every command builds from the configuration the same way.
#pragma once

#include <memory>

#include "app/config.h"
#include "rules/rule_set.h"
#include "sources/simulator.h"

namespace fw {

// The configured rule set (cfg.rules_path), or the built-in defaults when none is configured.
// Logs the error and returns null when the file is unreadable or invalid.
std::shared_ptr<const RuleSet> load_rules(const AppConfig& cfg);

// The simulator settings of the configuration (seed, population, fraud ratio).
SimulatorConfig simulator_config(const AppConfig& cfg);

}  // namespace fw
