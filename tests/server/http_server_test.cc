#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/time.h"
#include "server/raw_http_client.h"
#include "testing/paths.h"

namespace fw {
namespace {

using testing::RawHttpClient;
using testing::RawResponse;

constexpr std::string_view kGetHealth = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";

// Answers with the request as JSON (keys sorted), so tests see what the handler saw.
HttpResponse echo(const HttpRequest& req) {
  nlohmann::json j = {{"method", req.method},
                      {"path", req.path},
                      {"query_string", req.query_string},
                      {"query", req.query},
                      {"headers", req.headers},
                      {"body", req.body},
                      {"remote_address", req.remote_address}};
  return HttpResponse::json(200, j.dump());
}

void add_test_routes(HttpServer& server) {
  server.route("GET", "/echo", echo);
  server.route("POST", "/echo", echo);
  server.route("GET", "/with space", [](const HttpRequest&) {
    HttpResponse r;
    r.content_type = "text/plain";
    r.body = "with space";
    return r;
  });
  server.route("GET", "/throw", [](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("boom: secret detail");
  });
  server.route("GET", "/page", [](const HttpRequest&) {
    HttpResponse r = HttpResponse::html(201, "<p>hi</p>");
    r.headers.emplace_back("X-Extra", "1");
    r.headers.emplace_back("Cache-Control", "max-age=5");
    r.headers.emplace_back("Content-Length", "999");  // ignored: the server computes it
    return r;
  });
}

HttpServerOptions test_options() {
  HttpServerOptions o;
  o.port = 0;
  o.max_body_bytes = 64;
  o.max_header_bytes = 1024;
  o.idle_timeout_ms = 5000;
  return o;
}

// A started server with the test routes.
std::unique_ptr<HttpServer> start_server(HttpServerOptions options = test_options()) {
  auto server = std::make_unique<HttpServer>(std::move(options));
  add_test_routes(*server);
  Status st = server->start();
  EXPECT_TRUE(st.ok()) << st.error().message();
  EXPECT_NE(server->port(), 0);
  return server;
}

// ---------------------------------------------------------------------------------------------
// Data-driven exchanges: tests/server/testdata/http_cases.txt.

struct HttpCase {
  std::string name;
  std::string send;
  bool head = false;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> absent_headers;
  std::optional<std::string> body;
  std::vector<std::string> body_contains;
  std::optional<bool> closes;
};

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    if (c == 'r') {
      out.push_back('\r');
    } else if (c == 'n') {
      out.push_back('\n');
    } else if (c == 't') {
      out.push_back('\t');
    } else if (c == 'x' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::vector<HttpCase> load_cases(const std::string& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << "cannot open " << file;
  std::vector<HttpCase> cases;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(": ");
    if (colon == std::string::npos) {
      ADD_FAILURE() << file << ":" << line_no << ": expected 'key: value'";
      continue;
    }
    std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 2);
    if (key == "case") {
      cases.emplace_back();
      cases.back().name = value;
      continue;
    }
    if (cases.empty()) {
      ADD_FAILURE() << file << ":" << line_no << ": '" << key << "' before the first case";
      continue;
    }
    HttpCase& c = cases.back();
    if (key == "send") {
      c.send += unescape(value);
    } else if (key == "send-repeat") {
      size_t space = value.find(' ');
      std::string piece = unescape(value.substr(space + 1));
      for (int n = std::stoi(value.substr(0, space)); n > 0; --n) c.send += piece;
    } else if (key == "head") {
      c.head = value == "yes";
    } else if (key == "status") {
      c.status = std::stoi(value);
    } else if (key == "header") {
      size_t sep = value.find(": ");
      c.headers.emplace_back(testing::to_lower(value.substr(0, sep)), value.substr(sep + 2));
    } else if (key == "no-header") {
      c.absent_headers.push_back(testing::to_lower(value));
    } else if (key == "body") {
      c.body = unescape(value);
    } else if (key == "body~") {
      c.body_contains.push_back(unescape(value));
    } else if (key == "closes") {
      c.closes = value == "yes";
    } else {
      ADD_FAILURE() << file << ":" << line_no << ": unknown key '" << key << "'";
    }
  }
  return cases;
}

TEST(HttpServer, Cases) {
  auto server = start_server();
  auto cases =
      load_cases((testing::source_dir() / "tests/server/testdata/http_cases.txt").string());
  ASSERT_GE(cases.size(), 20u);
  for (const HttpCase& c : cases) {
    SCOPED_TRACE("case: " + c.name);
    RawHttpClient client(server->port());
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.send(c.send));
    RawResponse r = client.read_response(c.head);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, c.status);
    // Every response says what it is and how long it is.
    EXPECT_FALSE(r.header("content-type").empty());
    if (!c.head) {
      EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size()));
    }
    for (const auto& [name, value] : c.headers) {
      EXPECT_EQ(r.header(name), value) << name;
    }
    for (const auto& name : c.absent_headers) {
      EXPECT_FALSE(r.headers.contains(name)) << name;
    }
    if (c.body) {
      EXPECT_EQ(r.body, *c.body);
    }
    for (const auto& part : c.body_contains) {
      EXPECT_NE(r.body.find(part), std::string::npos) << "missing: " << part << "\nin: " << r.body;
    }
    if (r.status >= 400 && r.status != 405 && r.status != 404 && r.status != 500) {
      // Errors the server detects itself are JSON and end the connection.
      EXPECT_EQ(r.header("content-type"), "application/json");
      EXPECT_EQ(r.header("connection"), "close");
    }
    if (c.closes == true) {
      EXPECT_TRUE(client.wait_closed());
    } else if (c.closes == false) {
      ASSERT_TRUE(client.send(kGetHealth));
      RawResponse again = client.read_response();
      ASSERT_TRUE(again.ok()) << again.error;
      EXPECT_EQ(again.status, 200);
    }
  }
}

