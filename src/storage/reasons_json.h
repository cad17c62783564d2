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

}  // namespace fw
