// A blocking raw-socket HTTP/1.1 client for the server tests: sends exact bytes (including
// malformed ones) and parses one response at a time. Every receive has a timeout, so a test
// never waits forever and never sleeps. One client per thread; not thread-safe.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

namespace fw::testing {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;  // why reading failed; empty when a whole response was read

  bool ok() const { return error.empty(); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

inline std::string to_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class RawHttpClient {
 public:
  explicit RawHttpClient(uint16_t port, int timeout_ms = 5000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawHttpClient() { close(); }
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Sends all bytes; false when the connection fails.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response. For a response to HEAD pass head = true: it has no body to read.
  // Without Content-Length, the body runs until the server closes.
  RawResponse read_response(bool head = false) {
    RawResponse r;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(r.error)) return r;
    }
    std::string head_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    size_t line_end = head_text.find("\r\n");
    std::string status_line = head_text.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
      r.error = "bad status line: " + status_line;
      return r;
    }
    r.status = std::stoi(status_line.substr(9, 3));
    size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
    while (pos < head_text.size()) {
      size_t next = head_text.find("\r\n", pos);
      if (next == std::string::npos) next = head_text.size();
      std::string line = head_text.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers[to_lower(line.substr(0, colon))] = value;
      }
      pos = next + 2;
    }
    if (head || r.status / 100 == 1 || r.status == 204 || r.status == 304) return r;
    if (r.headers.contains("content-length")) {
      size_t length = std::stoul(r.headers["content-length"]);
      while (buffer_.size() < length) {
        if (!fill(r.error)) return r;
      }
      r.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    } else {
      std::string ignored;
      while (fill(ignored)) {
      }
      r.body = std::move(buffer_);
      buffer_.clear();
    }
    return r;
  }

  // True when the server closes the connection (end of stream or reset) before the receive
  // timeout; bytes arriving meanwhile are discarded.
  bool wait_closed() {
    char chunk[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool fill(std::string& error) {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    error = n == 0 ? "connection closed" : std::string("recv: ") + std::strerror(errno);
    return false;
  }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace fw::testing
