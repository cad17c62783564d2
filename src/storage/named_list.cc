#include "storage/named_list.h"

#include <fmt/format.h>

namespace fw {

Status check_list_name(const std::string& name) {
  if (name.empty())
    return make_error("list name", "is empty; name the list, e.g. high_risk_merchants");
  if (name.size() > kMaxListNameBytes) {
    return make_error("list name",
                      fmt::format("is {} bytes; the limit is {}", name.size(), kMaxListNameBytes));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return make_error("list name", "may contain only letters, digits, '_', '-' and '.'");
    }
  }
  return Status::Ok();
}

Status check_list_values(const std::vector<std::string>& values) {
  if (values.empty()) return make_error("values", "are empty; give at least one value");
  if (values.size() > kMaxListValuesPerCall) {
    return make_error("values", fmt::format("are {} at once; the limit is {} per call",
                                            values.size(), kMaxListValuesPerCall));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string& v = values[i];
    const std::string field = fmt::format("values[{}]", i);
    if (v.empty()) return make_error(field, "is empty");
    if (v.size() > kMaxStoredListValueBytes) {
      return make_error(
          field, fmt::format("is {} bytes; the limit is {}", v.size(), kMaxStoredListValueBytes));
    }
    if (v.find_first_of(std::string_view("\0\n\r", 3)) != std::string::npos) {
      return make_error(field, "contains a NUL or a line break");
    }
  }
  return Status::Ok();
}

Error unknown_list(const std::string& name) {
  return make_error(
      "list '" + name + "'",
      "does not exist (it holds no values); `fraudwatch lists show` prints the lists");
}

}  // namespace fw
