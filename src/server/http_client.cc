#include "server/http_client.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace fw {
namespace {

constexpr size_t kMaxReplyBytes = 16u << 20;

using Clock = std::chrono::steady_clock;

// Closes a socket on every path.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Milliseconds left until `deadline`, at least 0.
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits until fd is ready for `events`; false on timeout or error.
bool wait_ready(int fd, int events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, static_cast<short>(events), 0};
    const int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<HttpUrl> parse_http_url(std::string_view url, std::string_view field) {
  const std::string f(field);
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return make_error(f, "must start with http:// (e.g. http://127.0.0.1:8080), got '" +
                             std::string(url.substr(0, 64)) + "'");
  }
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  HttpUrl out;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return make_error(f, "an IPv6 host needs a closing ']'");
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') return make_error(f, "expected ':' after ']'");
    if (!rest.empty()) port_text = rest.substr(1);
  } else {
    const size_t colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (out.host.empty() || out.host.size() > 253) {
    return make_error(f, "needs a host name or address of at most 253 characters");
  }
  if (url.find('@') != std::string_view::npos) {
    return make_error(f, "must not contain credentials (user@host)");
  }
  if (!port_text.empty() || rest.find(':') != std::string_view::npos) {
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return make_error(f, "the port must be a number from 1 to 65535, got '" +
                               std::string(port_text.substr(0, 16)) + "'");
    }
    out.port = static_cast<uint16_t>(port);
  }
  return out;
}

Result<HttpReply> http_call(std::string_view url, std::string_view method, std::string_view target,
                            std::string_view body, std::chrono::milliseconds timeout) {
  auto parsed = parse_http_url(url);
  if (!parsed.ok()) return parsed.error();
  const HttpUrl& u = *parsed;
  const std::string where = fmt::format("{}:{}", u.host, u.port);
  const Clock::time_point deadline = Clock::now() + timeout;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(u.port);
  if (int rc = ::getaddrinfo(u.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return make_error(where, std::string("cannot resolve the host: ") + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    const int s =
        ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (s < 0) continue;
    int rc = ::connect(s, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (wait_ready(s, POLLOUT, deadline)) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        errno = err;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) {
      fd = s;
    } else {
      last_error = std::strerror(errno);
      ::close(s);
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) return make_error(where, "cannot connect: " + last_error);
  Socket sock(fd);

  std::string request = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: fraudwatch-cli\r\nConnection: close\r\n"
      "Content-Length: {}\r\n",
      method, target, where, body.size());
  if (!body.empty()) request += "Content-Type: application/json\r\n";
  request += "\r\n";
  request += body;
  std::string_view out = request;
  while (!out.empty()) {
    if (!wait_ready(fd, POLLOUT, deadline)) return make_error(where, "timed out sending");
    const ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return make_error(where, std::string("send failed: ") + std::strerror(errno));
    out.remove_prefix(static_cast<size_t>(n));
  }

  std::string in;
  HttpReply reply;
  size_t head_end = std::string::npos;
  size_t want = std::string::npos;  // total bytes when Content-Length is known
  char chunk[16384];
  for (;;) {
    if (want != std::string::npos && in.size() >= want) break;
    if (!wait_ready(fd, POLLIN, deadline))
      return make_error(where, "timed out waiting for the reply");
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return make_error(where, std::string("receive failed: ") + std::strerror(errno));
    if (n == 0) break;
    in.append(chunk, static_cast<size_t>(n));
    if (in.size() > kMaxReplyBytes) {
      return make_error(where, fmt::format("the reply is over {} bytes", kMaxReplyBytes));
    }
    if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
      // Status line and headers.
      const std::string_view head(in.data(), head_end);
      const size_t line_end = head.find("\r\n");
      const std::string_view status_line = head.substr(0, line_end);
      if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12) {
        return make_error(where,
                          "not an HTTP reply: '" + std::string(status_line.substr(0, 40)) + "'");
      }
      int status = 0;
      const auto [p, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
      if (ec != std::errc() || p != status_line.data() + 12 || status < 100) {
        return make_error(where, "bad HTTP status line");
      }
      reply.status = status;
      size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t next = head.find("\r\n", pos);
        if (next == std::string_view::npos) next = head.size();
        const std::string_view line = head.substr(pos, next - pos);
        const size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
          std::string_view value = line.substr(colon + 1);
          while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
            value.remove_prefix(1);
          }
          reply.headers[lower(std::string(line.substr(0, colon)))] = std::string(value);
        }
        pos = next + 2;
      }
      if (auto it = reply.headers.find("content-length"); it != reply.headers.end()) {
        size_t length = 0;
        const std::string& v = it->second;
        const auto [q, ec2] = std::from_chars(v.data(), v.data() + v.size(), length);
        if (ec2 != std::errc() || q != v.data() + v.size() || length > kMaxReplyBytes) {
          return make_error(where, "bad Content-Length '" + v.substr(0, 20) + "'");
        }
        want = head_end + 4 + length;
      }
    }
  }
  if (head_end == std::string::npos) {
    return make_error(where, "the connection closed before a whole reply arrived");
  }
  if (want != std::string::npos && in.size() < want) {
    return make_error(where, "the reply was cut short");
  }
  reply.body =
      in.substr(head_end + 4, want == std::string::npos ? std::string::npos : want - head_end - 4);
  return reply;
}

}  // namespace fw
