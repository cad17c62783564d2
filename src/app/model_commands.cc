#include "app/model_commands.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/model_serving.h"
#include "app/setup.h"
#include "app/store_flags.h"
#include "training/model_dir.h"

namespace fw {

struct ModelCommands {
  CLI::App* model = nullptr;
  CLI::App* reg = nullptr;
  CLI::App* list = nullptr;
  CLI::App* activate = nullptr;
  CLI::App* shadow = nullptr;
  CLI::App* retire = nullptr;
  std::string folder;
  std::string version;
  bool force = false;
  std::string config_path;
  std::optional<std::string> data_dir, database_url;
};

namespace {

namespace fs = std::filesystem;

// The store the configuration names (--config, --data-dir, --database-url), as `lists` does.
Result<std::unique_ptr<Store>> registry_store(const ModelCommands& c, AppConfig& cfg) {
  auto named = store_config(c.config_path, c.data_dir, c.database_url);
  if (!named.ok()) return named.error();
  cfg = std::move(named).value();
  // Only `register` may create the SQLite database (registering before the first demo is
  // fine); the other subcommands on a missing one would only hide a mistyped --data-dir.
  if (cfg.backend != "postgres" && !c.reg->parsed()) {
    std::error_code ec;
    if (!fs::is_regular_file(cfg.sqlite_file(), ec)) {
      return make_error(c.data_dir ? "--data-dir" : "storage.path",
                        "no fraudwatch database at '" + cfg.sqlite_file() +
                            "': point --data-dir (or --database-url) at the store, or register a "
                            "model first with `fraudwatch model register FOLDER`");
    }
  }
  if (cfg.backend != "postgres" && cfg.sqlite_path.empty()) {
    std::error_code ec;
    fs::create_directories(cfg.data_dir, ec);
    if (ec) {
      return make_error("--data-dir", "cannot create '" + cfg.data_dir + "': " + ec.message());
    }
  }
  return open_store(cfg, /*fresh=*/false);
}

// metadata[key] (a path of object keys) when it is a number; an error naming the field when it
// is there but not a number; nullopt when absent.
Result<std::optional<double>> number_at(const nlohmann::json& metadata,
                                        const std::vector<std::string>& keys,
                                        const std::string& file) {
  const nlohmann::json* at = &metadata;
  std::string field;
  for (const std::string& k : keys) {
    field += field.empty() ? k : "." + k;
    if (!at->is_object()) return make_error(file + ": " + field, "expected a JSON object above it");
    auto it = at->find(k);
    if (it == at->end() || it->is_null()) return std::optional<double>();
    at = &*it;
  }
  if (!at->is_number() || !std::isfinite(at->get<double>())) {
    return make_error(file + ": " + field, "must be a finite number");
  }
  return std::optional<double>(at->get<double>());
}

}  // namespace

Result<RegisteredModel> describe_model_folder(const std::string& folder, Timestamp now) {
  if (folder.empty()) return make_error("FOLDER", "is empty; give a model folder");
  std::error_code ec;
  const fs::path abs = fs::absolute(fs::path(folder), ec).lexically_normal();
  if (ec) return make_error(folder, "cannot resolve the path: " + ec.message());
  std::string path = abs.string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (!fs::exists(abs, ec)) return make_error(path, "does not exist");
  if (!fs::is_directory(abs, ec)) {
    return make_error(path,
                      "is not a folder: a model is a folder with model.json (and metadata.json "
                      "from `fraudwatch train`); put a bring-your-own XGBoost JSON in a folder "
                      "as model.json");
  }
  if (!fs::exists(abs / kModelFile, ec)) {
    return make_error((abs / kModelFile).string(), "is missing: not a model folder");
  }
  auto loaded = load_model(path);
  if (!loaded.ok()) return loaded.error();
  auto version = model_version(path);
  if (!version.ok()) return version.error();

  const std::string meta_file = (abs / kMetadataFile).string();
  const nlohmann::json& meta = loaded->metadata;
  nlohmann::json metrics = nlohmann::json::object();
  struct Pick {
    const char* name;
    std::vector<std::string> keys;
  };
  const std::vector<Pick> picks = {
      {"roc_auc", {"validation_metrics", "roc_auc"}},
      {"average_precision", {"validation_metrics", "average_precision"}},
      {"precision", {"validation_metrics", "at_threshold", "precision"}},
      {"recall", {"validation_metrics", "at_threshold", "recall"}},
      {"f1", {"validation_metrics", "at_threshold", "f1"}},
      {"validation_rows", {"validation_metrics", "rows"}},
      {"trees", {"params", "trees"}},
  };
  for (const Pick& p : picks) {
    auto v = number_at(meta, p.keys, meta_file);
    if (!v.ok()) return v.error();
    if (*v) metrics[p.name] = **v;
  }
  metrics["threshold"] = loaded->threshold;
  auto vm = meta.find("validation_metrics");
  if (vm != meta.end() && vm->is_object()) {
    for (const char* k : {"from", "to"}) {
      auto it = vm->find(k);
      if (it == vm->end()) continue;
      if (!it->is_string() || it->get<std::string>().size() > 64) {
        return make_error(meta_file + ": validation_metrics." + k,
                          "must be an RFC 3339 time string");
      }
      metrics[std::string("validation_") + k] = it->get<std::string>();
    }
  }
  if (meta.empty()) metrics["bring_your_own"] = true;

  RegisteredModel m;
  m.version = *version;
  m.path = path;
  m.metrics = metrics.dump();
  m.registered_at = now;
  m.status = ModelStatus::kCandidate;
  m.status_at = now;
  if (Status st = check_registered_model(m); !st.ok()) return st.error();
  return m;
}

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "model: %s\n", message.c_str());
  return 1;
}

