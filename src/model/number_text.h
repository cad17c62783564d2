// Shortest exact text for integers and doubles (std::to_chars), appended to a string. Used by
// the JSON and CSV writers. Pure functions; thread-safe.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

namespace fw {

inline void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

inline void append_double(std::string& out, double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

}  // namespace fw
