// Graceful shutdown on SIGINT / SIGTERM, and a rules reload request on SIGHUP: the handlers only
// set flags that long-running commands poll between batches. Process-wide; install once from
// the main thread.
#pragma once

namespace fw {

void install_shutdown_handlers();
bool shutdown_requested();
void request_shutdown();
// True once per SIGHUP received (the flag is cleared by reading it).
bool take_reload_request();

}  // namespace fw
