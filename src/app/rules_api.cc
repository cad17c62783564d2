#include "app/rules_api.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "rules/rule_stats.h"

namespace fw {

void add_rules_routes(HttpServer& server, Engine& engine, RuleReloader* reloader) {
  add_rules_routes(server, engine, reloader, nullptr);
}

void add_rules_routes(HttpServer& server, Engine& engine, RuleReloader* reloader,
                      std::function<std::string()> more_metrics) {
  server.route("POST", "/api/rules/reload", [reloader](const HttpRequest&) {
    if (reloader == nullptr) {
      return HttpResponse::error(
          409, "running the built-in rules: start with --rules FILE to reload from a file");
    }
    const ReloadOutcome o = reloader->reload();
    log_reload(o, "HTTP");
    if (o.kind == ReloadOutcome::Kind::kRejected) return HttpResponse::error(422, o.error);
    return HttpResponse::json(
        200, nlohmann::json{{"status", "reloaded"}, {"version", o.version}}.dump());
  });
  server.route("GET", "/api/rules", [&engine](const HttpRequest&) {
    const std::shared_ptr<const RuleSet> rules = engine.rules();
    nlohmann::json list = nlohmann::json::array();
    for (const Rule& r : rules->rules()) {
      list.push_back({{"id", r.id},
                      {"description", r.description},
                      {"when", r.expression},
                      {"score", r.score},
                      {"action", to_string(r.action)},
                      {"severity", to_string(r.severity)},
                      {"tags", r.tags},
                      {"enabled", r.enabled}});
    }
    return HttpResponse::json(
        200, nlohmann::json{{"version", rules->version()},
                            {"policy",
                             {{"review_at", rules->review_at()}, {"block_at", rules->block_at()}}},
                            {"rules", list}}
                 .dump());
  });
  server.route("GET", "/api/rules/stats", [&engine](const HttpRequest&) {
    return HttpResponse::json(200, rule_hits_json(*engine.rules()));
  });
  server.route("GET", "/metrics", [&engine, more_metrics](const HttpRequest&) {
    HttpResponse r;
    r.status = 200;
    r.content_type = "text/plain; version=0.0.4";
    r.body = rule_hits_prometheus(*engine.rules());
    if (more_metrics) r.body += more_metrics();
    return r;
  });
}

void log_reload(const ReloadOutcome& outcome, const char* trigger) {
  switch (outcome.kind) {
    case ReloadOutcome::Kind::kUnchanged:
      return;
    case ReloadOutcome::Kind::kReloaded:
      spdlog::info("rules reloaded ({}): now {}", trigger, outcome.version);
      return;
    case ReloadOutcome::Kind::kRejected:
      spdlog::error("rules reload rejected ({}), still running {}: {}", trigger, outcome.version,
                    outcome.error);
      return;
  }
}

}  // namespace fw
