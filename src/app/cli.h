// The command-line interface: parses arguments and runs one command.
#pragma once

namespace fw {

// Returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace fw
