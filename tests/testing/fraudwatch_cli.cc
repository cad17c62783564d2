#include "testing/fraudwatch_cli.h"

#include "testing/paths.h"
#include "testing/process.h"

namespace fw::testing {

int run_fraudwatch(const std::vector<std::string>& args, std::string* transcript,
                   int line_timeout_ms) {
  std::vector<std::string> argv = {fraudwatch_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv);
  while (p.read_line(line_timeout_ms)) {
  }
  const int code = p.wait();
  if (transcript != nullptr) *transcript = p.transcript();
  return code;
}

TrainedModel simulate_and_train(const std::string& hist, const std::string& model,
                                const std::string& simulate_to,
                                const std::vector<std::string>& train_flags) {
  TrainedModel out;
  if (run_fraudwatch(
          {"simulate", "--from", "2026-03-01", "--to", simulate_to, "--out-dir", hist, "--seed",
           "9", "--customers", "500", "--merchants", "100", "--fraud-ratio", "0.02"},
          &out.transcript) != 0) {
    return out;
  }
  std::vector<std::string> train = {"train", "--input",    hist,    "--from", "2026-03-05",
                                    "--to",  "2026-03-22", "--out", model};
  train.insert(train.end(), train_flags.begin(), train_flags.end());
  out.ok = run_fraudwatch(train, &out.transcript) == 0;
  return out;
}

}  // namespace fw::testing
