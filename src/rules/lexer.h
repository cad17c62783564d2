// Lexer for the rule expression language (docs/rules.md): turns one expression's text into
// tokens that carry their byte offset, so errors can point at a line and column. Pure function;
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fw::rules {

enum class Tok : uint8_t {
  kEnd,
  kNumber,    // 12, 0.5, 1000.25 (text kept for exact money parsing)
  kDuration,  // 5m, 24h, 30d, 10s (value in seconds)
  kString,    // "text" (value unescaped)
  kIdent,     // names, keywords included (and, or, not, in, between, true, false)
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kEq,  // ==
  kNe,  // !=
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  Tok kind = Tok::kEnd;
  uint32_t offset = 0;  // byte offset of the first character in the expression
  std::string text;     // identifier, number text, or unescaped string
  double number = 0;    // kNumber, kDuration (seconds)
};

struct LexError {
  uint32_t offset = 0;
  std::string message;
};

// Longest expression accepted, in bytes; longer text is rejected before lexing.
inline constexpr size_t kMaxExpressionBytes = 8192;

// Tokenizes `text`; the last token is kEnd. On error returns false and fills `error`.
bool lex(std::string_view text, std::vector<Token>& out, LexError& error);

std::string_view token_name(Tok t);

}  // namespace fw::rules
