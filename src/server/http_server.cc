#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "server/url.h"

namespace fw {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// ---------------------------------------------------------------------------------------------
// Request and response helpers.

std::string HttpRequest::header(const std::string& name, std::string fallback) const {
  auto it = headers.find(name);
  return it == headers.end() ? fallback : it->second;
}

std::string HttpRequest::param(const std::string& name, std::string fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

HttpResponse HttpResponse::json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse HttpResponse::error(int status, std::string_view message) {
  nlohmann::json j = {{"error", std::string(message)}};
  // Replace invalid UTF-8 rather than throw: messages may quote bytes a client sent.
  return json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse HttpResponse::html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  return r;
}

namespace {

constexpr std::chrono::milliseconds kLingerTimeout{2000};
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Routes by exact path, then method. Constant once the server starts; shared by sessions.
using RouteTable = std::map<std::string, std::map<std::string, HttpHandler>>;

// State the connections share. Constant after start() except the counter.
struct ServerState {
  HttpServerOptions options;
  RouteTable routes;
  std::atomic<size_t> connections{0};
};

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

HttpResponse dispatch(const ServerState& state, const HttpRequest& req) {
  auto path_it = state.routes.find(req.path);
  if (path_it == state.routes.end()) {
    return HttpResponse::error(404, "no route for " + req.method + " " + req.path +
                                        "; see docs/http-api.md for the available paths");
  }
  const auto& methods = path_it->second;
  auto it = methods.find(req.method);
  if (it == methods.end() && req.method == "HEAD") it = methods.find("GET");
  if (it == methods.end()) {
    std::string allow;
    for (const auto& [method, handler] : methods) {
      if (!allow.empty()) allow += ", ";
      allow += method;
      if (method == "GET" && !methods.contains("HEAD")) allow += ", HEAD";
    }
    HttpResponse r = HttpResponse::error(
        405, "method " + req.method + " is not allowed on " + req.path + "; use " + allow);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  // A WebSocket route would be matched here, before calling a plain handler.
  try {
    HttpResponse r = it->second(req);
    if (r.status < 100 || r.status > 599) {
      spdlog::error("http: handler for {} {} returned invalid status {}", req.method, req.path,
                    r.status);
      return HttpResponse::error(500, "internal error; the server log has the details");
    }
    return r;
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {}", req.method, req.path, e.what());
  } catch (...) {
    spdlog::error("http: handler for {} {} threw a non-standard exception", req.method, req.path);
  }
  return HttpResponse::error(500, "internal error; the server log has the details");
}

// One connection. Lives as long as an asynchronous operation holds it; all its handlers run on
// its strand, so it needs no lock.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<ServerState> state, bool counted)
      : stream_(std::move(socket)), state_(std::move(state)), counted_(counted) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_address_ = endpoint.address().to_string();
    // Small request/response exchanges: do not let Nagle hold back a pipelined response.
    stream_.socket().set_option(tcp::no_delay(true), ec);
  }

  ~Session() {
    if (counted_) state_->connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::read_header, shared_from_this()));
  }

