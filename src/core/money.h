// Money: an amount in integer minor units of an ISO 4217 currency. Never a float.
// Value types, freely copyable, thread-safe as values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace fw {

// A three-letter ISO 4217 currency code packed into 32 bits ("EUR" -> 'E','U','R').
class Currency {
 public:
  constexpr Currency() = default;
  // Parses an upper-case three-letter code known to the ISO 4217 table compiled in.
  static Result<Currency> parse(std::string_view code);
  // REQUIRES: code is three upper-case ASCII letters (unchecked; for constants and tests).
  static constexpr Currency of(const char (&code)[4]) {
    return Currency(static_cast<uint32_t>(code[0]) << 16 | static_cast<uint32_t>(code[1]) << 8 |
                    static_cast<uint32_t>(code[2]));
  }

  bool valid() const { return packed_ != 0; }
  std::string code() const;
  // Digits after the decimal point (EUR 2, JPY 0, KWD 3).
  int exponent() const;
  // 10^exponent(): minor units per major unit.
  int64_t minor_per_major() const;
  uint32_t packed() const { return packed_; }

  friend constexpr bool operator==(Currency a, Currency b) { return a.packed_ == b.packed_; }

 private:
  constexpr explicit Currency(uint32_t packed) : packed_(packed) {}
  uint32_t packed_ = 0;
};

struct Money {
  int64_t minor = 0;  // integer minor units (cents for EUR)
  Currency currency;

  // The amount in major units as a double, for features and statistics only; never for
  // money arithmetic.
  double major_approx() const {
    return static_cast<double>(minor) / static_cast<double>(currency.minor_per_major());
  }
  friend bool operator==(const Money&, const Money&) = default;
};

// Parses an exact decimal string ("12.50", "-3", "1000.125") into minor units of `currency`.
// Rejects more fractional digits than the currency has, exponents, thousands separators,
// and magnitudes beyond 10^15 major units.
Result<int64_t> parse_decimal_amount(std::string_view text, Currency currency);

// Formats minor units as an exact decimal string: 1250 EUR -> "12.50".
std::string format_decimal_amount(int64_t minor, Currency currency);

// Appends the decimal form of `minor` to `out` without allocation beyond out's growth.
void append_decimal_amount(std::string& out, int64_t minor, Currency currency);

}  // namespace fw
