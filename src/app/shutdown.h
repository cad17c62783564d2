// Graceful shutdown on SIGINT / SIGTERM: the handler only sets a flag that long-running
// commands poll between batches. Process-wide; install once from the main thread.
#pragma once

namespace fw {

void install_shutdown_handlers();
bool shutdown_requested();
void request_shutdown();

}  // namespace fw
