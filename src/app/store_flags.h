// The three flags that name a store for the commands that work on one outside a running engine
// (`lists`, `model`, `train --from-store`): --config FILE, --data-dir DIR, --database-url URL.
// Plain functions; the caller owns the bound values.
#pragma once

#include <optional>
#include <string>

#include "app/config.h"
#include "core/result.h"

namespace CLI {
class App;
}

namespace fw {

// Adds --config, --data-dir and --database-url to `cmd`, bound to the three values.
void add_store_flags(CLI::App* cmd, std::string& config_path, std::optional<std::string>& data_dir,
                     std::optional<std::string>& database_url);

// The configuration the flags name: the --config file (defaults without one), then --data-dir,
// then --database-url (which selects PostgreSQL). Errors name the configuration file's field.
Result<AppConfig> store_config(const std::string& config_path,
                               const std::optional<std::string>& data_dir,
                               const std::optional<std::string>& database_url);

}  // namespace fw
