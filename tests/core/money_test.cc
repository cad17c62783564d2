#include "core/money.h"

#include <gtest/gtest.h>

namespace fw {
namespace {

TEST(Currency, ParsesKnownCodesWithTheirExponents) {
  EXPECT_EQ(Currency::parse("EUR")->exponent(), 2);
  EXPECT_EQ(Currency::parse("JPY")->exponent(), 0);
  EXPECT_EQ(Currency::parse("KWD")->exponent(), 3);
  EXPECT_EQ(Currency::parse("EUR")->code(), "EUR");
}

TEST(Currency, RejectsUnknownAndMalformedCodes) {
  EXPECT_FALSE(Currency::parse("EURO").ok());
  EXPECT_FALSE(Currency::parse("eur").ok());
  EXPECT_FALSE(Currency::parse("XXQ").ok());
  EXPECT_NE(Currency::parse("ABC").error().reason.find("unknown ISO 4217"), std::string::npos);
}

TEST(Money, ParsesExactDecimals) {
  auto eur = Currency::of("EUR");
  EXPECT_EQ(*parse_decimal_amount("12.50", eur), 1250);
  EXPECT_EQ(*parse_decimal_amount("12.5", eur), 1250);
  EXPECT_EQ(*parse_decimal_amount("12", eur), 1200);
  EXPECT_EQ(*parse_decimal_amount("0.01", eur), 1);
  EXPECT_EQ(*parse_decimal_amount(".5", eur), 50);
  EXPECT_EQ(*parse_decimal_amount("-3.10", eur), -310);
  EXPECT_EQ(*parse_decimal_amount("1.2300", eur), 123);  // trailing zeros are exact
  EXPECT_EQ(*parse_decimal_amount("1000", Currency::of("JPY")), 1000);
  EXPECT_EQ(*parse_decimal_amount("1.125", Currency::of("KWD")), 1125);
}

TEST(Money, RejectsInexactAndMalformedAmounts) {
  auto eur = Currency::of("EUR");
  EXPECT_FALSE(parse_decimal_amount("1.005", eur).ok());
  EXPECT_FALSE(parse_decimal_amount("1.5", Currency::of("JPY")).ok());
  EXPECT_FALSE(parse_decimal_amount("", eur).ok());
  EXPECT_FALSE(parse_decimal_amount("1e5", eur).ok());
  EXPECT_FALSE(parse_decimal_amount("1,000.00", eur).ok());
  EXPECT_FALSE(parse_decimal_amount(".", eur).ok());
  EXPECT_FALSE(parse_decimal_amount("-", eur).ok());
  EXPECT_FALSE(parse_decimal_amount("99999999999999999999", eur).ok());
}

TEST(Money, FormatsExactly) {
  EXPECT_EQ(format_decimal_amount(1250, Currency::of("EUR")), "12.50");
  EXPECT_EQ(format_decimal_amount(-5, Currency::of("EUR")), "-0.05");
  EXPECT_EQ(format_decimal_amount(1000, Currency::of("JPY")), "1000");
  EXPECT_EQ(format_decimal_amount(1125, Currency::of("KWD")), "1.125");
  EXPECT_EQ(format_decimal_amount(INT64_MIN, Currency::of("JPY")), "-9223372036854775808");
}

}  // namespace
}  // namespace fw
