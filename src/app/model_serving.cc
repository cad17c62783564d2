#include "app/model_serving.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "training/model_dir.h"

namespace fw {
namespace {

namespace fs = std::filesystem;

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, fmt::format("cannot open: {}", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<size_t>(size) > max_bytes) {
    return make_error(path, fmt::format("larger than {} bytes", max_bytes));
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), size)) return make_error(path, "cannot read");
  return text;
}

std::string model_file_of(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? (fs::path(path) / kModelFile).string() : path;
}

}  // namespace

Result<std::string> model_version(const std::string& path) {
  auto text = read_file(model_file_of(path), kMaxModelFileBytes);
  if (!text.ok()) return text.error();
  return fmt::format("m{:012x}", hash_id(*text) >> 16);
}

Result<std::shared_ptr<const ModelBundle>> load_model_bundle(const std::string& champion_path,
                                                             const std::string& shadow_path,
                                                             const AppConfig& cfg) {
  if (champion_path.empty() && shadow_path.empty()) return std::shared_ptr<const ModelBundle>();
  auto bundle = std::make_shared<ModelBundle>();
  double threshold = kDefaultThreshold;
  if (!champion_path.empty()) {
    auto loaded = load_model(champion_path);
    if (!loaded.ok()) return loaded.error();
    auto version = model_version(champion_path);
    if (!version.ok()) return version.error();
    threshold = loaded->threshold;
    bundle->champion = std::make_shared<const TreeModel>(std::move(loaded->model));
    bundle->version = *version;
    std::error_code ec;
    const fs::path forest_path = fs::path(champion_path) / kForestFile;
    if (fs::is_directory(champion_path, ec) && fs::exists(forest_path, ec)) {
      auto text = read_file(forest_path.string(), kMaxModelFileBytes);
      if (!text.ok()) return text.error();
      auto forest = IsolationForest::from_json(*text);
      if (!forest.ok()) {
        return make_error(forest_path.string() + ": " + forest.error().field,
                          forest.error().reason);
      }
      bundle->forest = std::make_shared<const IsolationForest>(std::move(*forest));
    }
  }
  if (!shadow_path.empty()) {
    auto loaded = load_model(shadow_path);
    if (!loaded.ok()) return loaded.error();
    auto version = model_version(shadow_path);
    if (!version.ok()) return version.error();
    bundle->shadow = std::make_shared<const TreeModel>(std::move(loaded->model));
    bundle->shadow_version = *version;
    if (bundle->shadow->uses_anomaly_score() && loaded->forest) {
      bundle->shadow_forest = std::make_shared<const IsolationForest>(std::move(*loaded->forest));
    }
  }
  bundle->policy = default_model_policy(threshold);
  if (!std::isnan(cfg.model_review_at)) bundle->policy.review_at = cfg.model_review_at;
  if (!std::isnan(cfg.model_block_at)) bundle->policy.block_at = cfg.model_block_at;
  if (!std::isnan(cfg.anomaly_review_at)) bundle->policy.anomaly_review_at = cfg.anomaly_review_at;
  bundle->policy.anomaly_weight = cfg.anomaly_weight;
  if (Status st = check_model_bundle(*bundle); !st.ok()) {
    return make_error(champion_path + ": " + st.error().field, st.error().reason);
  }
  return std::shared_ptr<const ModelBundle>(std::move(bundle));
}

namespace {

nlohmann::json bundle_json(const ModelBundle* m) {
  auto number = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
  if (m == nullptr) return {{"champion", nullptr}, {"shadow", nullptr}, {"anomaly", false}};
  return {{"champion", m->champion ? nlohmann::json(m->version) : nlohmann::json()},
          {"shadow", m->shadow ? nlohmann::json(m->shadow_version) : nlohmann::json()},
          {"anomaly", m->forest != nullptr},
          {"trees", m->champion ? m->champion->tree_count() : 0},
          {"policy",
           {{"review_at", number(m->policy.review_at)},
            {"block_at", number(m->policy.block_at)},
            {"anomaly_review_at", number(m->policy.anomaly_review_at)},
            {"anomaly_weight", m->policy.anomaly_weight}}}};
}

}  // namespace

void add_model_routes(HttpServer& server, Engine& engine, const AppConfig& cfg) {
  server.route("GET", "/api/models", [&engine](const HttpRequest&) {
    const std::shared_ptr<const ModelBundle> m = engine.models();
    return HttpResponse::json(200, bundle_json(m.get()).dump());
  });
  server.route("POST", "/api/models/reload", [&engine, &cfg](const HttpRequest&) {
    if (cfg.model_path.empty() && cfg.shadow_model_path.empty()) {
      return HttpResponse::error(
          409, "no model folder configured: start with --model DIR (or model.path)");
    }
    auto loaded = load_model_bundle(cfg.model_path, cfg.shadow_model_path, cfg);
    if (!loaded.ok()) {
      spdlog::error("model reload rejected, the running models stay: {}", loaded.error().message());
      return HttpResponse::error(422, loaded.error().message());
    }
    engine.set_models(*loaded);
    spdlog::info("models reloaded: champion {}",
                 *loaded && (*loaded)->champion ? (*loaded)->version : std::string("none"));
    nlohmann::json body = bundle_json(loaded->get());
    body["status"] = "reloaded";
    return HttpResponse::json(200, body.dump());
  });
}

}  // namespace fw
