// Card numbers (PANs) are never stored in clear: on input they are replaced by a keyed token,
// HMAC-SHA256(key, digits) truncated to 128 bits, hex-encoded with a "tok_" prefix. The same
// card under the same key always gives the same token, so features can still count cards.
// The key comes from the environment or a file, never from the repository.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace fw {

class PanTokenizer {
 public:
  // REQUIRES: key is non-empty.
  explicit PanTokenizer(std::string key) : key_(std::move(key)) {}

  // Loads the key from FRAUDWATCH_PAN_KEY, else from the file named by FRAUDWATCH_PAN_KEY_FILE,
  // else from `fallback_file`, creating it with a fresh random key (mode 0600) if absent.
  static Result<PanTokenizer> from_environment(const std::string& fallback_file);

  // Validates (13-19 digits, spaces and dashes ignored, Luhn check) and tokenizes a PAN.
  Result<std::string> tokenize(std::string_view pan) const;

 private:
  std::string key_;
};

}  // namespace fw
