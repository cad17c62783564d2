#include "app/rules_commands.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/setup.h"
#include "app/store_flags.h"
#include "rules/rule_set.h"
#include "server/http_client.h"

namespace fw {

struct RulesCommands {
  CLI::App* rules = nullptr;
  CLI::App* check = nullptr;
  CLI::App* reload = nullptr;
  std::string file;
  std::string url = "http://127.0.0.1:8080";
  double timeout_s = 30;
  // fraudwatch lists add|remove|show|import
  CLI::App* lists = nullptr;
  CLI::App* list_add = nullptr;
  CLI::App* list_remove = nullptr;
  CLI::App* list_show = nullptr;
  CLI::App* list_import = nullptr;
  std::string list_name;
  std::vector<std::string> list_values;
  std::string list_file;
  std::string config_path;
  std::optional<std::string> data_dir, database_url;
};

namespace {

int run_check(const RulesCommands& c) {
  // No store here: lists a rule file reads from the store (`store: true`) are checked as empty
  // lists, so the syntax and names are checked; their values are read when the engine loads.
  std::vector<std::string> from_store;
  auto loaded = RuleSet::from_file(c.file, [&from_store](const std::string& name) {
    from_store.push_back(name);
    return Result<std::vector<std::string>>(std::vector<std::string>{});
  });
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.error().message().c_str());
    return 1;
  }
  const RuleSet& set = **loaded;
  size_t enabled = 0;
  for (const Rule& r : set.rules()) enabled += r.enabled ? 1 : 0;
  std::printf("%s: ok, %zu rules (%zu enabled), version %s\n", c.file.c_str(), set.rules().size(),
              enabled, set.version().c_str());
  for (const std::string& name : from_store) {
    std::printf("  list %s comes from the store (checked as empty here)\n", name.c_str());
  }
  return 0;
}

// The "error" member of a JSON error body, or the body itself.
std::string error_text(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>();
  }
  return body.substr(0, 2000);
}

int run_reload(const RulesCommands& c) {
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(c.timeout_s * 1000));
  auto reply = http_call(c.url, "POST", "/api/rules/reload", {}, timeout);
  if (!reply.ok()) {
    std::fprintf(stderr, "rules reload: %s (is fraudwatch running there? see --url)\n",
                 reply.error().message().c_str());
    return 1;
  }
  if (reply->status == 200) {
    const auto j = nlohmann::json::parse(reply->body, nullptr, false);
    const std::string version = j.is_object() && j.contains("version") && j["version"].is_string()
                                    ? j["version"].get<std::string>()
                                    : "?";
    std::printf("reloaded: now running %s\n", version.c_str());
    return 0;
  }
  if (reply->status == 422) {
    // The rule file was rejected whole; the error carries file:line:column.
    std::fprintf(stderr, "rejected, the running rule set stays: %s\n",
                 error_text(reply->body).c_str());
    return 1;
  }
  std::fprintf(stderr, "rules reload: HTTP %d: %s\n", reply->status,
               error_text(reply->body).c_str());
  return 1;
}

// The store the configuration names (--config, --data-dir, --database-url).
Result<std::unique_ptr<Store>> list_store(const RulesCommands& c) {
  auto named = store_config(c.config_path, c.data_dir, c.database_url);
  if (!named.ok()) return named.error();
  const AppConfig& cfg = *named;
  if (cfg.backend != "postgres" && cfg.sqlite_path.empty()) {
    // As the demo does: the SQLite database lives in the data folder, created on first use.
    std::error_code ec;
    std::filesystem::create_directories(cfg.data_dir, ec);
    if (ec)
      return make_error("--data-dir", "cannot create '" + cfg.data_dir + "': " + ec.message());
  }
  return open_store(cfg, /*fresh=*/false);
}

// One value per line; blank lines and lines starting with '#' are skipped (as in a rule set's
// list files). Refuses a file over 64 MiB.
Result<std::vector<std::string>> read_values_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, "cannot open the list file: check the path and permissions");
  in.seekg(0, std::ios::end);
  const auto size = static_cast<int64_t>(in.tellg());
  if (size > (int64_t{64} << 20)) return make_error(path, "is over 64 MiB");
  in.seekg(0);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line);
  }
  return out;
}

