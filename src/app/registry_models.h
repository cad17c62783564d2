// Models from the store's registry in a running engine (docs/models.md, "Registry";
// docs/adr/0015-registry-driven-model-activation.md): demo and serve started without --model serve
// the registry's champion and shadow, and follow the registry while they run. poll() (once a
// second from the command's loop, beside the rule reloader) reads the registry and, when its
// champion or shadow changed, loads their folders and swaps them into the engine through
// `apply` (Engine::set_models: per source batch, no transaction lost). activate() is the same
// after a status change of its own (POST /api/models/activate).
// Owned by the command; thread-safe (poll from the main loop, activate from server threads).
// The store and cfg must outlive it.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/config.h"
#include "core/result.h"
#include "core/time.h"
#include "engine/engine.h"
#include "server/http_server.h"
#include "storage/store.h"

namespace fw {

class RegistryModels {
 public:
  using Apply = std::function<void(std::shared_ptr<const ModelBundle>)>;

  RegistryModels(Store& store, const AppConfig& cfg, Apply apply,
                 const Clock& clock = SystemClock::instance());

  // Reads the registry and serves its champion and shadow when they differ from those served.
  // Returns true when it swapped. Errors: the registry cannot be read, or a folder is refused
  // (moved, changed since it was registered, broken); the running models then stay, and the
  // same failure is returned only once until the registry changes again (so a once-a-second
  // poll logs it once). The first call always loads (a null bundle when there is no champion
  // and no shadow).
  Result<bool> poll();

  // Gives `version` the status `to` in the store (champion or shadow), after checking that its
  // folder loads, and serves the result at once. Errors name the version or the folder; on
  // an error the registry and the running models are unchanged.
  Result<std::vector<ModelStatusChange>> activate(const std::string& version, ModelStatus to);

 private:
  Result<bool> poll_locked();

  Store& store_;
  const AppConfig& cfg_;
  const Apply apply_;
  const Clock& clock_;

  std::mutex mu_;
  bool loaded_ = false;  // guarded by mu_: a bundle was applied at least once
  std::string served_;   // guarded by mu_: "champion|path|shadow|path" applied last
  std::string failed_;   // guarded by mu_: the key that failed last (reported once)
};

// What demo and serve do at start: without --model/--shadow-model (cfg.model_path and
// cfg.shadow_model_path empty), a RegistryModels that swaps into `engine`, polled once so the
// engine starts with the registry's champion and shadow; with them, nullptr (the files decide
// and the registry is not followed). Errors: the first poll's. `store`, `cfg` and `engine` must
// outlive the result.
Result<std::unique_ptr<RegistryModels>> follow_registry(Store& store, const AppConfig& cfg,
                                                        Engine& engine);

// Logs poll()'s outcome: a swap at info (with the versions), a failure at error.
void log_registry_poll(const Result<bool>& outcome, const Engine& engine);

// POST /api/models/activate?version=V[&as=champion|shadow] (docs/http-api.md): sets the
// version's status in the registry and swaps it into the running engine; 200 with the serving
// bundle, 400 bad parameters, 404 unknown version, 422 folder refused, 409 when the models come
// from --model (registry is null), 503 store unavailable. `registry` and `engine` must outlive
// the server.
void add_registry_routes(HttpServer& server, Engine& engine, RegistryModels* registry);

}  // namespace fw
