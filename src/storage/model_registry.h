// The model registry's value types and checks (Store::register_model and friends): a registered
// model version, its status, and what a version, folder path and metrics summary may be. Shared
// by both backends, the CLI and the HTTP API so every entry point refuses the same input with
// the same words. Value types and pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace fw {

// A version's role. At most one champion (decides) and at most one shadow (scored and recorded
// beside the champion) at a time; candidates wait; retired versions were champions replaced by
// another (docs/models.md, "Registry").
enum class ModelStatus { kCandidate, kChampion, kShadow, kRetired };

std::string_view to_string(ModelStatus s);
std::optional<ModelStatus> parse_model_status(std::string_view text);

// One registered version.
struct RegisteredModel {
  std::string version;          // model_version(folder): "m" + 12 hex digits of model.json's hash
  std::string path;             // the model folder, absolute
  std::string metrics;          // JSON object: a summary of the folder's metadata (ROC AUC, ...)
  Timestamp registered_at = 0;  // UTC microseconds of the first registration
  ModelStatus status = ModelStatus::kCandidate;
  Timestamp status_at = 0;  // UTC microseconds of the last status change
};

// One status that set_model_status changed: the version asked for, and any version it displaced
// (the old champion retired, the old shadow back to candidate).
struct ModelStatusChange {
  std::string version;
  ModelStatus from = ModelStatus::kCandidate;
  ModelStatus to = ModelStatus::kCandidate;
};

// A version: 1-64 letters, digits, '_', '-' or '.'.
inline constexpr size_t kMaxModelVersionBytes = 64;
// A folder path: 1-4096 bytes, no NUL or line break.
inline constexpr size_t kMaxModelPathBytes = 4096;
// The metrics summary: a JSON object of at most 64 KiB.
inline constexpr size_t kMaxModelMetricsBytes = 64 * 1024;

// Errors name the field ("model version", "model path", "model metrics") and the reason.
Status check_model_version(const std::string& version);
Status check_registered_model(const RegisteredModel& m);
// The error for a version the registry does not hold.
Error unknown_model_version(const std::string& version);

// What set_model_status(version, to) changes, given the registry's rows for `version` and for
// the role `to` (the backends select `WHERE version = V OR status = TO`): the versions it
// displaces first (an old champion retires, an old shadow goes back to candidate), which frees
// the role, then `version` itself. Empty when `version` already has that status; the
// unknown_model_version error when no row is `version`.
Result<std::vector<ModelStatusChange>> plan_model_status_change(
    const std::vector<RegisteredModel>& rows, const std::string& version, ModelStatus to);

}  // namespace fw