int run_lists(const RulesCommands& c) {
  auto store = list_store(c);
  if (!store.ok()) {
    std::fprintf(stderr, "lists: %s\n", store.error().message().c_str());
    return 1;
  }
  Store& s = **store;
  if (c.list_show->parsed()) {
    if (c.list_name.empty()) {
      auto all = s.lists();
      if (!all.ok()) {
        std::fprintf(stderr, "lists: %s\n", all.error().message().c_str());
        return 1;
      }
      for (const auto& [name, count] : *all) {
        std::printf("%s\t%lld\n", name.c_str(), static_cast<long long>(count));
      }
      return 0;
    }
    auto values = s.list_values(c.list_name);
    if (!values.ok()) {
      std::fprintf(stderr, "lists: %s\n", values.error().message().c_str());
      return 1;
    }
    for (const std::string& v : *values) std::printf("%s\n", v.c_str());
    return 0;
  }
  std::vector<std::string> values = c.list_values;
  if (c.list_import->parsed()) {
    auto read = read_values_file(c.list_file);
    if (!read.ok()) {
      std::fprintf(stderr, "lists: %s\n", read.error().message().c_str());
      return 1;
    }
    values = std::move(read).value();
  }
  const bool remove = c.list_remove->parsed();
  auto changed =
      remove ? s.remove_list_values(c.list_name, values) : s.add_list_values(c.list_name, values);
  if (!changed.ok()) {
    std::fprintf(stderr, "lists: %s\n", changed.error().message().c_str());
    return 1;
  }
  std::printf("%s: %zu %s\n", c.list_name.c_str(), *changed, remove ? "removed" : "added");
  return 0;
}

}  // namespace

std::shared_ptr<RulesCommands> add_rules_commands(CLI::App& app) {
  auto c = std::make_shared<RulesCommands>();
  c->rules = app.add_subcommand("rules", "check a rule-set file, or reload a running instance's");
  c->rules->require_subcommand(1);
  c->check = c->rules->add_subcommand(
      "check",
      "load and type-check a rule-set YAML file; print errors as file:line:column (exit 1)");
  c->check->add_option("FILE", c->file, "the rule-set YAML file")->required();
  c->reload = c->rules->add_subcommand(
      "reload",
      "make a running fraudwatch reload its --rules file now (POST /api/rules/reload); a bad "
      "file is rejected with its position and the running rules stay (exit 1)");
  c->reload->add_option("--url", c->url, "the running instance")->capture_default_str();
  c->reload->add_option("--timeout", c->timeout_s, "seconds to wait for the answer")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));

  c->lists =
      app.add_subcommand("lists",
                         "named allow/deny lists in the store, read by rules as list(\"NAME\") "
                         "(lists: {NAME: {store: true}} in the rule file; docs/rules.md)");
  c->lists->require_subcommand(1);
  c->list_add = c->lists->add_subcommand("add", "add values to a list (created on first value)");
  c->list_remove =
      c->lists->add_subcommand("remove", "remove values (a list with no values left is gone)");
  c->list_show = c->lists->add_subcommand(
      "show", "without NAME: every list and its size; with NAME: its values, one a line");
  c->list_import = c->lists->add_subcommand(
      "import", "add the values of a file: one a line, '#' comments and blank lines skipped");
  for (CLI::App* sub : {c->list_add, c->list_remove}) {
    sub->add_option("NAME", c->list_name, "list name: letters, digits, '_', '-', '.'")->required();
    sub->add_option("VALUES", c->list_values, "values (1-256 bytes each)")->required();
  }
  c->list_show->add_option("NAME", c->list_name, "list name");
  c->list_import->add_option("NAME", c->list_name, "list name")->required();
  c->list_import->add_option("FILE", c->list_file, "values file")->required();
  for (CLI::App* sub : {c->list_add, c->list_remove, c->list_show, c->list_import}) {
    add_store_flags(sub, c->config_path, c->data_dir, c->database_url);
  }
  return c;
}

std::optional<int> run_rules_commands(const RulesCommands& c) {
  if (c.check->parsed()) return run_check(c);
  if (c.reload->parsed()) return run_reload(c);
  if (c.lists->parsed()) return run_lists(c);
  return std::nullopt;
}

}  // namespace fw
