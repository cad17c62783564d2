// `fraudwatch model register|list|activate|shadow|retire`: the model registry in the store
// (docs/models.md, "Registry"), registered on the CLI by add_model_commands() and run by
// run_model_commands() after parsing. register checks a model folder (it must load and serve)
// and records it as a candidate with a summary of its metrics; activate/shadow/retire change a
// version's status, which running demo and serve instances following the registry pick up
// within about a second. Main thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "storage/model_registry.h"

namespace CLI {
class App;
}

namespace fw {

struct ModelCommands;

// Adds `model` and its subcommands to app; the returned object holds their options and must
// outlive parsing.
std::shared_ptr<ModelCommands> add_model_commands(CLI::App& app);
// The exit code of the model command that was parsed, or nullopt if none was.
std::optional<int> run_model_commands(const ModelCommands& commands);

// A model folder as the registry records it (status candidate, registered_at = now): the
// folder's absolute path, model_version(folder) and a JSON summary of metadata.json (roc_auc,
// average_precision, threshold, precision/recall/f1 at the threshold, validation rows and time
// range, trees). The folder must load as a servable model (training/model_dir.h load_model).
// Errors name the file and the field.
Result<RegisteredModel> describe_model_folder(const std::string& folder, Timestamp now);

}  // namespace fw
