// Model serving plumbing shared by the commands that score traffic (demo, bench, replay):
// model folders become a ModelBundle for Engine::set_models, with the policy of the config's
// `model:` section. Plain functions; thread-safe on distinct inputs.
#pragma once

#include <memory>
#include <string>

#include "app/config.h"
#include "core/result.h"
#include "engine/engine.h"
#include "server/http_server.h"

namespace fw {

// A model folder's version: "m" + the first 12 hex digits of a 64-bit hash of its model.json,
// so the same model always has the same version. Errors name the file.
Result<std::string> model_version(const std::string& path);

// Loads the champion (and the Isolation Forest in its folder's isolation_forest.json, if any)
// from champion_path and the shadow from shadow_path (either may be empty; both empty: null).
// The policy is default_model_policy(the champion's threshold) overridden by the config's
// model.review_at, model.block_at, model.anomaly_review_at and model.anomaly_weight.
// Errors name the folder and the field: a model trained on another feature schema, a forest of
// other columns, a malformed file.
Result<std::shared_ptr<const ModelBundle>> load_model_bundle(const std::string& champion_path,
                                                             const std::string& shadow_path,
                                                             const AppConfig& cfg);

// The file name of the Isolation Forest in a model folder.
inline constexpr const char* kForestFile = "isolation_forest.json";

// The model endpoints of the HTTP server (docs/http-api.md):
//   GET  /api/models         the serving bundle: champion and shadow versions, forest, policy
//   POST /api/models/reload  re-reads the configured model folders (cfg.model_path and
//                            cfg.shadow_model_path) and swaps them in the running engine
//                            (Engine::set_models: per source batch, no transaction lost);
//                            422 {"error"} when a folder is refused (the running models stay),
//                            409 when no model folder is configured
// Handlers run on server threads; Engine is thread-safe. The caller keeps engine and cfg alive
// until the server stops.
void add_model_routes(HttpServer& server, Engine& engine, const AppConfig& cfg);

}  // namespace fw
