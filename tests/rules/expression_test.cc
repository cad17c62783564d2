// The rule language on its own: lexer, parser, type checker and compiled evaluation, with
// the error messages people see (offsets here; rule_set_test.cc checks file:line:column).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/time.h"
#include "rules/compiler.h"
#include "rules/lexer.h"
#include "rules/parser.h"

namespace fw::rules {
namespace {

const std::vector<NamedList> kLists = {
    {"bad_merchants", {"m-evil", "m-worse"}},
    {"mccs", {"7995", "6051"}},
    {"countries", {"NG", "RU"}},
};

std::string error_of(std::string_view text) {
  Program p;
  CompiledExpr e;
  CompileError err;
  if (compile_expression(text, kLists, p, e, err)) return "compiled";
  return std::to_string(err.offset) + ": " + err.message;
}

// A transaction and features that the evaluation cases below adjust.
struct Fixture {
  Transaction tx;
  FeatureVector f;
  Fixture() {
    tx.id = "t1";
    tx.account_id = "acc-1";
    tx.ts = 1'767'657'000'000'000;                      // 2026-01-05T23:50:00Z, a Monday
    tx.amount = Money{1'000'000, Currency::of("EUR")};  // 10000.00 EUR
    tx.type = TxType::kTransfer;
    tx.channel = Channel::kOnlineBanking;
    tx.merchant_id = "m-evil";
    tx.device_id = "dev-1";
    tx.counterparty = "acc-9";
    tx.mcc = 7995;
    tx.country = *Country::parse("DE");
    tx.has_location = true;
    tx.lat = 52.52;
    tx.lon = 13.405;
    tx.card_present = true;
    tx.finalize_keys();
    f[FeatureId::kTxCount1m] = 4;
    f[FeatureId::kTxSum1h] = 10'100;
    f[FeatureId::kTxCount1h] = 5;
    f[FeatureId::kNewDevice] = 1;
    f[FeatureId::kSecondsSincePrev] = 7'776'001;  // 90 days and a second
    f[FeatureId::kSecondsSinceOtherCountry] = -1;
    f[FeatureId::kAmountZscore] = 3.5;
    f[FeatureId::kLocalHour] = 2;
  }
};

bool eval(std::string_view text, const Fixture& fx = Fixture()) {
  Program p;
  CompiledExpr e;
  CompileError err;
  if (!compile_expression(text, kLists, p, e, err)) {
    ADD_FAILURE() << text << ": " << err.message;
    return false;
  }
  return p.run(e.start, fx.tx, fx.f);
}

TEST(RuleLexer, TokenizesNumbersDurationsStringsAndOperators) {
  std::vector<Token> toks;
  LexError err;
  ASSERT_TRUE(lex("a >= 1.5 and 90d != \"x\\\"y\" # comment\n<=", toks, err)) << err.message;
  ASSERT_EQ(toks.size(), 9u);
  EXPECT_EQ(toks[0].kind, Tok::kIdent);
  EXPECT_EQ(toks[1].kind, Tok::kGe);
  EXPECT_EQ(toks[2].kind, Tok::kNumber);
  EXPECT_EQ(toks[2].number, 1.5);
  EXPECT_EQ(toks[4].kind, Tok::kDuration);
  EXPECT_EQ(toks[4].number, 90 * 86400);
  EXPECT_EQ(toks[4].offset, 13u);
  EXPECT_EQ(toks[6].kind, Tok::kString);
  EXPECT_EQ(toks[6].text, "x\"y");
  EXPECT_EQ(toks[7].kind, Tok::kLe);
  EXPECT_EQ(toks[8].kind, Tok::kEnd);
}

TEST(RuleParser, SyntaxErrorsSayWhatAndWhere) {
  EXPECT_EQ(error_of(""), "0: the expression is empty");
  EXPECT_EQ(error_of("   # only a comment"), "0: the expression is empty");
  EXPECT_EQ(error_of("tx_count_1m >"), "13: expected a value, found end of expression");
  EXPECT_EQ(error_of("(tx_count_1m > 3"), "16: expected ')' to close '(', found end of expression");
  EXPECT_EQ(error_of("tx_count_1m = 3"), "12: '=' is not an operator; write '==' to compare");
  EXPECT_EQ(error_of("new_device && has_prev"), "11: '&' is not an operator; write 'and'");
  EXPECT_EQ(error_of("tx_count_1m > 3 has_prev"),
            "16: unexpected 'has_prev' after a complete expression (missing 'and' / 'or'?)");
  EXPECT_EQ(error_of("1 < tx_count_1m < 3"),
            "16: comparisons do not chain; write 'a < b and b < c'");
  EXPECT_EQ(error_of("merchant_id == \"m-1"), "15: string is not closed on this line");
  EXPECT_EQ(error_of("seconds_since_prev > 5y"),
            "22: unknown unit 'y' after a number (durations take s, m, h or d: 30s, 5m, 24h, "
            "90d; money takes a space and a currency: 100 EUR)");
  EXPECT_EQ(error_of("tx_count_1m between 1 3"),
            "22: expected 'and' in 'x between low and high', found '3'");
  EXPECT_EQ(error_of("mcc in 7995"),
            "7: expected a list after 'in': [\"a\", \"b\"] or list(\"name\"), found '7995'");
  EXPECT_EQ(error_of("tx_count_1m > 3 and"), "19: expected a value, found end of expression");
  EXPECT_EQ(error_of("tx_count_1m @ 3"), "12: unexpected character '@'");
  EXPECT_EQ(error_of("tx_count_1m > 1e5"),
            "15: unknown unit 'e5' after a number (durations take s, m, h or d: 30s, 5m, 24h, "
            "90d; money takes a space and a currency: 100 EUR)");
}

TEST(RuleParser, HostileNestingAndLengthAreRejectedNotCrashed) {
  EXPECT_EQ(error_of(std::string(200, '(') + "true" + std::string(200, ')')),
            "64: expression is nested too deeply (more than 256 levels)");
  std::string chain = "true";
  for (int i = 0; i < 300; ++i) chain += " and true";
  EXPECT_EQ(error_of(chain).substr(0, 40), "2300: expression is too long a chain of ");
  EXPECT_EQ(error_of(std::string(10'000, ' ')),
            "0: expression is 10000 bytes long; the limit is 8192");
  EXPECT_EQ(error_of(std::string("has_prev and \x01")), "13: unexpected character byte 0x01");
  std::string negs(300, '-');
  EXPECT_EQ(error_of(negs + "1 > 0"),
            "254: expression is nested too deeply (more than 256 levels)");
}

TEST(RuleTypes, TypeErrorsNameBothTypesAndSuggestFixes) {
  EXPECT_EQ(error_of("amout > 100 EUR"), "0: unknown name 'amout'; did you mean 'amount'?");
  EXPECT_EQ(error_of("tx_count_1h > 3 and new_devise"),
            "20: unknown name 'new_devise'; did you mean 'new_device'?");
  EXPECT_EQ(error_of("zzzzzz"), "0: unknown name 'zzzzzz'");
  EXPECT_EQ(error_of("seconds_since_prev > 3600"),
            "0: cannot compare duration and number (give the number a unit: 30s, 5m, 24h, 90d)");
  EXPECT_EQ(error_of("amount > 100"),
            "0: cannot compare money and number (money compares with money: 100 EUR)");
  EXPECT_EQ(error_of("amount + 1 EUR > 5 EUR"),
            "7: '+' does not apply to money; compare amount with a constant (amount > 100 EUR) "
            "or use major(amount) for ratios");
  EXPECT_EQ(error_of("tx_count_1m"),
            "0: a rule's expression must be true or false, but this is a number (compare it: ... "
            "> 3)");
  EXPECT_EQ(error_of("new_device and tx_count_1m"),
            "15: 'and' needs true or false on both sides, got a number");
  EXPECT_EQ(error_of("not tx_count_1m"), "4: 'not' needs true or false, got a number");
  EXPECT_EQ(error_of("type == \"tranfer\""),
            "8: unknown transaction type 'tranfer'; did you mean 'transfer'?");
  EXPECT_EQ(error_of("channel == \"web\""),
            "11: unknown channel 'web' (one of: pos, ecommerce, mobile_app, atm, branch, "
            "online_banking)");
  EXPECT_EQ(error_of("country == \"Germany\""),
            "11: 'Germany' is not a country code: two upper-case letters (\"DE\")");
  EXPECT_EQ(error_of("merchant_id > \"m\""),
            "0: text supports only == and != (and starts_with(), in)");
  EXPECT_EQ(error_of("merchant_id == 3"), "0: cannot compare text and number");
  EXPECT_EQ(error_of("merchant_id == device_id"),
            "0: text compares a field with a constant: merchant_id == \"m-1\"");
  EXPECT_EQ(error_of("amount > 100 EUX"),
            "9: 'EUX' in '100 EUX' is not a known ISO 4217 currency code");
  EXPECT_EQ(error_of("amount > 100.001 EUR").substr(0, 24), "9: money '100.001 EUR': ");
  EXPECT_EQ(error_of("amount between 1 EUR and 2 USD"),
            "25: both bounds must be in one currency, got EUR and USD");
  EXPECT_EQ(error_of("maxx(1, 2) > 1"), "0: unknown function 'maxx'; did you mean 'max'?");
  EXPECT_EQ(error_of("max(1) > 1"), "0: max() takes 2 arguments, got 1: max(a, b)");
  EXPECT_EQ(error_of("min(1, 5m) > 1"),
            "0: min() needs two numbers or two durations, got number and duration");
  EXPECT_EQ(error_of("log(new_device) > 1"), "4: log() needs a number, got a true/false");
  EXPECT_EQ(error_of("major(tx_sum_1h) > 1"), "6: major() takes only 'amount'");
  EXPECT_EQ(error_of("mcc in [\"7995\"]"),
            "8: this list holds numbers because its left side is a number");
  EXPECT_EQ(error_of("merchant_id in [1]"),
            "16: this list holds text (\"...\") because its left side is text");
  EXPECT_EQ(error_of("mcc in list(\"bad_merchants\")"),
            "12: list 'bad_merchants' holds 'm-evil', which is not a number, but the left side is "
            "a number");
  EXPECT_EQ(error_of("merchant_id in list(\"bad_merchant\")"),
            "20: unknown list 'bad_merchant'; did you mean 'bad_merchants'?");
  EXPECT_EQ(error_of("list(\"mccs\")"),
            "0: list(\"name\") can only follow 'in': x in list(\"name\")");
  EXPECT_EQ(error_of("hour > 3"), "0: 'hour' is a function; call it: hour(...)");
  EXPECT_EQ(error_of("new_device() > 3"),
            "0: 'new_device' is a field, not a function; drop the '(...)'");
  EXPECT_EQ(error_of("new_device > true"), "0: true/false support only == and !=");
  EXPECT_EQ(error_of("seconds_since_prev * seconds_since_prev > 1d"),
            "19: '*' does not apply to duration and duration");
}

TEST(RuleEval, NumbersFeaturesAndArithmetic) {
  EXPECT_TRUE(eval("tx_count_1m > 3"));
  EXPECT_FALSE(eval("tx_count_1m > 4"));
  EXPECT_TRUE(eval("4 >= tx_count_1m"));  // constant on the left flips the comparison
  EXPECT_TRUE(eval("tx_count_1m * 2 + 1 == 9"));
  EXPECT_TRUE(eval("-tx_count_1m == -4"));
  EXPECT_TRUE(eval("tx_count_1m / 8 == 0.5"));
  EXPECT_TRUE(
      eval("abs(0 - tx_count_1m) == 4 and min(1, tx_count_1m) == 1 and "
           "max(1, tx_count_1m) == 4"));
  EXPECT_TRUE(eval("log(tx_count_1m) > 1.38 and log(tx_count_1m) < 1.39"));
  EXPECT_FALSE(eval("tx_count_1m / 0 < 1"));  // +inf
  EXPECT_FALSE(eval("log(0 - 1) > 0"));       // NaN compares false
  EXPECT_TRUE(eval("tx_count_1m between 4 and 5 and not (tx_count_1m not between 1 and 9)"));
  EXPECT_TRUE(eval("mcc in [7995, 1] and mcc not in [1, 2] and mcc in list(\"mccs\")"));
  EXPECT_TRUE(eval("(tx_sum_1h - major(amount)) / (tx_count_1h - 1) == 25"));
}

TEST(RuleEval, BooleansShortCircuitAndPrecedence) {
  EXPECT_TRUE(eval("new_device"));
  EXPECT_FALSE(eval("not new_device"));
  EXPECT_TRUE(eval("new_device == true and has_prev == false"));
  EXPECT_TRUE(eval("has_prev or new_device"));
  EXPECT_FALSE(eval("has_prev and new_device"));
  EXPECT_TRUE(eval("has_prev and new_device or card_present"));  // and binds tighter
  EXPECT_FALSE(eval("has_prev and (new_device or card_present)"));
  EXPECT_TRUE(eval("not has_prev and not not new_device"));
  EXPECT_TRUE(eval("true"));
  EXPECT_FALSE(eval("false"));
}

TEST(RuleEval, DurationsAndTime) {
  EXPECT_TRUE(eval("seconds_since_prev > 90d"));
  EXPECT_FALSE(eval("seconds_since_prev > 90d + 1s"));
  EXPECT_TRUE(eval("seconds_since_prev >= 2160h and seconds_since_prev / 1d > 90"));
  EXPECT_TRUE(eval("seconds_since_other_country < 0s"));
  EXPECT_TRUE(eval("seconds_since_prev > 2 * 45d - 1m"));
  EXPECT_TRUE(eval("hour() == 23 and weekday() == 0"));  // 2026-01-05 23:50 UTC, Monday
  EXPECT_TRUE(eval("local_hour between 1 and 4"));
}

TEST(RuleEval, MoneyIsExactAndCurrencySpecific) {
  Fixture fx;  // 10000.00 EUR
  EXPECT_FALSE(eval("amount > 10000 EUR", fx));
  EXPECT_TRUE(eval("amount >= 10000 EUR", fx));
  EXPECT_TRUE(eval("amount > 9999.99 EUR", fx));
  EXPECT_TRUE(eval("amount == 10000.00 EUR", fx));
  EXPECT_TRUE(eval("9999.99 EUR < amount", fx));
  EXPECT_TRUE(eval("amount between 10000 EUR and 10000 EUR", fx));
  // Another currency never compares true, != included: write per-currency thresholds.
  EXPECT_FALSE(eval("amount > 1 USD", fx));
  EXPECT_FALSE(eval("amount != 1 USD", fx));
  EXPECT_TRUE(eval("amount > 1 USD or amount > 1 EUR", fx));
  fx.tx.amount = Money{1'500'001, Currency::of("JPY")};
  EXPECT_TRUE(eval("amount > 1500000 JPY", fx));
  EXPECT_TRUE(eval("currency == \"JPY\" and currency in [\"JPY\", \"KRW\"]", fx));
  fx.tx.amount = Money{1'000'001, Currency::of("KWD")};  // 1000.001 KWD
  EXPECT_TRUE(eval("amount > 1000 KWD and amount < 1000.002 KWD", fx));
}

TEST(RuleEval, TextFieldsCompareByHashAndExactly) {
  Fixture fx;
  EXPECT_TRUE(eval("merchant_id == \"m-evil\"", fx));
  EXPECT_FALSE(eval("merchant_id == \"m-evi\"", fx));
  EXPECT_TRUE(eval("merchant_id != 'm-good'", fx));
  EXPECT_TRUE(eval("merchant_id in list(\"bad_merchants\")", fx));
  EXPECT_TRUE(eval("merchant_id in [\"a\", \"m-evil\"] and device_id not in [\"dev-2\"]", fx));
  EXPECT_TRUE(eval("counterparty == \"acc-9\" and account_id == \"acc-1\"", fx));
  EXPECT_TRUE(eval("starts_with(merchant_id, \"m-\") and not starts_with(device_id, \"m-\")", fx));
  EXPECT_TRUE(
      eval("type == \"transfer\" and channel == \"online_banking\" and type != "
           "\"deposit\"",
           fx));
  EXPECT_TRUE(eval("country == \"DE\" and country not in list(\"countries\")", fx));
  // Without precomputed keys (finalize_keys not called) the field is hashed on the fly.
  fx.tx.merchant_key = 0;
  EXPECT_TRUE(eval("merchant_id == \"m-evil\"", fx));
  fx.tx.merchant_id = "m-worse";
  EXPECT_TRUE(eval("merchant_id in list(\"bad_merchants\")", fx));
  fx.tx.merchant_id.clear();
  EXPECT_FALSE(eval("merchant_id in list(\"bad_merchants\")", fx));
  EXPECT_TRUE(eval("merchant_id == \"\"", fx));
}

TEST(RuleEval, GeoDistance) {
  // Berlin -> Paris is about 878 km.
  EXPECT_TRUE(eval("has_location and distance(lat, lon, 48.8566, 2.3522) between 870 and 885"));
  EXPECT_TRUE(eval("distance(lat, lon, lat, lon) == 0"));
}

TEST(RuleEval, DescribeValuesListsWhatTheExpressionRead) {
  Fixture fx;
  Program p;
  CompiledExpr e;
  CompileError err;
  ASSERT_TRUE(compile_expression(
      "amount > 1 EUR and type == \"transfer\" and tx_count_1m > 1 and merchant_id in "
      "list(\"bad_merchants\") and card_present and seconds_since_prev > 1d",
      kLists, p, e, err))
      << err.message;
  EXPECT_EQ(describe_values(e, fx.tx, fx.f),
            "amount=10000.00 EUR, type=transfer, tx_count_1m=4, merchant_id=\"m-evil\", "
            "card_present=1, seconds_since_prev=7776001");
}

TEST(RuleCompiler, FailedCompilationLeavesTheProgramUnchanged) {
  Program p;
  CompiledExpr ok;
  CompileError err;
  ASSERT_TRUE(compile_expression("mcc in [1, 2]", kLists, p, ok, err));
  const size_t code = p.code.size();
  CompiledExpr bad;
  EXPECT_FALSE(compile_expression("mcc in [1, 2] and bogus", kLists, p, bad, err));
  EXPECT_EQ(p.code.size(), code);
  EXPECT_EQ(p.num_sets.size(), 1u);
}

TEST(RuleCompiler, FeatureAgainstConstantIsOneInstruction) {
  Program p;
  CompiledExpr e;
  CompileError err;
  ASSERT_TRUE(compile_expression("tx_count_1m > 3 and 5m > seconds_since_prev", kLists, p, e, err));
  ASSERT_EQ(p.code.size(), 3u);  // guard, guard, return true
  EXPECT_EQ(p.code[0].op, Op::kFeatureCmpConst);
  EXPECT_EQ(p.code[0].flags, kGuardFlag);
  EXPECT_EQ(p.code[1].op, Op::kFeatureCmpConst);
  EXPECT_EQ(p.code[1].cmp, Cmp::kLt);
  EXPECT_EQ(p.code[1].k, 300);
  EXPECT_EQ(p.code[2].op, Op::kRetTrue);
}

TEST(RuleCompiler, PerCurrencyMoneyThresholdsAreOneInstruction) {
  Program p;
  CompiledExpr e;
  CompileError err;
  ASSERT_TRUE(compile_expression("amount > 10 EUR or amount > 1000 JPY or 12 USD < amount", kLists,
                                 p, e, err));
  ASSERT_EQ(p.code.size(), 2u);
  EXPECT_EQ(p.code[0].op, Op::kMoneyAny);
  ASSERT_EQ(p.money_sets.size(), 1u);
  EXPECT_EQ(p.money_sets[0].size(), 3u);
  Fixture fx;
  fx.tx.amount = Money{1001, Currency::of("JPY")};
  EXPECT_TRUE(p.run(e.start, fx.tx, fx.f));
  fx.tx.amount = Money{1000, Currency::of("JPY")};
  EXPECT_FALSE(p.run(e.start, fx.tx, fx.f));
  fx.tx.amount = Money{1201, Currency::of("USD")};
  EXPECT_TRUE(p.run(e.start, fx.tx, fx.f));
  fx.tx.amount = Money{99999, Currency::of("GBP")};
  EXPECT_FALSE(p.run(e.start, fx.tx, fx.f));
  // Mixed operators are not fused, and still right.
  Program q;
  ASSERT_TRUE(compile_expression("amount > 10 EUR or amount < 1 USD", kLists, q, e, err));
  EXPECT_NE(q.code[0].op, Op::kMoneyAny);
  fx.tx.amount = Money{50, Currency::of("USD")};
  EXPECT_TRUE(q.run(e.start, fx.tx, fx.f));
}

TEST(RuleCompiler, EveryFeatureAndFieldIsAddressable) {
  for (const std::string& name : known_names()) {
    Program p;
    CompiledExpr e;
    CompileError err;
    const std::string text = name + " == " + name;
    const bool ok = compile_expression(text, kLists, p, e, err);
    if (name == "amount" || name == "merchant_id" || name == "terminal_id" || name == "device_id" ||
        name == "counterparty" || name == "account_id" || name == "ip" || name == "currency" ||
        name == "country" || name == "type" || name == "channel") {
      EXPECT_FALSE(ok) << name;  // text and money compare with constants only
    } else {
      EXPECT_TRUE(ok) << name << ": " << err.message;
    }
  }
  EXPECT_GE(known_names().size(), kFeatureCount);
}

}  // namespace
}  // namespace fw::rules
