// Talking to a running `fraudwatch demo` started with ChildProcess in integration tests: the
// dashboard port it prints, and one raw HTTP request to it (RawHttpClient, which times out
// instead of waiting forever). Header-only: it needs nothing beyond what those tests link.
// Stateless functions; each request opens its own connection, so threads may share them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/raw_http_client.h"
#include "testing/process.h"

namespace fw::testing {

// The port of the demo's "dashboard: http://127.0.0.1:<port>" line, or 0 if it never says so.
inline uint16_t demo_port(ChildProcess& demo) {
  const std::optional<std::string> url = demo.wait_for("dashboard: http://");
  if (!url) return 0;
  const size_t at = url->find("127.0.0.1:");
  if (at == std::string::npos) return 0;
  return static_cast<uint16_t>(std::stoi(url->substr(at + 10)));
}

// `method path` with an empty body on 127.0.0.1:port; the response, or one whose error says
// why none was read.
inline RawResponse demo_request(uint16_t port, const std::string& method, const std::string& path) {
  RawHttpClient client(port);
  client.send(method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  return client.read_response();
}

}  // namespace fw::testing
