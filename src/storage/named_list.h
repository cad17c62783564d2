// Checks for named allow/deny lists kept in the store (Store::add_list_values and friends): what
// a list name and a value may be, shared by both backends, the CLI and the HTTP API so every
// entry point refuses the same input with the same words. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"

namespace fw {

// A list name: 1-64 letters, digits, '_', '-' or '.' (as in a rule file's `lists:`).
inline constexpr size_t kMaxListNameBytes = 64;
// A value: 1-256 bytes, no NUL, no line break (list files hold one value per line).
inline constexpr size_t kMaxStoredListValueBytes = 256;
// Values one call may add or remove.
inline constexpr size_t kMaxListValuesPerCall = 100'000;

// Errors name the field ("list name", "values[3]") and the reason.
Status check_list_name(const std::string& name);
Status check_list_values(const std::vector<std::string>& values);
// The error for a list that holds no values.
Error unknown_list(const std::string& name);

}  // namespace fw