  // Answers 503 and closes: the server is at max_connections.
  void reject() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      HttpResponse r = HttpResponse::error(
          503, "server busy: " + std::to_string(self->state_->options.max_connections) +
                   " connections are open; retry later");
      self->send(r, 11, false, false);
    });
  }

 private:
  const HttpServerOptions& options() const { return state_->options; }

  void arm_timer() { stream_.expires_after(std::chrono::milliseconds(options().idle_timeout_ms)); }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(options().max_header_bytes));
    arm_timer();
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, size_t) {
    if (ec) return on_read_error(ec);
    const auto& req = parser_->get();
    auto expect = req.find(http::field::expect);
    if (expect != req.end() && beast::iequals(expect->value(), "100-continue") &&
        !parser_->is_done()) {
      continue_.emplace(http::status::continue_, req.version());
      arm_timer();
      http::async_write(stream_, *continue_,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->close_now();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return handle();
    arm_timer();
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, size_t) {
    if (ec) return on_read_error(ec);
    handle();
  }

  void on_read_error(const beast::error_code& ec) {
    if (ec == net::error::operation_aborted) return;
    if (ec == http::error::end_of_stream) return linger_close();
    if (ec == beast::error::timeout) return close_now();
    const unsigned version = 11;
    if (ec == http::error::body_limit) {
      return send(HttpResponse::error(413, "request body exceeds the limit of " +
                                               std::to_string(options().max_body_bytes) +
                                               " bytes; send a smaller body"),
                  version, false, false);
    }
    if (ec == http::error::header_limit) {
      return send(HttpResponse::error(431, "request header exceeds the limit of " +
                                               std::to_string(options().max_header_bytes) +
                                               " bytes; send fewer or shorter headers"),
                  version, false, false);
    }
    if (ec == http::error::partial_message) return close_now();  // peer left mid-request
    if (is_http_error(ec)) {
      return send(HttpResponse::error(400, "malformed HTTP request (" + ec.message() +
                                               "); send a valid HTTP/1.1 request"),
                  version, false, false);
    }
    close_now();  // a socket error: nobody to answer
  }

  void handle() {
    http::request<http::string_body> req = parser_->release();
    parser_.reset();
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;

    HttpRequest r;
    r.method = std::string(sv(req.method_string()));
    r.remote_address = remote_address_;
    auto target = split_target(sv(req.target()));
    if (!target.ok()) {
      return send(HttpResponse::error(400, target.error().message()), version, false, false);
    }
    r.path = std::move(target->path);
    r.query_string = std::move(target->query_string);
    auto query = parse_query(r.query_string);
    if (!query.ok()) {
      return send(HttpResponse::error(400, query.error().message()), version, false, false);
    }
    r.query = std::move(*query);
    for (const auto& field : req) {
      std::string name = lower(sv(field.name_string()));
      auto [it, inserted] = r.headers.emplace(name, std::string(sv(field.value())));
      if (!inserted) {
        it->second += ", ";
        it->second += sv(field.value());
      }
    }
    r.body = std::move(req.body());
    send(dispatch(*state_, r), version, keep_alive, head);
  }

  void send(const HttpResponse& r, unsigned version, bool keep_alive, bool head) {
    auto& res = response_.emplace();
    res.version(version);
    res.result(static_cast<unsigned>(r.status));
    res.set(http::field::server, "fraudwatch");
    res.set(http::field::content_type, r.content_type);
    res.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers) {
      std::string n = lower(name);
      if (n == "content-length" || n == "transfer-encoding" || n == "connection") continue;
      if (n == "content-type" || n == "cache-control" || n == "server") {
        res.set(name, value);
      } else {
        res.insert(name, value);
      }
    }
    res.body() = r.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    if (head) {
      res.body().clear();  // Content-Length still says what GET would send
    }
    arm_timer();
    http::async_write(stream_, res,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        self->response_.reset();
                        if (ec) return self->close_now();
                        if (keep_alive) return self->read_header();
                        self->linger_close();
                      });
  }

  // Closes gracefully: stop sending, then read and discard what the peer still sends (for
  // example the rest of a rejected body) until it closes or kLingerTimeout passes, so that the
  // kernel does not reset the connection before the peer has read our response.
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close_now();
    stream_.expires_after(kLingerTimeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close_now();
                              self->drain();
                            });
  }

  void close_now() {
    beast::error_code ec;
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<ServerState> state_;
  const bool counted_;
  std::string remote_address_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> response_;
  std::array<char, 4096> drain_buffer_{};
};

