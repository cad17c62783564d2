#include "storage/model_registry.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace fw {

std::string_view to_string(ModelStatus s) {
  switch (s) {
    case ModelStatus::kCandidate:
      return "candidate";
    case ModelStatus::kChampion:
      return "champion";
    case ModelStatus::kShadow:
      return "shadow";
    case ModelStatus::kRetired:
      return "retired";
  }
  return "candidate";
}

std::optional<ModelStatus> parse_model_status(std::string_view text) {
  for (ModelStatus s : {ModelStatus::kCandidate, ModelStatus::kChampion, ModelStatus::kShadow,
                        ModelStatus::kRetired}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

Status check_model_version(const std::string& version) {
  if (version.empty()) {
    return make_error("model version", "is empty; see `fraudwatch model list` for the versions");
  }
  if (version.size() > kMaxModelVersionBytes) {
    return make_error("model version", fmt::format("is {} bytes; the limit is {}", version.size(),
                                                   kMaxModelVersionBytes));
  }
  for (char c : version) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return make_error("model version", "may contain only letters, digits, '_', '-' and '.'");
    }
  }
  return Status::Ok();
}

Status check_registered_model(const RegisteredModel& m) {
  if (Status st = check_model_version(m.version); !st.ok()) return st;
  if (m.path.empty()) return make_error("model path", "is empty; give the model folder");
  if (m.path.size() > kMaxModelPathBytes) {
    return make_error("model path", fmt::format("is {} bytes; the limit is {}", m.path.size(),
                                                kMaxModelPathBytes));
  }
  if (m.path.find_first_of(std::string_view("\0\n\r", 3)) != std::string::npos) {
    return make_error("model path", "contains a NUL or a line break");
  }
  if (m.metrics.size() > kMaxModelMetricsBytes) {
    return make_error("model metrics", fmt::format("is {} bytes; the limit is {}", m.metrics.size(),
                                                   kMaxModelMetricsBytes));
  }
  const auto doc = nlohmann::json::parse(m.metrics, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return make_error("model metrics", "must be a JSON object");
  return Status::Ok();
}

Error unknown_model_version(const std::string& version) {
  return make_error("model version '" + version + "'",
                    "is not registered; see `fraudwatch model list` for the versions, or "
                    "`fraudwatch model register FOLDER` to add one");
}

Result<std::vector<ModelStatusChange>> plan_model_status_change(
    const std::vector<RegisteredModel>& rows, const std::string& version, ModelStatus to) {
  std::optional<ModelStatus> current;
  std::vector<ModelStatusChange> changes;
  for (const RegisteredModel& m : rows) {
    if (m.version == version) {
      current = m.status;
    } else if (to == ModelStatus::kChampion) {
      changes.push_back({m.version, m.status, ModelStatus::kRetired});
    } else if (to == ModelStatus::kShadow) {
      changes.push_back({m.version, m.status, ModelStatus::kCandidate});
    }
  }
  if (!current) return unknown_model_version(version);
  if (*current == to) return std::vector<ModelStatusChange>{};
  changes.push_back({version, *current, to});
  return changes;
}

}  // namespace fw
