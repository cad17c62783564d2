#include "server/url.h"

namespace fw {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> percent_decode(std::string_view text, bool plus_is_space,
                                   std::string_view field) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%') {
      int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return make_error(std::string(field),
                          "invalid percent-escape at offset " + std::to_string(i) +
                              "; encode '%' as %25 and use two hex digits after '%'");
      }
      int value = hi * 16 + lo;
      if (value == 0) {
        return make_error(std::string(field), "encoded NUL (%00) is not allowed; remove it");
      }
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> parse_query(std::string_view query_string) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= query_string.size()) {
    size_t end = query_string.find('&', start);
    if (end == std::string_view::npos) end = query_string.size();
    std::string_view piece = query_string.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    auto name = percent_decode(raw_name, true, "query");
    if (!name.ok()) return name.error();
    auto value = percent_decode(raw_value, true, "query." + *name);
    if (!value.ok()) return value.error();
    out.emplace(std::move(*name), std::move(*value));  // first occurrence wins
  }
  return out;
}

Result<SplitTarget> split_target(std::string_view target) {
  if (!target.empty() && target.front() != '/') {
    // Absolute-form: scheme "://" authority path.
    size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
      return make_error("target", "request target must start with '/' (for example /health)");
    }
    size_t path_start = target.find_first_of("/?", scheme_end + 3);
    target =
        path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
    if (target.front() == '?') {
      return split_target("/" + std::string(target));
    }
  }
  if (target.empty()) {
    return make_error("target", "request target is empty; use a path such as /health");
  }
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  auto path = percent_decode(raw_path, false, "path");
  if (!path.ok()) return path.error();
  SplitTarget out;
  out.path = std::move(*path);
  if (q != std::string_view::npos) out.query_string = std::string(target.substr(q + 1));
  return out;
}

}  // namespace fw
