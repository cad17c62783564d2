#include "app/registry_models.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "app/model_serving.h"

namespace fw {
namespace {

struct Serving {
  const RegisteredModel* champion = nullptr;
  const RegisteredModel* shadow = nullptr;
};

Serving serving_of(const std::vector<RegisteredModel>& all) {
  Serving s;
  for (const RegisteredModel& m : all) {
    if (m.status == ModelStatus::kChampion) s.champion = &m;
    if (m.status == ModelStatus::kShadow) s.shadow = &m;
  }
  return s;
}

std::string key_of(const Serving& s) {
  return fmt::format("{}|{}|{}|{}", s.champion ? s.champion->version : "",
                     s.champion ? s.champion->path : "", s.shadow ? s.shadow->version : "",
                     s.shadow ? s.shadow->path : "");
}

// Loads the registered folders and checks each still holds the registered model.
Result<std::shared_ptr<const ModelBundle>> load_registered(const RegisteredModel* champion,
                                                           const RegisteredModel* shadow,
                                                           const AppConfig& cfg) {
  auto bundle = load_model_bundle(champion ? champion->path : "", shadow ? shadow->path : "", cfg);
  if (!bundle.ok()) {
    const RegisteredModel* who = champion ? champion : shadow;
    return make_error(fmt::format("registered model {}", who->version), bundle.error().message());
  }
  const ModelBundle* b = bundle->get();
  auto same = [](const RegisteredModel* m, const std::string& loaded) -> Status {
    if (m == nullptr || loaded == m->version) return Status::Ok();
    return make_error(
        fmt::format("registered model {}", m->version),
        fmt::format("its folder {} now holds model {}: the folder changed since it was "
                    "registered; register it again (`fraudwatch model register {}`)",
                    m->path, loaded, m->path));
  };
  if (Status st = same(champion, b ? b->version : ""); !st.ok()) return st.error();
  if (Status st = same(shadow, b ? b->shadow_version : ""); !st.ok()) return st.error();
  return bundle;
}

}  // namespace

RegistryModels::RegistryModels(Store& store, const AppConfig& cfg, Apply apply, const Clock& clock)
    : store_(store), cfg_(cfg), apply_(std::move(apply)), clock_(clock) {}

Result<bool> RegistryModels::poll() {
  std::lock_guard lock(mu_);
  return poll_locked();
}

Result<bool> RegistryModels::poll_locked() {
  auto all = store_.registered_models();
  if (!all.ok()) {
    const std::string key = "read|" + all.error().message();
    if (key == failed_) return false;
    failed_ = key;
    return make_error("model registry",
                      "cannot be read, the running models stay: " + all.error().message());
  }
  const Serving s = serving_of(*all);
  const std::string key = key_of(s);
  if (loaded_ && key == served_) {
    failed_.clear();
    return false;
  }
  if (key == failed_) return false;  // reported already; wait for the registry to change
  auto bundle = load_registered(s.champion, s.shadow, cfg_);
  if (!bundle.ok()) {
    failed_ = key;
    return make_error(bundle.error().field, bundle.error().reason + "; the running models stay");
  }
  apply_(*bundle);
  served_ = key;
  failed_.clear();
  loaded_ = true;
  return true;
}

Result<std::vector<ModelStatusChange>> RegistryModels::activate(const std::string& version,
                                                                ModelStatus to) {
  if (Status st = check_model_version(version); !st.ok()) return st.error();
  std::lock_guard lock(mu_);
  auto all = store_.registered_models();
  if (!all.ok()) return all.error();
  const RegisteredModel* target = nullptr;
  for (const RegisteredModel& m : *all) {
    if (m.version == version) target = &m;
  }
  if (target == nullptr) return unknown_model_version(version);
  // Refuse a folder that cannot serve before the registry changes.
  auto check = to == ModelStatus::kShadow ? load_registered(nullptr, target, cfg_)
                                          : load_registered(target, nullptr, cfg_);
  if (!check.ok()) return check.error();
  auto changes = store_.set_model_status(version, to, clock_.now());
  if (!changes.ok()) return changes.error();
  failed_.clear();
  auto swapped = poll_locked();
  if (!swapped.ok()) return swapped.error();
  return changes;
}

Result<std::unique_ptr<RegistryModels>> follow_registry(Store& store, const AppConfig& cfg,
                                                        Engine& engine) {
  if (!cfg.model_path.empty() || !cfg.shadow_model_path.empty()) {
    return std::unique_ptr<RegistryModels>();
  }
  auto registry = std::make_unique<RegistryModels>(
      store, cfg,
      [&engine](std::shared_ptr<const ModelBundle> m) { engine.set_models(std::move(m)); });
  if (auto first = registry->poll(); !first.ok()) return first.error();
  return registry;
}

void log_registry_poll(const Result<bool>& outcome, const Engine& engine) {
  if (!outcome.ok()) {
    spdlog::error("{}", outcome.error().message());
    return;
  }
  if (!*outcome) return;
  const std::shared_ptr<const ModelBundle> m = engine.models();
  spdlog::info("models from the registry: champion {}, shadow {}",
               m && m->champion ? m->version : "none", m && m->shadow ? m->shadow_version : "none");
}

void add_registry_routes(HttpServer& server, Engine& engine, RegistryModels* registry) {
  server.route("POST", "/api/models/activate", [&engine, registry](const HttpRequest& req) {
    if (registry == nullptr) {
      return HttpResponse::error(409,
                                 "the models come from --model/--shadow-model (or model.path), "
                                 "not the registry: restart without them to follow it");
    }
    const std::string as = req.param("as", "champion");
    std::optional<ModelStatus> to = parse_model_status(as);
    if (!to || (*to != ModelStatus::kChampion && *to != ModelStatus::kShadow)) {
      return HttpResponse::error(400, "as: must be champion or shadow");
    }
    const std::string version = req.param("version");
    if (Status st = check_model_version(version); !st.ok()) {
      return HttpResponse::error(400, "version: " + st.error().reason);
    }
    auto changes = registry->activate(version, *to);
    if (!changes.ok()) {
      const std::string& field = changes.error().field;
      const bool unknown = field.rfind("model version", 0) == 0;
      const bool folder = field.rfind("registered model", 0) == 0;
      return HttpResponse::error(unknown ? 404 : folder ? 422 : 503, changes.error().message());
    }
    nlohmann::json list = nlohmann::json::array();
    for (const ModelStatusChange& c : *changes) {
      list.push_back({{"version", c.version},
                      {"from", std::string(to_string(c.from))},
                      {"to", std::string(to_string(c.to))}});
    }
    const std::shared_ptr<const ModelBundle> m = engine.models();
    nlohmann::json body = {
        {"status", "activated"},
        {"changes", list},
        {"champion", m && m->champion ? nlohmann::json(m->version) : nlohmann::json()},
        {"shadow", m && m->shadow ? nlohmann::json(m->shadow_version) : nlohmann::json()}};
    return HttpResponse::json(200, body.dump());
  });
}

}  // namespace fw
