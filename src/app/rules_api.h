// The rule-set endpoints of the HTTP server and the reload plumbing shared by the commands that
// serve traffic (demo today, serve later):
//   POST /api/rules/reload   reload the rule file now; 200 {"status":"reloaded","version"},
//                            422 {"error": "rules.yaml:12:18: ..."} (the running set stays),
//                            409 when running the built-in rules (no file to reload)
//   GET  /api/rules          the running rule set: version, policy, rules
//   GET  /api/rules/stats    per-rule hits (rules/rule_stats.h JSON)
//   GET  /metrics            Prometheus text: per-rule hit counters
// Handlers run on server threads; Engine and RuleReloader are thread-safe. The caller owns
// everything and keeps it alive until the server stops.
#pragma once

#include <functional>
#include <string>

#include "engine/engine.h"
#include "rules/rule_reloader.h"
#include "server/http_server.h"

namespace fw {

// `reloader` may be null (built-in rules).
void add_rules_routes(HttpServer& server, Engine& engine, RuleReloader* reloader);
// The same, with `more_metrics()` (Prometheus text, e.g. the store writer's counters) appended
// to /metrics after the rule counters. Called on server threads: it must be thread-safe.
void add_rules_routes(HttpServer& server, Engine& engine, RuleReloader* reloader,
                      std::function<std::string()> more_metrics);

// Logs what a reload did (info when reloaded, error with the position when rejected).
void log_reload(const ReloadOutcome& outcome, const char* trigger);

}  // namespace fw
