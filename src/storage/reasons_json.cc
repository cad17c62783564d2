#include "storage/reasons_json.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "model/json_codec.h"

namespace fw {
namespace {

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {  // JSON has no NaN or infinity; a score is never one
    out += "0";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

}  // namespace

void append_reasons_json(std::string& out, const std::vector<Reason>& reasons) {
  out.push_back('[');
  for (size_t i = 0; i < reasons.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"rule_id\":";
    append_json_string(out, reasons[i].rule_id);
    out += ",\"detail\":";
    append_json_string(out, reasons[i].detail);
    out += ",\"score\":";
    append_double(out, reasons[i].score);
    out.push_back('}');
  }
  out.push_back(']');
}

Result<std::vector<Reason>> parse_reasons_json(std::string_view json) {
  auto doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) {
    return make_error("reasons",
                      "not a JSON array of {rule_id, detail, score}; the stored row is "
                      "corrupt: rewrite it or restore from backup");
  }
  std::vector<Reason> out;
  out.reserve(doc.size());
  for (const auto& item : doc) {
    if (!item.is_object()) return make_error("reasons", "an element is not a JSON object");
    Reason r;
    auto id = item.find("rule_id");
    auto detail = item.find("detail");
    auto score = item.find("score");
    if (id == item.end() || !id->is_string()) {
      return make_error("reasons", "an element has no string \"rule_id\"");
    }
    r.rule_id = id->get<std::string>();
    if (detail != item.end() && detail->is_string()) r.detail = detail->get<std::string>();
    if (score != item.end() && score->is_number()) r.score = score->get<double>();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace fw
