// Logging setup: spdlog to stderr, human-readable by default or JSON lines for production.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace fw {

// Configures the default logger once, at start-up, before threads start.
// level: "trace" | "debug" | "info" | "warn" | "error"; json: one JSON object per line.
void setup_logging(std::string_view level, bool json);

}  // namespace fw