// ---------------------------------------------------------------------------------------------

TEST(HttpServer, HandlerHeadersAndContentType) {
  auto server = start_server();
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send("GET /page HTTP/1.1\r\nHost: t\r\n\r\n"));
  RawResponse r = client.read_response();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("x-extra"), "1");
  EXPECT_EQ(r.header("cache-control"), "max-age=5");
  EXPECT_EQ(r.header("content-length"), "9");
  EXPECT_EQ(r.body, "<p>hi</p>");
}

TEST(HttpServer, ThrowingHandlerThenNextRequestOnSameConnection) {
  auto server = start_server();
  RawHttpClient client(server->port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send("GET /throw HTTP/1.1\r\nHost: t\r\n\r\n"));
    RawResponse r = client.read_response();
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << "internal details leaked: " << r.body;
    ASSERT_TRUE(client.send("GET /echo?i=" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n"));
    RawResponse ok = client.read_response();
    ASSERT_TRUE(ok.ok()) << ok.error;
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(nlohmann::json::parse(ok.body)["query"]["i"], std::to_string(i));
  }
}

TEST(HttpServer, KeepAliveAndPipelining) {
  auto server = start_server();
  RawHttpClient client(server->port());
  // Two requests one after the other, then two sent in one write.
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.send(kGetHealth));
    RawResponse r = client.read_response();
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.header("connection"), "close");
  }
  ASSERT_TRUE(
      client.send("GET /echo?n=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "POST /echo?n=2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"));
  RawResponse first = client.read_response();
  RawResponse second = client.read_response();
  ASSERT_TRUE(first.ok() && second.ok()) << first.error << second.error;
  EXPECT_EQ(nlohmann::json::parse(first.body)["query"]["n"], "1");
  auto j = nlohmann::json::parse(second.body);
  EXPECT_EQ(j["query"]["n"], "2");
  EXPECT_EQ(j["body"], "abc");
}

TEST(HttpServer, ExpectContinue) {
  auto server = start_server();
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  RawResponse cont = client.read_response();
  ASSERT_TRUE(cont.ok()) << cont.error;
  EXPECT_EQ(cont.status, 100);
  ASSERT_TRUE(client.send("hello"));
  RawResponse r = client.read_response();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["body"], "hello");
}

TEST(HttpServer, ExpectContinueOverLimitIsRejectedWithoutContinue) {
  auto server = start_server();
  RawHttpClient client(server->port());
  ASSERT_TRUE(client.send(
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n"));
  RawResponse r = client.read_response();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 413);
}

TEST(HttpServer, ManyConcurrentConnections) {
  HttpServerOptions o = test_options();
  o.threads = 2;
  auto server = start_server(o);
  // 100 connections open at once, served interleaved, two rounds each (keep-alive).
  constexpr int kClients = 100;
  std::vector<std::unique_ptr<RawHttpClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<RawHttpClient>(server->port()));
    ASSERT_TRUE(clients.back()->connected()) << i;
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kClients; ++i) {
      ASSERT_TRUE(
          clients[i]->send("GET /echo?c=" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n"));
    }
    for (int i = 0; i < kClients; ++i) {
      RawResponse r = clients[i]->read_response();
      ASSERT_TRUE(r.ok()) << i << ": " << r.error;
      ASSERT_EQ(r.status, 200);
      EXPECT_EQ(nlohmann::json::parse(r.body)["query"]["c"], std::to_string(i));
    }
  }
  // And client threads hammering in parallel.
  constexpr int kThreads = 8, kRequests = 25;
  std::atomic<int> ok_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RawHttpClient c(server->port());
      for (int i = 0; i < kRequests; ++i) {
        std::string body = std::to_string(t * 1000 + i);
        if (!c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body)) {
          return;
        }
        RawResponse r = c.read_response();
        if (r.ok() && r.status == 200 && nlohmann::json::parse(r.body)["body"] == body) ++ok_count;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok_count.load(), kThreads * kRequests);
}

