#include "rules/rule_stats.h"

#include <fmt/format.h>

namespace fw {
namespace {

// Rule ids and rule-set names are restricted to [A-Za-z0-9_.-@] at load, so they need no
// escaping in JSON or Prometheus label values.

std::string hour_text(Timestamp hour_start) {
  const int64_t secs = hour_start / kMicrosPerSecond;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400;
  const int64_t hour = (secs - z * 86400) / 3600;
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:00:00Z", y, m, d, hour);
}

}  // namespace

std::string rule_hits_json(const RuleSet& rules) {
  const std::vector<RuleHits> hits = rules.hits();
  std::string out = fmt::format("{{\"rule_set_version\":\"{}\",\"rules\":[", rules.version());
  for (size_t i = 0; i < hits.size(); ++i) {
    const Rule& r = rules.rules()[i];
    if (i > 0) out += ',';
    out += fmt::format(
        "{{\"id\":\"{}\",\"action\":\"{}\",\"severity\":\"{}\",\"enabled\":{},\"hits_total\":{},"
        "\"hits_last_hour\":{},\"per_hour\":[",
        r.id, to_string(r.action), to_string(r.severity), r.enabled ? "true" : "false",
        hits[i].total, hits[i].last_hour);
    for (size_t h = 0; h < hits[i].per_hour.size(); ++h) {
      if (h > 0) out += ',';
      out += fmt::format("{{\"hour\":\"{}\",\"hits\":{}}}", hour_text(hits[i].per_hour[h].first),
                         hits[i].per_hour[h].second);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string rule_hits_prometheus(const RuleSet& rules) {
  const std::vector<RuleHits> hits = rules.hits();
  std::string out =
      "# HELP fraudwatch_rule_hits_total Transactions a rule fired on since its rule set loaded.\n"
      "# TYPE fraudwatch_rule_hits_total counter\n";
  for (const RuleHits& h : hits) {
    out += fmt::format("fraudwatch_rule_hits_total{{rule=\"{}\",rule_set=\"{}\"}} {}\n", h.id,
                       rules.version(), h.total);
  }
  out +=
      "# HELP fraudwatch_rule_hits_last_hour Hits in the newest hour (transaction time).\n"
      "# TYPE fraudwatch_rule_hits_last_hour gauge\n";
  for (const RuleHits& h : hits) {
    out += fmt::format("fraudwatch_rule_hits_last_hour{{rule=\"{}\",rule_set=\"{}\"}} {}\n", h.id,
                       rules.version(), h.last_hour);
  }
  return out;
}

}  // namespace fw
