// URL pieces for the HTTP server: percent-decoding of paths and query strings, and splitting a
// request target into path and query. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace fw {

// Decodes %XX escapes (either hex case). With plus_is_space, '+' decodes to ' ' (query strings,
// application/x-www-form-urlencoded); in paths '+' stays '+'. Rejects a '%' not followed by two
// hex digits and an encoded NUL (%00); the error names `field`.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space,
                                   std::string_view field = "query");

// Parses "a=1&b=x%20y&flag" into {"a":"1","b":"x y","flag":""}. Empty pieces ("a=1&&b=2")
// are skipped. When a name repeats, the first occurrence wins.
Result<std::map<std::string, std::string>> parse_query(std::string_view query_string);

// A request target split at the first '?': the decoded path and the raw query string.
struct SplitTarget {
  std::string path;
  std::string query_string;
};

// Accepts origin-form ("/a/b?x=1") and absolute-form ("http://host/a?x=1", whose scheme and
// authority are dropped). Rejects anything else, such as "*" or "abc".
Result<SplitTarget> split_target(std::string_view target);

}  // namespace fw
