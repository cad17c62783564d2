#include "core/money.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace fw {
namespace {

struct CurrencyInfo {
  char code[4];
  int exponent;
};

// ISO 4217 active codes with their minor-unit exponents (the list in the standard's table A.1,
// restricted to currencies in circulation). Looked up linearly behind a small cache.
constexpr CurrencyInfo kCurrencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2},
    {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHF", 2}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"CRC", 2},
    {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2},
    {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2},
    {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2},
    {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2},
    {"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0},
    {"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2},
    {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2},
    {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2},
    {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2},
    {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2},
    {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2},
    {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2},
    {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"UYU", 2}, {"UZS", 2}, {"VES", 2},
    {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2},
    {"ZAR", 2}, {"ZMW", 2}, {"ZWL", 2}, {"CUC", 2},
};

constexpr uint32_t pack(const char* c) {
  return static_cast<uint32_t>(c[0]) << 16 | static_cast<uint32_t>(c[1]) << 8 |
         static_cast<uint32_t>(c[2]);
}

const CurrencyInfo* find_currency(uint32_t packed) {
  for (const auto& info : kCurrencies) {
    if (pack(info.code) == packed) return &info;
  }
  return nullptr;
}

// Exponent lookup is on the hot path (features), so cache the last few answers in a direct map
// keyed by the packed code's low bits.
struct ExponentCache {
  std::array<uint32_t, 64> key{};
  std::array<int8_t, 64> exp{};
};

constexpr int64_t kPow10[] = {1, 10, 100, 1000, 10000};
constexpr int64_t kMaxMajor = 1'000'000'000'000'000;  // 10^15

}  // namespace

Result<Currency> Currency::parse(std::string_view code) {
  if (code.size() != 3) {
    return make_error(
        "", "currency must be a three-letter ISO 4217 code, got '" + std::string(code) + "'");
  }
  for (char c : code) {
    if (c < 'A' || c > 'Z') {
      return make_error("", "currency must be upper-case letters, got '" + std::string(code) + "'");
    }
  }
  uint32_t packed = pack(code.data());
  if (find_currency(packed) == nullptr) {
    return make_error("", "unknown ISO 4217 currency '" + std::string(code) + "'");
  }
  return Currency(packed);
}

std::string Currency::code() const {
  if (!valid()) return "";
  return std::string{static_cast<char>(packed_ >> 16), static_cast<char>((packed_ >> 8) & 0xff),
                     static_cast<char>(packed_ & 0xff)};
}

int Currency::exponent() const {
  thread_local ExponentCache cache;
  size_t slot = (packed_ ^ (packed_ >> 7)) & 63;
  if (cache.key[slot] == packed_ && packed_ != 0) return cache.exp[slot];
  const CurrencyInfo* info = find_currency(packed_);
  int e = info ? info->exponent : 2;
  cache.key[slot] = packed_;
  cache.exp[slot] = static_cast<int8_t>(e);
  return e;
}

int64_t Currency::minor_per_major() const { return kPow10[exponent()]; }

Result<int64_t> parse_decimal_amount(std::string_view text, Currency currency) {
  if (text.empty()) return make_error("", "amount is empty");
  bool negative = false;
  size_t i = 0;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  int64_t major = 0;
  size_t int_digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++int_digits) {
    major = major * 10 + (text[i] - '0');
    if (major > kMaxMajor) return make_error("", "amount is too large (over 10^15)");
  }
  int exp = currency.exponent();
  int64_t frac = 0;
  int frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (frac_digits == exp) {
        if (text[i] != '0') {
          return make_error("", "amount '" + std::string(text) + "' has more decimals than " +
                                    currency.code() + " allows (" + std::to_string(exp) + ")");
        }
        continue;  // trailing zeros beyond the exponent are exact
      }
      frac = frac * 10 + (text[i] - '0');
      ++frac_digits;
    }
    if (frac_digits == 0 && int_digits == 0) {
      return make_error("", "amount '" + std::string(text) + "' is not a decimal number");
    }
  }
  if (i != text.size() || (int_digits == 0 && frac_digits == 0)) {
    return make_error("", "amount '" + std::string(text) + "' is not a decimal number");
  }
  for (int d = frac_digits; d < exp; ++d) frac *= 10;
  int64_t minor = major * kPow10[exp] + frac;
  return negative ? -minor : minor;
}

void append_decimal_amount(std::string& out, int64_t minor, Currency currency) {
  int exp = currency.exponent();
  uint64_t mag = minor < 0 ? static_cast<uint64_t>(-(minor + 1)) + 1 : static_cast<uint64_t>(minor);
  if (minor < 0) out.push_back('-');
  uint64_t scale = static_cast<uint64_t>(kPow10[exp]);
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, mag / scale);
  out.append(buf, res.ptr);
  if (exp > 0) {
    out.push_back('.');
    uint64_t frac = mag % scale;
    char fbuf[4];
    for (int d = exp - 1; d >= 0; --d) {
      fbuf[d] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    out.append(fbuf, static_cast<size_t>(exp));
  }
}

std::string format_decimal_amount(int64_t minor, Currency currency) {
  std::string out;
  append_decimal_amount(out, minor, currency);
  return out;
}

}  // namespace fw
