// HttpServer: an HTTP/1.1 server (Boost.Beast over Asio) that routes requests by exact path and
// method to handlers the application registers. The application owns the server; register routes,
// then start() and stop() from the owning thread. Handlers run on the server's own threads (one
// strand per connection): with threads > 1 they run concurrently and must be thread-safe.
//
// Built in: GET /health -> {"status":"ok"}. Errors the server produces itself are JSON
// {"error": "..."}: 400 malformed request, 404 unknown path, 405 known path with another method
// (with Allow), 413 body over max_body_bytes (Content-Length or chunked), 431 header over
// max_header_bytes, 500 when a handler throws (the connection and the process keep serving),
// 503 when max_connections are open. Connections are keep-alive and close after
// idle_timeout_ms without a complete request. See docs/http-api.md.
//
// A later WebSocket route plugs in where a request is dispatched: an upgrade request for a
// registered WebSocket path would hand the connection's stream to that route instead of
// answering it (see dispatch in http_server.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace fw {

// One parsed request. Value type.
struct HttpRequest {
  std::string method;                          // "GET", "POST", ... as sent
  std::string path;                            // percent-decoded, without the query string
  std::string query_string;                    // raw, after '?'
  std::map<std::string, std::string> query;    // decoded query parameters (first one wins)
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;
  std::string remote_address;  // peer IP address

  // The header's value, or `fallback` when absent. `name` must be lower-case.
  std::string header(const std::string& name, std::string fallback = {}) const;
  // The query parameter's value, or `fallback` when absent.
  std::string param(const std::string& name, std::string fallback = {}) const;
};

// What a handler answers. The server adds Content-Length, Connection, Server and
// "Cache-Control: no-store" (a handler may set its own Cache-Control in `headers`).
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers

  static HttpResponse json(int status, std::string body);
  // {"error": message}, with the message JSON-escaped.
  static HttpResponse error(int status, std::string_view message);
  static HttpResponse html(int status, std::string body);
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port; see HttpServer::port()
  int threads = 1;
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;
  int64_t idle_timeout_ms = 30000;  // also bounds how long reading one request may take
  size_t max_connections = 1024;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers `handler` for `method` on exactly `path` (no patterns, no prefixes); a second
  // registration of the same method and path replaces the first.
  // REQUIRES: the server is not running (routes are fixed at start()).
  void route(std::string method, std::string path, HttpHandler handler);

  // Binds and serves on its own thread(s). Error when the options are invalid or the
  // address/port cannot be bound, saying what to do, for example "cannot listen on
  // 127.0.0.1:8080: address already in use; stop the other process or pick another port with
  // --port".
  Status start();

  // The bound port (meaningful with port 0); 0 before start().
  uint16_t port() const;

  // Stops accepting, closes connections, joins threads; waits for handlers already running.
  // Idempotent. The server may be started again afterwards.
  // REQUIRES: not called from a handler (it would wait for itself).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fw