std::string metric_text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return "-";
  return fmt::format("{:.4f}", it->get<double>());
}

void print_changes(const std::vector<ModelStatusChange>& changes) {
  for (const ModelStatusChange& c : changes) {
    std::printf("%s: %s -> %s\n", c.version.c_str(), std::string(to_string(c.from)).c_str(),
                std::string(to_string(c.to)).c_str());
  }
}

int run_list(Store& store) {
  auto all = store.registered_models();
  if (!all.ok()) return fail(all.error().message());
  if (all->empty()) {
    std::printf("no registered models: add one with `fraudwatch model register FOLDER`\n");
    return 0;
  }
  std::printf("%-14s %-9s %-8s %-8s %-9s %-20s %s\n", "VERSION", "STATUS", "ROC_AUC", "PR_AUC",
              "THRESHOLD", "REGISTERED", "FOLDER");
  for (const RegisteredModel& m : *all) {
    const auto j = nlohmann::json::parse(m.metrics, nullptr, /*allow_exceptions=*/false);
    const nlohmann::json metrics = j.is_object() ? j : nlohmann::json::object();
    std::string when = format_rfc3339(m.registered_at);
    if (when.size() > 20) when = when.substr(0, 19) + "Z";  // to the second
    std::printf("%-14s %-9s %-8s %-8s %-9s %-20s %s\n", m.version.c_str(),
                std::string(to_string(m.status)).c_str(), metric_text(metrics, "roc_auc").c_str(),
                metric_text(metrics, "average_precision").c_str(),
                metric_text(metrics, "threshold").c_str(), when.c_str(), m.path.c_str());
  }
  return 0;
}