std::string listen_failure(const std::string& address, uint16_t port, const beast::error_code& ec) {
  std::string what = "cannot listen on " + address + ":" + std::to_string(port) + ": ";
  if (ec == net::error::address_in_use) {
    return what + "address already in use; stop the other process or pick another port with --port";
  }
  if (ec == net::error::access_denied) {
    return what +
           "permission denied; pick a port above 1024 with --port or run with the "
           "privilege to bind low ports";
  }
  if (ec == boost::system::errc::address_not_available) {
    return what + "address not available on this host; pick a local address with --bind";
  }
  return what + lower(ec.message()) + "; check --bind and --port";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpServer.

struct HttpServer::Impl {
  HttpServerOptions options;
  RouteTable routes;  // what the next start() serves

  // Below: set by start(), reset by stop(). Touched only by the owning thread, except that the
  // accept loop uses acceptor/retry_timer on server threads while running.
  std::shared_ptr<ServerState> state;
  std::unique_ptr<net::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> retry_timer;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  bool running = false;

  void accept() {
    acceptor->async_accept(net::make_strand(*ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {
        // Out of file descriptors and the like: back off briefly instead of spinning.
        spdlog::warn("http: accept failed: {}", ec.message());
        retry_timer->expires_after(kAcceptRetryDelay);
        retry_timer->async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) accept();
        });
        return;
      }
      size_t open = state->connections.fetch_add(1, std::memory_order_relaxed);
      if (open >= state->options.max_connections) {
        state->connections.fetch_sub(1, std::memory_order_relaxed);
        std::make_shared<Session>(std::move(s), state, false)->reject();
      } else {
        std::make_shared<Session>(std::move(s), state, true)->run();
      }
      accept();
    });
  }
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  route("GET", "/health",
        [](const HttpRequest&) { return HttpResponse::json(200, R"({"status":"ok"})"); });
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string method, std::string path, HttpHandler handler) {
  if (impl_->running) {
    spdlog::error("http: route {} {} registered after start() is ignored; register routes first",
                  method, path);
    return;
  }
  impl_->routes[std::move(path)][std::move(method)] = std::move(handler);
}

Status HttpServer::start() {
  Impl& m = *impl_;
  const HttpServerOptions& o = m.options;
  if (m.running) return make_error("", "the server is already running; call stop() first");
  if (o.threads < 1) return make_error("threads", "must be at least 1");
  if (o.idle_timeout_ms < 1) return make_error("idle_timeout_ms", "must be at least 1");
  if (o.max_connections < 1) return make_error("max_connections", "must be at least 1");
  if (o.max_header_bytes < 256 || o.max_header_bytes > (1u << 30)) {
    return make_error("max_header_bytes", "must be between 256 and 2^30");
  }
  beast::error_code ec;
  net::ip::address address = net::ip::make_address(o.bind_address, ec);
  if (ec) {
    return make_error("bind_address", "'" + o.bind_address +
                                          "' is not an IP address; use for example 127.0.0.1 "
                                          "or 0.0.0.0 (all interfaces)");
  }

  auto ioc = std::make_unique<net::io_context>(o.threads);
  auto acceptor = std::make_unique<tcp::acceptor>(*ioc);
  tcp::endpoint endpoint(address, o.port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return make_error("", listen_failure(o.bind_address, o.port, ec));
  m.port = acceptor->local_endpoint(ec).port();
  if (ec) return make_error("", listen_failure(o.bind_address, o.port, ec));

  m.state = std::make_shared<ServerState>();
  m.state->options = o;
  m.state->routes = m.routes;
  m.retry_timer = std::make_unique<net::steady_timer>(*ioc);
  m.acceptor = std::move(acceptor);
  m.ioc = std::move(ioc);
  m.running = true;
  m.accept();
  for (int i = 0; i < o.threads; ++i) {
    m.threads.emplace_back([ioc = m.ioc.get()] { ioc->run(); });
  }
  spdlog::info("http: listening on {}:{} ({} thread(s))", o.bind_address, m.port.load(), o.threads);
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->port.load(); }

void HttpServer::stop() {
  Impl& m = *impl_;
  if (!m.running) return;
  m.running = false;
  m.ioc->stop();
  for (auto& t : m.threads) t.join();
  m.threads.clear();
  // No server thread runs now. Destroying the io_context destroys the pending operations, which
  // own the sessions, which close their sockets.
  beast::error_code ec;
  m.acceptor->close(ec);
  m.acceptor.reset();
  m.retry_timer.reset();
  m.ioc.reset();
  m.state.reset();
}

}  // namespace fw
