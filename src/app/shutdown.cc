#include "app/shutdown.h"

#include <atomic>
#include <csignal>

namespace fw {
namespace {

std::atomic<bool> g_shutdown{false};
static_assert(std::atomic<bool>::is_always_lock_free);

std::atomic<bool> g_reload{false};

extern "C" void on_signal(int) { g_shutdown.store(true, std::memory_order_relaxed); }
extern "C" void on_hangup(int) { g_reload.store(true, std::memory_order_relaxed); }

}  // namespace

void install_shutdown_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction hup {};
  hup.sa_handler = on_hangup;
  sigemptyset(&hup.sa_mask);
  sigaction(SIGHUP, &hup, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool shutdown_requested() { return g_shutdown.load(std::memory_order_relaxed); }
void request_shutdown() { g_shutdown.store(true, std::memory_order_relaxed); }
bool take_reload_request() { return g_reload.exchange(false, std::memory_order_relaxed); }

}  // namespace fw
