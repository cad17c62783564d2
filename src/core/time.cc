#include "core/time.h"

#include <chrono>

namespace fw {
namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

Error bad_time(std::string_view text, const char* why) {
  return make_error("", "timestamp '" + std::string(text.substr(0, 64)) + "' " + why +
                            " (expected RFC 3339, e.g. 2026-11-23T14:05:00Z)");
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

Result<Timestamp> parse_rfc3339(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second)) {
    return bad_time(s, "is not a date-time");
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 || minute > 59 ||
      second > 60) {
    return bad_time(s, "has a field out of range");
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return bad_time(s, "names a day that does not exist");
  if (second == 60) second = 59;  // leap second: clamp
  size_t i = 19;
  int64_t micros = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int n = 0;
    size_t start = i;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (n < 6) {
        micros = micros * 10 + (s[i] - '0');
        ++n;
      }
    }
    if (i == start) return bad_time(s, "has an empty fraction");
    for (; n < 6; ++n) micros *= 10;
  }
  int64_t offset_minutes = 0;
  if (i >= s.size()) return bad_time(s, "has no time zone ('Z' or +hh:mm)");
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh, om;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59) {
      return bad_time(s, "has a malformed offset");
    }
    offset_minutes = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return bad_time(s, "has trailing characters");
  }
  if (i != s.size()) return bad_time(s, "has trailing characters");
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  return secs * kMicrosPerSecond + micros;
}

void append_rfc3339(std::string& out, Timestamp ts) {
  int64_t days = ts >= 0 ? ts / kMicrosPerDay : -((-ts + kMicrosPerDay - 1) / kMicrosPerDay);
  int64_t rem = ts - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  int64_t secs = rem / kMicrosPerSecond;
  int64_t micros = rem % kMicrosPerSecond;
  char buf[32];
  auto put2 = [](char* p, int v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  int yy = static_cast<int>(y);
  buf[0] = static_cast<char>('0' + (yy / 1000) % 10);
  buf[1] = static_cast<char>('0' + (yy / 100) % 10);
  buf[2] = static_cast<char>('0' + (yy / 10) % 10);
  buf[3] = static_cast<char>('0' + yy % 10);
  buf[4] = '-';
  put2(buf + 5, static_cast<int>(m));
  buf[7] = '-';
  put2(buf + 8, static_cast<int>(d));
  buf[10] = 'T';
  put2(buf + 11, static_cast<int>(secs / 3600));
  buf[13] = ':';
  put2(buf + 14, static_cast<int>(secs / 60 % 60));
  buf[16] = ':';
  put2(buf + 17, static_cast<int>(secs % 60));
  size_t n = 19;
  if (micros != 0) {
    buf[n++] = '.';
    for (int k = 5; k >= 0; --k) {
      buf[n + static_cast<size_t>(k)] = static_cast<char>('0' + micros % 10);
      micros /= 10;
    }
    n += 6;
  }
  buf[n++] = 'Z';
  out.append(buf, n);
}

std::string format_rfc3339(Timestamp ts) {
  std::string out;
  append_rfc3339(out, ts);
  return out;
}

std::string format_date(Timestamp ts) {
  std::string s = format_rfc3339(ts);
  return s.substr(0, 10);
}

Timestamp SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

int64_t monotonic_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace fw
