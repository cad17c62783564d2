// Time in fraudwatch is UTC, as microseconds since the Unix epoch, read from an explicit Clock so
// tests control it. Timestamp is a value type; Clock implementations state their thread-safety.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace fw {

// Microseconds since 1970-01-01T00:00:00Z.
using Timestamp = int64_t;

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

// Parses RFC 3339 / ISO 8601 date-times: "2026-11-23T14:05:00Z", with optional fractional
// seconds (up to microseconds; more digits are truncated) and a "Z" or "+hh:mm" offset, which is
// converted to UTC. A space may stand for the 'T'.
Result<Timestamp> parse_rfc3339(std::string_view text);

// Formats as "2026-11-23T14:05:00.123456Z" (fraction omitted when zero).
std::string format_rfc3339(Timestamp ts);
void append_rfc3339(std::string& out, Timestamp ts);

// "2026-11-23" for the UTC day containing ts.
std::string format_date(Timestamp ts);

// Days since the epoch for a civil date, and back (Howard Hinnant's algorithms).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d);

// A source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

// The real UTC wall clock.
class SystemClock final : public Clock {
 public:
  Timestamp now() const override;
  static SystemClock& instance();
};

// A clock that moves only when told to; for tests. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = 0) : now_(start) {}
  Timestamp now() const override { return now_.load(std::memory_order_relaxed); }
  void set(Timestamp t) { now_.store(t, std::memory_order_relaxed); }
  void advance(int64_t micros) { now_.fetch_add(micros, std::memory_order_relaxed); }

 private:
  std::atomic<Timestamp> now_;
};

// Monotonic nanoseconds for measuring latency (not wall time).
int64_t monotonic_nanos();

}  // namespace fw
