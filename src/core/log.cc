#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace fw {

void setup_logging(std::string_view level, bool json) {
  auto logger = spdlog::stderr_color_mt("fraudwatch");
  if (json) {
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","thread":%t,"msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace fw
