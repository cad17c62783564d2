#include "rules/parser.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace fw::rules {
namespace {

// Recursive descent, one function per precedence level (lowest first):
//   or -> and -> not -> comparison (cmp op, in, not in, between) -> sum -> product -> unary ->
//   primary. Errors are reported by throwing a ParseError caught in parse_expression.
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  std::unique_ptr<Node> parse() {
    auto n = parse_or();
    if (peek().kind != Tok::kEnd) {
      fail(peek().offset, "unexpected " + describe(peek()) + " after a complete expression" +
                              " (missing 'and' / 'or'?)");
    }
    return n;
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    const size_t i = pos_ + ahead;
    return i < toks_.size() ? toks_[i] : toks_.back();
  }
  const Token& take() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool is_word(const Token& t, std::string_view w) const {
    return t.kind == Tok::kIdent && t.text == w;
  }
  [[noreturn]] static void fail(uint32_t offset, std::string message) {
    throw ParseError{offset, std::move(message)};
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::kIdent:
        return "'" + t.text + "'";
      case Tok::kNumber:
      case Tok::kDuration:
        return "'" + t.text + "'";
      case Tok::kString:
        return "string \"" + t.text + "\"";
      default:
        return std::string(token_name(t.kind));
    }
  }
  void expect(Tok kind, std::string_view context) {
    if (peek().kind != kind) {
      fail(peek().offset, "expected " + std::string(token_name(kind)) + " " + std::string(context) +
                              ", found " + describe(peek()));
    }
    take();
  }

  struct Depth {
    explicit Depth(Parser& p, uint32_t offset) : p_(p) {
      if (++p_.depth_ > kMaxNesting) {
        fail(offset, "expression is nested too deeply (more than " + std::to_string(kMaxNesting) +
                         " levels)");
      }
    }
    ~Depth() { --p_.depth_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
    Parser& p_;
  };

  static std::unique_ptr<Node> make(NodeKind kind, uint32_t offset) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->offset = offset;
    return n;
  }

  // Sets n's height from its children; rejects trees taller than kMaxHeight.
  static std::unique_ptr<Node> sealed(std::unique_ptr<Node> n) {
    uint16_t h = 0;
    for (const auto& k : n->kids) h = std::max(h, k->height);
    n->height = static_cast<uint16_t>(h + 1);
    if (n->height > kMaxHeight) {
      fail(n->offset, "expression is too long a chain of operators (more than " +
                          std::to_string(kMaxHeight) + "); split the rule");
    }
    return n;
  }

  std::unique_ptr<Node> binary(std::string word, Tok op, std::unique_ptr<Node> l,
                               std::unique_ptr<Node> r, uint32_t offset) {
    auto n = make(NodeKind::kBinary, offset);
    n->text = std::move(word);
    n->op = op;
    n->kids.push_back(std::move(l));
    n->kids.push_back(std::move(r));
    return sealed(std::move(n));
  }

  std::unique_ptr<Node> parse_or() {
    Depth d(*this, peek().offset);
    auto left = parse_and();
    while (is_word(peek(), "or")) {
      const uint32_t at = take().offset;
      left = binary("or", Tok::kEnd, std::move(left), parse_and(), at);
    }
    return left;
  }

  std::unique_ptr<Node> parse_and() {
    auto left = parse_not();
    while (is_word(peek(), "and")) {
      const uint32_t at = take().offset;
      left = binary("and", Tok::kEnd, std::move(left), parse_not(), at);
    }
    return left;
  }

  std::unique_ptr<Node> parse_not() {
    Depth d(*this, peek().offset);
    if (is_word(peek(), "not")) {
      const uint32_t at = take().offset;
      auto n = make(NodeKind::kUnary, at);
      n->text = "not";
      n->kids.push_back(parse_not());
      return sealed(std::move(n));
    }
    return parse_comparison();
  }

  std::unique_ptr<Node> parse_comparison() {
    auto left = parse_sum();
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kEq:
      case Tok::kNe:
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kGt:
      case Tok::kGe: {
        const Tok op = take().kind;
        auto right = parse_sum();
        const uint32_t at = left->offset;
        auto n = binary("", op, std::move(left), std::move(right), at);
        if (peek().kind >= Tok::kEq && peek().kind <= Tok::kGe) {
          fail(peek().offset, "comparisons do not chain; write 'a < b and b < c'");
        }
        return n;
      }
      default:
        break;
    }
    bool negate = false;
    if (is_word(t, "not") && (is_word(peek(1), "in") || is_word(peek(1), "between"))) {
      take();
      negate = true;
    }
    if (is_word(peek(), "in")) {
      take();
      auto n = make(NodeKind::kIn, left->offset);
      n->negate = negate;
      n->kids.push_back(std::move(left));
      if (peek().kind == Tok::kLBracket) {
        n->kids.push_back(parse_primary());
      } else if (is_word(peek(), "list") && peek(1).kind == Tok::kLParen) {
        n->kids.push_back(parse_primary());
      } else {
        fail(peek().offset, "expected a list after 'in': [\"a\", \"b\"] or list(\"name\"), found " +
                                describe(peek()));
      }
      return sealed(std::move(n));
    }
    if (is_word(peek(), "between")) {
      take();
      auto n = make(NodeKind::kBetween, left->offset);
      n->negate = negate;
      n->kids.push_back(std::move(left));
      n->kids.push_back(parse_sum());
      if (!is_word(peek(), "and")) {
        fail(peek().offset,
             "expected 'and' in 'x between low and high', found " + describe(peek()));
      }
      take();
      n->kids.push_back(parse_sum());
      return sealed(std::move(n));
    }
    return left;
  }

  std::unique_ptr<Node> parse_sum() {
    auto left = parse_product();
    while (peek().kind == Tok::kPlus || peek().kind == Tok::kMinus) {
      const Token& t = take();
      const Tok op = t.kind;
      const uint32_t at = t.offset;
      left = binary("", op, std::move(left), parse_product(), at);
    }
    return left;
  }

  std::unique_ptr<Node> parse_product() {
    auto left = parse_unary();
    while (peek().kind == Tok::kStar || peek().kind == Tok::kSlash) {
      const Token& t = take();
      const Tok op = t.kind;
      const uint32_t at = t.offset;
      left = binary("", op, std::move(left), parse_unary(), at);
    }
    return left;
  }

  std::unique_ptr<Node> parse_unary() {
    Depth d(*this, peek().offset);
    if (peek().kind == Tok::kMinus) {
      const uint32_t at = take().offset;
      auto n = make(NodeKind::kUnary, at);
      n->op = Tok::kMinus;
      n->kids.push_back(parse_unary());
      return sealed(std::move(n));
    }
    return parse_primary();
  }

  std::unique_ptr<Node> parse_primary() {
    Depth d(*this, peek().offset);
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kNumber: {
        const Token num = take();
        // "100 EUR": a number followed by a three-letter upper-case code is money.
        const Token& cur = peek();
        if (cur.kind == Tok::kIdent && cur.text.size() == 3 &&
            std::isupper(static_cast<unsigned char>(cur.text[0])) &&
            std::isupper(static_cast<unsigned char>(cur.text[1])) &&
            std::isupper(static_cast<unsigned char>(cur.text[2]))) {
          auto n = make(NodeKind::kMoney, num.offset);
          n->text = num.text;
          n->currency = take().text;
          n->number = num.number;
          return n;
        }
        auto n = make(NodeKind::kNumber, num.offset);
        n->number = num.number;
        n->text = num.text;
        return n;
      }
      case Tok::kDuration: {
        auto n = make(NodeKind::kDuration, t.offset);
        n->number = t.number;
        n->text = t.text;
        take();
        return n;
      }
      case Tok::kString: {
        auto n = make(NodeKind::kString, t.offset);
        n->text = t.text;
        take();
        return n;
      }
      case Tok::kLParen: {
        take();
        auto n = parse_or();
        expect(Tok::kRParen, "to close '('");
        return n;
      }
      case Tok::kLBracket: {
        auto n = make(NodeKind::kList, take().offset);
        if (peek().kind != Tok::kRBracket) {
          while (true) {
            n->kids.push_back(parse_unary());
            if (peek().kind != Tok::kComma) break;
            take();
          }
        }
        expect(Tok::kRBracket, "to close the list");
        return sealed(std::move(n));
      }
      case Tok::kIdent: {
        if (t.text == "true" || t.text == "false") {
          auto n = make(NodeKind::kBool, t.offset);
          n->number = t.text == "true" ? 1 : 0;
          take();
          return n;
        }
        if (t.text == "and" || t.text == "or" || t.text == "not" || t.text == "in" ||
            t.text == "between") {
          fail(t.offset, "expected a value, found the keyword '" + t.text + "'");
        }
        const Token name = take();
        if (peek().kind == Tok::kLParen) {
          take();
          auto n = make(NodeKind::kCall, name.offset);
          n->text = name.text;
          if (peek().kind != Tok::kRParen) {
            while (true) {
              n->kids.push_back(parse_or());
              if (peek().kind != Tok::kComma) break;
              take();
            }
          }
          expect(Tok::kRParen, "to close the arguments of " + name.text + "()");
          return sealed(std::move(n));
        }
        auto n = make(NodeKind::kName, name.offset);
        n->text = name.text;
        return n;
      }
      default:
        fail(t.offset, "expected a value, found " + describe(t));
    }
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::unique_ptr<Node> parse_expression(std::string_view text, ParseError& error) {
  std::vector<Token> tokens;
  LexError lex_error;
  if (!lex(text, tokens, lex_error)) {
    error = {lex_error.offset, std::move(lex_error.message)};
    return nullptr;
  }
  if (tokens.size() == 1) {
    error = {0, "the expression is empty"};
    return nullptr;
  }
  try {
    return Parser(std::move(tokens)).parse();
  } catch (const ParseError& e) {
    error = e;
    return nullptr;
  }
}

}  // namespace fw::rules
