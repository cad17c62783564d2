// A minimal blocking HTTP/1.1 client for the CLI's calls to a running fraudwatch (`fraudwatch
// rules reload`): one request per connection, plain http:// only, every wait bounded by a
// deadline, the response size bounded. Stateless free function; thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace fw {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// The pieces of "http://host[:port][/prefix]": host (a name or an IPv4/IPv6 literal in
// brackets) and port (default 80). Errors name `field` and the reason.
struct HttpUrl {
  std::string host;
  uint16_t port = 80;
};
Result<HttpUrl> parse_http_url(std::string_view url, std::string_view field = "--url");

// Sends `method target` with `body` (as application/json when not empty) to `url` and reads
// the whole response. Fails with a reason on a bad URL, an unresolvable host, a refused
// connection, a timeout (`timeout` for the whole exchange), a malformed response or one over
// 16 MiB. A non-2xx status is a reply, not an error.
Result<HttpReply> http_call(std::string_view url, std::string_view method, std::string_view target,
                            std::string_view body = {},
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace fw
