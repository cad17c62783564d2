#include "core/pan.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fw {

Result<PanTokenizer> PanTokenizer::from_environment(const std::string& fallback_file) {
  if (const char* k = std::getenv("FRAUDWATCH_PAN_KEY"); k != nullptr && *k != '\0') {
    return PanTokenizer(k);
  }
  std::string path = fallback_file;
  if (const char* f = std::getenv("FRAUDWATCH_PAN_KEY_FILE"); f != nullptr && *f != '\0') {
    path = f;
  }
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string key = ss.str();
      while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
      if (key.empty()) return make_error("pan_key", "key file '" + path + "' is empty");
      return PanTokenizer(key);
    }
  }
  if (std::getenv("FRAUDWATCH_PAN_KEY_FILE") != nullptr) {
    return make_error("pan_key", "cannot read FRAUDWATCH_PAN_KEY_FILE '" + path + "'");
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return make_error("pan_key", "no randomness available");
  static const char* kHex = "0123456789abcdef";
  std::string key;
  for (unsigned char b : raw) {
    key.push_back(kHex[b >> 4]);
    key.push_back(kHex[b & 15]);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error("pan_key", "cannot create key file '" + path + "'");
  out << key << '\n';
  out.close();
  ::chmod(path.c_str(), 0600);
  return PanTokenizer(key);
}

Result<std::string> PanTokenizer::tokenize(std::string_view pan) const {
  std::string digits;
  for (char c : pan) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != ' ' && c != '-') {
      return make_error("card_number", "must contain only digits, spaces and dashes");
    }
  }
  if (digits.size() < 13 || digits.size() > 19) {
    return make_error("card_number", "must have 13 to 19 digits");
  }
  int sum = 0;
  bool dbl = false;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  if (sum % 10 != 0) return make_error("card_number", "fails the Luhn check digit");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(digits.data()), digits.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string token = "tok_";
  for (unsigned i = 0; i < 16; ++i) {
    token.push_back(kHex[mac[i] >> 4]);
    token.push_back(kHex[mac[i] & 15]);
  }
  return token;
}

}  // namespace fw
