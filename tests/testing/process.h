// ChildProcess: runs the fraudwatch binary (or any program) for integration tests, with its
// standard error readable line by line through a pipe, so tests wait for what the process says
// instead of sleeping. Killed (SIGKILL) on destruction if still running. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace fw::testing {

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line of stderr, or nullopt at end of output or after `timeout_ms` without a line.
  std::optional<std::string> read_line(int timeout_ms = 60000);
  // Reads lines until one contains `needle`; returns it, or nullopt (end or timeout).
  std::optional<std::string> wait_for(const std::string& needle, int timeout_ms = 60000);
  void signal(int sig);
  // Waits for exit; returns the exit status (128 + signal number when killed by a signal).
  int wait();
  // Everything read from stderr so far, for failure messages.
  const std::string& transcript() const { return transcript_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  std::string transcript_;
  std::optional<int> status_;
};

}  // namespace fw::testing
