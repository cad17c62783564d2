#include "rules/lexer.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>

namespace fw::rules {
namespace {

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

}  // namespace

std::string_view token_name(Tok t) {
  switch (t) {
    case Tok::kEnd:
      return "end of expression";
    case Tok::kNumber:
      return "number";
    case Tok::kDuration:
      return "duration";
    case Tok::kString:
      return "string";
    case Tok::kIdent:
      return "name";
    case Tok::kLParen:
      return "'('";
    case Tok::kRParen:
      return "')'";
    case Tok::kLBracket:
      return "'['";
    case Tok::kRBracket:
      return "']'";
    case Tok::kComma:
      return "','";
    case Tok::kPlus:
      return "'+'";
    case Tok::kMinus:
      return "'-'";
    case Tok::kStar:
      return "'*'";
    case Tok::kSlash:
      return "'/'";
    case Tok::kEq:
      return "'=='";
    case Tok::kNe:
      return "'!='";
    case Tok::kLt:
      return "'<'";
    case Tok::kLe:
      return "'<='";
    case Tok::kGt:
      return "'>'";
    case Tok::kGe:
      return "'>='";
  }
  return "token";
}

bool lex(std::string_view s, std::vector<Token>& out, LexError& error) {
  out.clear();
  if (s.size() > kMaxExpressionBytes) {
    error = {0, fmt::format("expression is {} bytes long; the limit is {}", s.size(),
                            kMaxExpressionBytes)};
    return false;
  }
  size_t i = 0;
  auto simple = [&](Tok kind, size_t len) {
    Token t;
    t.kind = kind;
    t.offset = static_cast<uint32_t>(i);
    out.push_back(std::move(t));
    i += len;
  };
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {  // comment to end of line
      while (i < s.size() && s[i] != '\n') ++i;
      continue;
    }
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (is_digit(c) || (c == '.' && is_digit(next))) {
      const size_t start = i;
      while (i < s.size() && is_digit(s[i])) ++i;
      if (i < s.size() && s[i] == '.') {
        ++i;
        if (i >= s.size() || !is_digit(s[i])) {
          error = {static_cast<uint32_t>(start), "a number needs digits after its '.'"};
          return false;
        }
        while (i < s.size() && is_digit(s[i])) ++i;
      }
      Token t;
      t.offset = static_cast<uint32_t>(start);
      t.text = std::string(s.substr(start, i - start));
      const char* first = t.text.data();
      auto [ptr, ec] = std::from_chars(first, first + t.text.size(), t.number);
      if (ec != std::errc() || !std::isfinite(t.number) || t.number > 1e15) {
        error = {t.offset, "number '" + t.text + "' is out of range (at most 1e15)"};
        return false;
      }
      t.kind = Tok::kNumber;
      // A unit letter directly after the digits makes a duration: 5m, 24h.
      if (i < s.size() && is_ident_start(s[i])) {
        size_t j = i;
        while (j < s.size() && is_ident_char(s[j])) ++j;
        const std::string_view unit = s.substr(i, j - i);
        double mult = 0;
        if (unit == "s") mult = 1;
        if (unit == "m") mult = 60;
        if (unit == "h") mult = 3600;
        if (unit == "d") mult = 86400;
        if (mult == 0) {
          error = {static_cast<uint32_t>(i),
                   "unknown unit '" + std::string(unit) +
                       "' after a number (durations take s, m, h or d: 30s, 5m, 24h, 90d; "
                       "money takes a space and a currency: 100 EUR)"};
          return false;
        }
        t.kind = Tok::kDuration;
        t.number *= mult;
        t.text += unit;
        i = j;
      }
      out.push_back(std::move(t));
      continue;
    }
    if (is_ident_start(c)) {
      const size_t start = i;
      while (i < s.size() && is_ident_char(s[i])) ++i;
      Token t;
      t.kind = Tok::kIdent;
      t.offset = static_cast<uint32_t>(start);
      t.text = std::string(s.substr(start, i - start));
      out.push_back(std::move(t));
      continue;
    }
    if (c == '"' || c == '\'') {
      const char quote = c;
      const size_t start = i;
      ++i;
      std::string value;
      bool closed = false;
      while (i < s.size()) {
        const char d = s[i];
        if (d == quote) {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\') {
          if (i + 1 >= s.size()) break;
          const char e = s[i + 1];
          if (e != '\\' && e != '"' && e != '\'') {
            error = {static_cast<uint32_t>(i), "unknown escape '\\" + std::string(1, e) +
                                                   "' (only \\\\, \\\" and \\' exist)"};
            return false;
          }
          value += e;
          i += 2;
          continue;
        }
        if (d == '\n') break;
        value += d;
        ++i;
      }
      if (!closed) {
        error = {static_cast<uint32_t>(start), "string is not closed on this line"};
        return false;
      }
      Token t;
      t.kind = Tok::kString;
      t.offset = static_cast<uint32_t>(start);
      t.text = std::move(value);
      out.push_back(std::move(t));
      continue;
    }
    switch (c) {
      case '(':
        simple(Tok::kLParen, 1);
        continue;
      case ')':
        simple(Tok::kRParen, 1);
        continue;
      case '[':
        simple(Tok::kLBracket, 1);
        continue;
      case ']':
        simple(Tok::kRBracket, 1);
        continue;
      case ',':
        simple(Tok::kComma, 1);
        continue;
      case '+':
        simple(Tok::kPlus, 1);
        continue;
      case '-':
        simple(Tok::kMinus, 1);
        continue;
      case '*':
        simple(Tok::kStar, 1);
        continue;
      case '/':
        simple(Tok::kSlash, 1);
        continue;
      case '<':
        if (next == '=') {
          simple(Tok::kLe, 2);
        } else {
          simple(Tok::kLt, 1);
        }
        continue;
      case '>':
        if (next == '=') {
          simple(Tok::kGe, 2);
        } else {
          simple(Tok::kGt, 1);
        }
        continue;
      case '=':
        if (next == '=') {
          simple(Tok::kEq, 2);
          continue;
        }
        error = {static_cast<uint32_t>(i), "'=' is not an operator; write '==' to compare"};
        return false;
      case '!':
        if (next == '=') {
          simple(Tok::kNe, 2);
          continue;
        }
        error = {static_cast<uint32_t>(i), "'!' is not an operator; write 'not' or '!='"};
        return false;
      case '&':
        error = {static_cast<uint32_t>(i), "'&' is not an operator; write 'and'"};
        return false;
      case '|':
        error = {static_cast<uint32_t>(i), "'|' is not an operator; write 'or'"};
        return false;
      default:
        error = {static_cast<uint32_t>(i), "unexpected character " + printable(c)};
        return false;
    }
  }
  Token end;
  end.kind = Tok::kEnd;
  end.offset = static_cast<uint32_t>(s.size());
  out.push_back(std::move(end));
  return true;
}

}  // namespace fw::rules
