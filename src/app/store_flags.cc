#include "app/store_flags.h"

#include <CLI/CLI.hpp>

namespace fw {

void add_store_flags(CLI::App* cmd, std::string& config_path, std::optional<std::string>& data_dir,
                     std::optional<std::string>& database_url) {
  cmd->add_option("--config", config_path, "YAML configuration file")->check(CLI::ExistingFile);
  cmd->add_option("--data-dir", data_dir, "where the SQLite database lives (default ./data)");
  cmd->add_option("--database-url", database_url,
                  "the PostgreSQL store at this libpq URL (or FRAUDWATCH_DATABASE_URL)");
}

Result<AppConfig> store_config(const std::string& config_path,
                               const std::optional<std::string>& data_dir,
                               const std::optional<std::string>& database_url) {
  AppConfig cfg;
  if (!config_path.empty()) {
    auto loaded = load_config(config_path);
    if (!loaded.ok()) return loaded.error();
    cfg = *loaded;
  }
  if (data_dir) cfg.data_dir = *data_dir;
  if (database_url) {
    cfg.backend = "postgres";
    cfg.database_url = *database_url;
  }
  return cfg;
}

}  // namespace fw
