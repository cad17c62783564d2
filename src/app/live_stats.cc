#include "app/live_stats.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/time.h"

namespace fw {

void LiveStats::sample(double uptime_s, const EngineMetrics& engine, const StoreWriterStats& writer,
                       int64_t sim_time, uint64_t dead_letters) {
  std::lock_guard lock(mu_);
  LiveSnapshot s;
  s.uptime_s = uptime_s;
  s.transactions = engine.transactions;
  s.alerts = engine.by_action[1] + engine.by_action[2];
  for (int a = 0; a < 3; ++a) s.by_action[a] = engine.by_action[a];
  s.p50_us = static_cast<double>(engine.latency.percentile(0.50)) / 1000.0;
  s.p99_us = static_cast<double>(engine.latency.percentile(0.99)) / 1000.0;
  s.p999_us = static_cast<double>(engine.latency.percentile(0.999)) / 1000.0;
  s.stored = writer.stored;
  s.dead_letters = dead_letters;
  s.sim_time = sim_time;
  s.store_healthy = writer.healthy;
  s.store_error = writer.last_error;
  points_.push_back({uptime_s, s.transactions, s.alerts});
  while (points_.size() > 2 && points_.back().t - points_.front().t > 5.0) points_.pop_front();
  if (points_.size() >= 2) {
    const Point& a = points_.front();
    const Point& b = points_.back();
    double dt = b.t - a.t;
    if (dt > 0) {
      s.tx_per_s = static_cast<double>(b.tx - a.tx) / dt;
      s.alerts_per_s = static_cast<double>(b.alerts - a.alerts) / dt;
    }
  }
  last_ = s;
}

LiveSnapshot LiveStats::snapshot() const {
  std::lock_guard lock(mu_);
  return last_;
}

std::string LiveStats::to_json() const {
  LiveSnapshot s = snapshot();
  nlohmann::json j = {
      {"uptime_s", s.uptime_s},
      {"transactions", s.transactions},
      {"tx_per_s", s.tx_per_s},
      {"alerts", s.alerts},
      {"alerts_per_s", s.alerts_per_s},
      {"decisions",
       {{"ALLOW", s.by_action[0]}, {"REVIEW", s.by_action[1]}, {"BLOCK", s.by_action[2]}}},
      {"latency_us", {{"p50", s.p50_us}, {"p99", s.p99_us}, {"p999", s.p999_us}}},
      {"stored", s.stored},
      {"sim_time", s.sim_time > 0 ? format_rfc3339(s.sim_time) : ""},
      {"dead_letters", s.dead_letters},
      {"store", {{"healthy", s.store_healthy}, {"last_error", s.store_error}}},
  };
  return j.dump();
}

std::string LiveStats::status_line() const {
  LiveSnapshot s = snapshot();
  double total = static_cast<double>(s.by_action[0] + s.by_action[1] + s.by_action[2]);
  auto pct = [&](int a) {
    return total > 0 ? 100.0 * static_cast<double>(s.by_action[a]) / total : 0.0;
  };
  return fmt::format(
      "{:>9.0f} tx/s {:>7.1f} alerts/s | ALLOW {:.1f}% REVIEW {:.1f}% BLOCK {:.1f}% | p99 {:.0f} us"
      " | stored {} | sim {}{}",
      s.tx_per_s, s.alerts_per_s, pct(0), pct(1), pct(2), s.p99_us, s.stored,
      s.sim_time > 0 ? format_rfc3339(s.sim_time).substr(0, 16) : "-",
      s.store_healthy ? "" : " | STORE FAILING");
}

}  // namespace fw