int run_set_status(Store& store, const AppConfig& cfg, const ModelCommands& c, ModelStatus to) {
  if (Status st = check_model_version(c.version); !st.ok()) return fail(st.error().message());
  auto all = store.registered_models();
  if (!all.ok()) return fail(all.error().message());
  const RegisteredModel* target = nullptr;
  for (const RegisteredModel& m : *all) {
    if (m.version == c.version) target = &m;
  }
  if (target == nullptr) return fail(unknown_model_version(c.version).message());
  if (to == ModelStatus::kRetired && target->status == ModelStatus::kChampion && !c.force) {
    return fail(fmt::format(
        "model version '{}': is the champion; running engines that follow the registry would "
        "be left without a model. Activate another version first (`fraudwatch model activate "
        "VERSION`), or pass --force to retire it anyway (they then score with rules only)",
        c.version));
  }
  if (to == ModelStatus::kChampion || to == ModelStatus::kShadow) {
    // Refuse a folder that cannot serve before the registry changes: running engines would
    // only log the failure and keep their models.
    auto bundle = to == ModelStatus::kChampion ? load_model_bundle(target->path, "", cfg)
                                               : load_model_bundle("", target->path, cfg);
    if (!bundle.ok()) {
      return fail(fmt::format("model version '{}': its folder cannot serve: {}", c.version,
                              bundle.error().message()));
    }
    const std::string loaded =
        to == ModelStatus::kChampion ? (*bundle)->version : (*bundle)->shadow_version;
    if (loaded != c.version) {
      return fail(
          fmt::format("model version '{}': its folder {} now holds model {}; register it again "
                      "(`fraudwatch model register {}`)",
                      c.version, target->path, loaded, target->path));
    }
  }
  auto changes = store.set_model_status(c.version, to, SystemClock::instance().now());
  if (!changes.ok()) return fail(changes.error().message());
  if (changes->empty()) {
    std::printf("%s: already %s\n", c.version.c_str(), std::string(to_string(to)).c_str());
    return 0;
  }
  print_changes(*changes);
  if (to != ModelStatus::kCandidate) {
    std::printf(
        "running demo/serve instances that follow the registry switch within about a "
        "second\n");
  }
  return 0;
}

}  // namespace

std::shared_ptr<ModelCommands> add_model_commands(CLI::App& app) {
  auto c = std::make_shared<ModelCommands>();
  c->model = app.add_subcommand(
      "model",
      "the model registry in the store: register model folders, list them, and choose the "
      "champion and shadow that running demo/serve instances (started without --model) serve");
  c->model->require_subcommand(1);
  c->reg = c->model->add_subcommand(
      "register",
      "check a model folder (from `fraudwatch train`, or a folder with a bring-your-own "
      "model.json) and record it as a candidate with its metrics; repeating it is harmless");
  c->reg->add_option("FOLDER", c->folder, "the model folder")->required();
  c->list = c->model->add_subcommand(
      "list", "every registered version: status, ROC AUC, PR AUC, threshold, time, folder");
  c->activate = c->model->add_subcommand(
      "activate", "make VERSION the champion (the one that decides); the old champion is retired");
  c->shadow = c->model->add_subcommand(
      "shadow",
      "make VERSION the shadow (scored and recorded beside the champion, never decides); the "
      "old shadow becomes a candidate again");
  c->retire =
      c->model->add_subcommand("retire", "retire VERSION; refused for the champion unless --force");
  c->retire->add_flag("--force", c->force,
                      "retire even the champion: engines following the registry then score with "
                      "rules only (and the shadow, if any)");
  for (CLI::App* sub : {c->activate, c->shadow, c->retire}) {
    sub->add_option("VERSION", c->version, "a version from `fraudwatch model list`")->required();
  }
  for (CLI::App* sub : {c->reg, c->list, c->activate, c->shadow, c->retire}) {
    add_store_flags(sub, c->config_path, c->data_dir, c->database_url);
  }
  return c;
}

std::optional<int> run_model_commands(const ModelCommands& c) {
  if (!c.model->parsed()) return std::nullopt;
  // The folder is checked before the store is opened: a bad folder never creates a database.
  std::optional<RegisteredModel> described;
  if (c.reg->parsed()) {
    auto d = describe_model_folder(c.folder, SystemClock::instance().now());
    if (!d.ok()) return fail(d.error().message());
    described = std::move(d).value();
  }
  AppConfig cfg;
  auto store = registry_store(c, cfg);
  if (!store.ok()) return fail(store.error().message());
  Store& s = **store;
  if (described) {
    auto added = s.register_model(*described);
    if (!added.ok()) return fail(added.error().message());
    if (*added) {
      std::printf("registered %s as a candidate: %s\n", described->version.c_str(),
                  described->path.c_str());
    } else {
      std::printf("%s was already registered; its folder and metrics are updated: %s\n",
                  described->version.c_str(), described->path.c_str());
    }
    return 0;
  }
  if (c.list->parsed()) return run_list(s);
  if (c.activate->parsed()) return run_set_status(s, cfg, c, ModelStatus::kChampion);
  if (c.shadow->parsed()) return run_set_status(s, cfg, c, ModelStatus::kShadow);
  if (c.retire->parsed()) return run_set_status(s, cfg, c, ModelStatus::kRetired);
  return 2;
}

}  // namespace fw
