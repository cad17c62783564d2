// LiveStats: rates and totals for the live status line and /api/stats, sampled once a second
// by the command's main loop and read by HTTP threads. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "engine/engine.h"
#include "sinks/store_writer.h"

namespace fw {

struct LiveSnapshot {
  double uptime_s = 0;
  uint64_t transactions = 0;
  double tx_per_s = 0;
  uint64_t alerts = 0;
  double alerts_per_s = 0;
  uint64_t by_action[3] = {0, 0, 0};
  double p50_us = 0, p99_us = 0, p999_us = 0;
  uint64_t stored = 0;
  uint64_t dead_letters = 0;
  int64_t sim_time = 0;
  bool store_healthy = true;
  std::string store_error;
};

class LiveStats {
 public:
  // Takes a sample; rates are over the last `window_s` seconds of samples.
  void sample(double uptime_s, const EngineMetrics& engine, const StoreWriterStats& writer,
              int64_t sim_time, uint64_t dead_letters);
  LiveSnapshot snapshot() const;
  std::string to_json() const;      // the /api/stats body (docs/http-api.md)
  std::string status_line() const;  // one line for the terminal

 private:
  struct Point {
    double t;
    uint64_t tx, alerts;
  };
  mutable std::mutex mu_;
  std::deque<Point> points_;  // guarded by mu_
  LiveSnapshot last_;         // guarded by mu_
};

}  // namespace fw
