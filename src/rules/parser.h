// Parser for the rule expression language: tokens -> syntax tree (docs/rules.md has the
// grammar). The tree is only an intermediate form: compiler.h type-checks it and flattens it
// into a Program. Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/lexer.h"

namespace fw::rules {

enum class NodeKind : uint8_t {
  kNumber,    // number
  kDuration,  // number (seconds)
  kMoney,     // text = decimal digits, name = currency code
  kString,    // text
  kBool,      // number 0/1
  kName,      // text = field or feature name
  kCall,      // text = function name, kids = arguments
  kList,      // kids = items
  kUnary,     // op = kMinus or "not" (op = kEnd), kids[0]
  kBinary,    // op, kids[0], kids[1]; "and"/"or" use name
  kIn,        // kids[0] in kids[1] (a kList or a list("name") call); negate = not in
  kBetween,   // kids[0] between kids[1] and kids[2]; negate = not between
};

struct Node {
  NodeKind kind = NodeKind::kNumber;
  uint32_t offset = 0;  // where the node starts in the expression
  Tok op = Tok::kEnd;   // kUnary / kBinary operator
  std::string text;     // name, string value, number text, function name, "and"/"or"
  std::string currency;
  double number = 0;
  bool negate = false;
  uint16_t height = 1;  // longest path to a leaf; bounded so recursion over the tree is too
  std::vector<std::unique_ptr<Node>> kids;
};

struct ParseError {
  uint32_t offset = 0;
  std::string message;
};

// Deepest nesting accepted (parentheses, operators, calls); deeper input is an error, so
// hostile input cannot exhaust the stack.
inline constexpr int kMaxNesting = 256;
// Tallest tree accepted (long 'a and b and c ...' chains build tall trees without nesting).
inline constexpr int kMaxHeight = 256;

// Parses one expression. Returns null and fills `error` on a syntax error.
std::unique_ptr<Node> parse_expression(std::string_view text, ParseError& error);

}  // namespace fw::rules
