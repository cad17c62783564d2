// `fraudwatch rules check FILE`, `fraudwatch rules reload [--url URL]` and `fraudwatch lists
// add|remove|show|import`: the rule-set commands, registered on the CLI by add_rules_commands()
// and run by run_rules_commands() after parsing. check loads and type-checks a file offline;
// reload asks a running instance (POST /api/rules/reload) to reload its rule file and prints
// the outcome; lists manages the named lists in the configured store. Main thread only.
#pragma once

#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace fw {

struct RulesCommands;

// Adds `rules` and its subcommands to app; the returned object holds their options and must
// outlive parsing.
std::shared_ptr<RulesCommands> add_rules_commands(CLI::App& app);
// The exit code of the rules command that was parsed, or nullopt if none was.
std::optional<int> run_rules_commands(const RulesCommands& commands);

}  // namespace fw
