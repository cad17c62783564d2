#include "app/cli.h"

#include <CLI/CLI.hpp>

namespace fw {

int run_cli(int argc, char** argv) {
  CLI::App app{"fraudwatch: real-time transaction monitoring and fraud detection"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace fw
