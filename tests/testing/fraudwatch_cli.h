// Running the built fraudwatch binary to completion in integration tests: one command, and the
// labelled-history-then-model setup several ML tests start from. Each call starts its own
// child process (ChildProcess) and waits for it; no shared state, so threads may call them.
#pragma once

#include <string>
#include <vector>

namespace fw::testing {

// Runs `fraudwatch <args...>` until it exits; returns its exit status and, with `transcript`,
// what it wrote to stderr. A command silent for `line_timeout_ms` is waited for, not killed.
int run_fraudwatch(const std::vector<std::string>& args, std::string* transcript = nullptr,
                   int line_timeout_ms = 600000);

struct TrainedModel {
  bool ok = false;         // both commands exited 0
  std::string transcript;  // the failing command's stderr, else the train command's
};

// Simulates a labelled history into `hist` (2026-03-01 to `simulate_to`, seed 9, 500 customers,
// 100 merchants, 2% fraud), then trains a model on 2026-03-05 to 2026-03-22 of it into `model`
// with `train_flags` appended (rounds, trials, threshold).
TrainedModel simulate_and_train(const std::string& hist, const std::string& model,
                                const std::string& simulate_to,
                                const std::vector<std::string>& train_flags);

}  // namespace fw::testing
