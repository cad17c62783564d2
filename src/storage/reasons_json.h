// Codec for a decision's reasons as a JSON array [{"rule_id":..,"detail":..,"score":..}], the
// form every Store backend keeps them in (a TEXT / JSONB column). Free functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/decision.h"

namespace fw {

// Appends the JSON array for `reasons` to `out` (no allocation beyond out's growth).
// Scores are written in the shortest form that reads back to the same double.
void append_reasons_json(std::string& out, const std::vector<Reason>& reasons);

// Parses what append_reasons_json wrote (or any equivalent JSON). Errors name the field
// "reasons" and say what is wrong.
Result<std::vector<Reason>> parse_reasons_json(std::string_view json);

// A decision's model part (docs/models.md) as one JSON object, the form both stores keep it in
// (decisions.model): {"score", "version", "shadow", "anomaly", "contributions": [{"feature",
// "value"}]}, NaN scores left out. has_model_part() is false for a decision made without
// models: the stores keep NULL.
bool has_model_part(const Decision& d);
void append_model_json(std::string& out, const Decision& d);
// Fills d's model fields from what append_model_json wrote. Errors name the field "model".
Status parse_model_json(std::string_view json, Decision& d);

}  // namespace fw
