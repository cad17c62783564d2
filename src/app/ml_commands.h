// `fraudwatch train` and `fraudwatch evaluate`: the machine-learning commands, registered on the
// CLI by add_ml_commands() and run by run_ml_commands() after parsing. They run on the main
// thread (XGBoost uses its own threads while training).
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace fw {

struct MlCommands;

// Adds the subcommands to app; the returned object holds their options and must outlive parsing.
std::shared_ptr<MlCommands> add_ml_commands(CLI::App& app);
// The exit code of the ML command that was parsed, or nullopt if none was.
std::optional<int> run_ml_commands(const MlCommands& commands);

}  // namespace fw
