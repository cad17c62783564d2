// The CLI's HTTP client: URL errors, a real exchange with HttpServer (status, headers, body,
// the JSON body sent), non-2xx statuses as replies, a refused connection, a listener that
// never answers (bounded by the timeout) and a peer that answers garbage.
#include "server/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "server/http_server.h"

namespace fw {
namespace {

TEST(HttpClientUrl, ParsesHostAndPortAndRejectsTheRest) {
  auto a = parse_http_url("http://127.0.0.1:8080");
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = parse_http_url("http://example.internal/prefix");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "example.internal");
  EXPECT_EQ(b->port, 80);
  auto c = parse_http_url("http://[::1]:9000");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 9000);

  struct Bad {
    const char* url;
    const char* reason;
  };
  for (const Bad& bad :
       {Bad{"https://x:1", "must start with http://"},
        Bad{"127.0.0.1:8080", "must start with http://"}, Bad{"http://", "needs a host"},
        Bad{"http://:80", "needs a host"},
        Bad{"http://x:0", "port must be a number from 1 to 65535"},
        Bad{"http://x:65536", "port must be a number"}, Bad{"http://x:8o", "port must be a number"},
        Bad{"http://x:", "port must be a number"}, Bad{"http://[::1", "closing ']'"},
        Bad{"http://u:p@x:80", "credentials"}}) {
    auto r = parse_http_url(bad.url);
    ASSERT_FALSE(r.ok()) << bad.url;
    EXPECT_NE(r.error().message().find("--url"), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(bad.reason), std::string::npos)
        << bad.url << ": " << r.error().message();
  }
  EXPECT_FALSE(parse_http_url(std::string(300, 'h')).ok());
}

TEST(HttpClient, ExchangesWithTheServer) {
  HttpServerOptions o;
  o.port = 0;
  HttpServer server(o);
  server.route("POST", "/api/x", [](const HttpRequest& req) {
    return HttpResponse::json(200,
                              nlohmann::json{{"got", req.body}, {"method", req.method}}.dump());
  });
  server.route("GET", "/api/fail", [](const HttpRequest&) {
    return HttpResponse::error(422, "rules.yaml:4:11: unknown name");
  });
  ASSERT_TRUE(server.start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());

  auto ok = http_call(url, "POST", "/api/x", R"({"a":1})");
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->headers["content-type"].substr(0, 16), "application/json");
  const auto j = nlohmann::json::parse(ok->body);
  EXPECT_EQ(j["got"], R"({"a":1})");
  EXPECT_EQ(j["method"], "POST");

  auto fail = http_call(url, "GET", "/api/fail");
  ASSERT_TRUE(fail.ok()) << fail.error().message();
  EXPECT_EQ(fail->status, 422);
  EXPECT_NE(fail->body.find("rules.yaml:4:11"), std::string::npos);

  auto missing = http_call(url, "GET", "/nowhere");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  server.stop();
}

// A listening socket on a free loopback port; accepts nothing unless asked.
struct Listener {
  int fd = -1;
  uint16_t port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd, 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

TEST(HttpClient, RefusedSilentAndGarbagePeersAreErrors) {
  std::string refused_url;
  {
    Listener gone;
    refused_url = gone.url();
  }  // closed: nothing listens there now
  auto refused = http_call(refused_url, "POST", "/api/rules/reload");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("cannot connect"), std::string::npos)
      << refused.error().message();

  Listener silent;  // the kernel completes the connection; nobody answers
  auto timed_out =
      http_call(silent.url(), "POST", "/api/rules/reload", {}, std::chrono::milliseconds(200));
  ASSERT_FALSE(timed_out.ok());
  EXPECT_NE(timed_out.error().message().find("timed out"), std::string::npos)
      << timed_out.error().message();

  Listener garbage;
  std::thread peer([&] {
    const int c = ::accept(garbage.fd, nullptr, nullptr);
    char buf[4096];
    (void)::recv(c, buf, sizeof buf, 0);
    const char reply[] = "SSH-2.0-OpenSSH\r\n\r\n";
    (void)::send(c, reply, sizeof reply - 1, MSG_NOSIGNAL);
    ::close(c);
  });
  auto bad = http_call(garbage.url(), "GET", "/");
  peer.join();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("not an HTTP reply"), std::string::npos)
      << bad.error().message();

  Listener cut;
  std::thread peer2([&] {
    const int c = ::accept(cut.fd, nullptr, nullptr);
    char buf[4096];
    (void)::recv(c, buf, sizeof buf, 0);
    const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
    (void)::send(c, reply, sizeof reply - 1, MSG_NOSIGNAL);
    ::close(c);
  });
  auto short_reply = http_call(cut.url(), "GET", "/");
  peer2.join();
  ASSERT_FALSE(short_reply.ok());
  EXPECT_NE(short_reply.error().message().find("cut short"), std::string::npos)
      << short_reply.error().message();
}

}  // namespace
}  // namespace fw