TEST(HttpServer, MaxConnectionsAnswers503) {
  HttpServerOptions o = test_options();
  o.max_connections = 2;
  auto server = start_server(o);
  RawHttpClient a(server->port()), b(server->port());
  for (RawHttpClient* c : {&a, &b}) {  // both accepted and being served
    ASSERT_TRUE(c->send(kGetHealth));
    ASSERT_EQ(c->read_response().status, 200);
  }
  RawHttpClient extra(server->port());
  ASSERT_TRUE(extra.connected());
  RawResponse r = extra.read_response();
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("server busy: 2 connections are open"), std::string::npos) << r.body;
  EXPECT_TRUE(extra.wait_closed());
  // The open ones still work.
  ASSERT_TRUE(a.send(kGetHealth));
  EXPECT_EQ(a.read_response().status, 200);
}

TEST(HttpServer, IdleConnectionIsClosed) {
  HttpServerOptions o = test_options();
  o.idle_timeout_ms = 200;
  auto server = start_server(o);
  RawHttpClient idle(server->port());
  RawHttpClient slow(server->port());
  ASSERT_TRUE(slow.send("GET /health HTTP/1.1\r\nHo"));  // never finishes its request
  RawHttpClient after_one(server->port());
  ASSERT_TRUE(after_one.send(kGetHealth));
  EXPECT_EQ(after_one.read_response().status, 200);

  int64_t start = monotonic_nanos();
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_TRUE(slow.wait_closed());
  EXPECT_TRUE(after_one.wait_closed());
  int64_t elapsed_ms = (monotonic_nanos() - start) / 1'000'000;
  EXPECT_LT(elapsed_ms, 4000);  // well before the client's own 5 s receive timeout
}

TEST(HttpServer, StopWithClientConnectedReturnsPromptly) {
  HttpServerOptions o = test_options();
  o.idle_timeout_ms = 60000;
  o.threads = 2;
  auto server = start_server(o);
  RawHttpClient busy(server->port());
  ASSERT_TRUE(busy.send(kGetHealth));
  ASSERT_EQ(busy.read_response().status, 200);  // connected and served, now idle
  RawHttpClient partial(server->port());
  ASSERT_TRUE(partial.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab"));

  int64_t start = monotonic_nanos();
  server->stop();
  int64_t elapsed_ms = (monotonic_nanos() - start) / 1'000'000;
  EXPECT_LT(elapsed_ms, 1000);
  EXPECT_TRUE(busy.wait_closed());
  EXPECT_TRUE(partial.wait_closed());
  server->stop();  // idempotent

  // New connections are refused now.
  RawHttpClient late(server->port(), 1000);
  if (late.connected()) {
    late.send(kGetHealth);
    EXPECT_FALSE(late.read_response().ok());
  }
}

TEST(HttpServer, RestartsAfterStop) {
  auto server = start_server();
  server->stop();
  Status st = server->start();
  ASSERT_TRUE(st.ok()) << st.error().message();
  RawHttpClient c(server->port());
  ASSERT_TRUE(c.send("GET /echo HTTP/1.1\r\nHost: t\r\n\r\n"));  // routes kept
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_FALSE(server->start().ok());  // already running
}

TEST(HttpServer, PortInUseIsAnErrorSayingWhatToDo) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  uint16_t taken = ntohs(addr.sin_port);

  HttpServerOptions o = test_options();
  o.port = taken;
  HttpServer server(o);
  Status st = server.start();
  ::close(fd);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message(), "cannot listen on 127.0.0.1:" + std::to_string(taken) +
                                      ": address already in use; stop the other process or pick "
                                      "another port with --port");
  EXPECT_EQ(server.port(), 0);
  server.stop();  // harmless when never started
}

TEST(HttpServer, InvalidOptionsAreErrors) {
  HttpServerOptions o = test_options();
  o.bind_address = "localhost:80";
  Status st = HttpServer(o).start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "bind_address");

  o = test_options();
  o.threads = 0;
  st = HttpServer(o).start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "threads");
}

TEST(HttpResponse, ErrorIsEscapedJson) {
  HttpResponse r = HttpResponse::error(422, "bad \"amount\"\n\\ \x01");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"], "bad \"amount\"\n\\ \x01");
  // Invalid UTF-8 is replaced, not thrown.
  HttpResponse bad = HttpResponse::error(400, "byte \xff here");
  EXPECT_TRUE(nlohmann::json::accept(bad.body)) << bad.body;
  EXPECT_EQ(HttpResponse::json(201, "[1]").body, "[1]");
}

TEST(HttpRequest, HeaderAndParamLookups) {
  HttpRequest r;
  r.headers["x-a"] = "1";
  r.query["limit"] = "20";
  EXPECT_EQ(r.header("x-a"), "1");
  EXPECT_EQ(r.header("x-b", "none"), "none");
  EXPECT_EQ(r.param("limit", "5"), "20");
  EXPECT_EQ(r.param("offset", "0"), "0");
}

}  // namespace
}  // namespace fw
