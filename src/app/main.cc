// fraudwatch: the command-line entry point. See `fraudwatch --help`.
#include "app/cli.h"

int main(int argc, char** argv) { return fw::run_cli(argc, argv); }
