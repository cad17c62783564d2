// Exports a rule set's per-rule hit counters (RuleSet::hits()) for people and scrapers: a JSON
// document for GET /api/rules/stats and Prometheus text exposition lines for GET /metrics.
// Pure functions over a snapshot; thread-safe.
#pragma once

#include <string>

#include "rules/rule_set.h"

namespace fw {

// {"rule_set_version": "...", "rules": [{"id", "action", "severity", "enabled", "hits_total",
//  "hits_last_hour", "per_hour": [{"hour": "2026-03-02T10:00:00Z", "hits": 3}, ...]}, ...]}
std::string rule_hits_json(const RuleSet& rules);

// # HELP / # TYPE lines, then one sample per rule:
// fraudwatch_rule_hits_total{rule="velocity",rule_set="default@..."} 42
// fraudwatch_rule_hits_last_hour{rule="velocity",rule_set="default@..."} 3
std::string rule_hits_prometheus(const RuleSet& rules);

}  // namespace fw
