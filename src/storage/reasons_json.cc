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

bool has_model_part(const Decision& d) {
  return !d.model_version.empty() || !std::isnan(d.model_score) || !std::isnan(d.shadow_score) ||
         !std::isnan(d.anomaly_score) || !d.contributions.empty();
}

void append_model_json(std::string& out, const Decision& d) {
  out.push_back('{');
  bool first = true;
  auto key = [&](const char* k) {
    if (!first) out.push_back(',');
    first = false;
    out += k;
  };
  auto number = [&](const char* k, double v) {
    if (std::isnan(v)) return;
    key(k);
    append_double(out, v);
  };
  number("\"score\":", d.model_score);
  number("\"shadow\":", d.shadow_score);
  number("\"anomaly\":", d.anomaly_score);
  if (!d.model_version.empty()) {
    key("\"version\":");
    append_json_string(out, d.model_version);
  }
  if (!d.contributions.empty()) {
    key("\"contributions\":[");
    for (size_t i = 0; i < d.contributions.size(); ++i) {
      if (i > 0) out.push_back(',');
      out += "{\"feature\":";
      append_json_string(out, d.contributions[i].feature);
      out += ",\"value\":";
      append_double(out, d.contributions[i].value);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back('}');
}

Status parse_model_json(std::string_view json, Decision& d) {
  auto doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return make_error("model", "not a JSON object; the stored row is corrupt");
  }
  auto number = [&](const char* k, double& v) -> Status {
    auto it = doc.find(k);
    if (it == doc.end()) return Status::Ok();
    if (!it->is_number()) return make_error("model", std::string("\"") + k + "\" is not a number");
    v = it->get<double>();
    return Status::Ok();
  };
  for (auto [k, v] : {std::pair{"score", &d.model_score},
                      {"shadow", &d.shadow_score},
                      {"anomaly", &d.anomaly_score}}) {
    if (Status st = number(k, *v); !st.ok()) return st;
  }
  if (auto it = doc.find("version"); it != doc.end()) {
    if (!it->is_string()) return make_error("model", "\"version\" is not a string");
    d.model_version = it->get<std::string>();
  }
  if (auto it = doc.find("contributions"); it != doc.end()) {
    if (!it->is_array()) return make_error("model", "\"contributions\" is not an array");
    d.contributions.clear();
    for (const auto& c : *it) {
      if (!c.is_object() || !c.contains("feature") || !c["feature"].is_string() ||
          !c.contains("value") || !c["value"].is_number()) {
        return make_error("model", "a contribution is not {\"feature\": text, \"value\": number}");
      }
      d.contributions.push_back({c["feature"].get<std::string>(), c["value"].get<double>()});
    }
  }
  return Status::Ok();
}

}  // namespace fw
