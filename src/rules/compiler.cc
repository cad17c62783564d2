#include "rules/compiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

#include "core/hash.h"
#include "core/money.h"
#include "rules/parser.h"

namespace fw::rules {
namespace {

using Kind = NameRef::Kind;

struct NameDef {
  std::string_view name;
  Kind kind;
  uint16_t id;
  Type type;
};

template <typename E>
constexpr uint16_t id_of(E e) {
  return static_cast<uint16_t>(e);
}

// Transaction fields. They shadow the features of the same name (amount, type, channel, mcc,
// card_present), which carry the same information in a less exact form.
constexpr std::array<NameDef, 16> kTxFields = {{
    {"amount", Kind::kMoney, 0, Type::kMoney},
    {"currency", Kind::kCode, id_of(TxCode::kCurrency), Type::kString},
    {"country", Kind::kCode, id_of(TxCode::kCountry), Type::kString},
    {"type", Kind::kCode, id_of(TxCode::kType), Type::kString},
    {"channel", Kind::kCode, id_of(TxCode::kChannel), Type::kString},
    {"merchant_id", Kind::kString, id_of(TxString::kMerchantId), Type::kString},
    {"terminal_id", Kind::kString, id_of(TxString::kTerminalId), Type::kString},
    {"device_id", Kind::kString, id_of(TxString::kDeviceId), Type::kString},
    {"counterparty", Kind::kString, id_of(TxString::kCounterparty), Type::kString},
    {"account_id", Kind::kString, id_of(TxString::kAccountId), Type::kString},
    {"ip", Kind::kString, id_of(TxString::kIp), Type::kString},
    {"mcc", Kind::kNumber, id_of(TxNumber::kMcc), Type::kNumber},
    {"card_present", Kind::kNumber, id_of(TxNumber::kCardPresent), Type::kBool},
    {"has_location", Kind::kNumber, id_of(TxNumber::kHasLocation), Type::kBool},
    {"lat", Kind::kNumber, id_of(TxNumber::kLat), Type::kNumber},
    {"lon", Kind::kNumber, id_of(TxNumber::kLon), Type::kNumber},
}};

constexpr std::array<std::string_view, 11> kBoolFeatures = {
    "has_prev",        "has_prev_location",        "new_device",       "new_country",
    "new_merchant",    "country_changed_1h",       "is_international", "is_high_risk_mcc",
    "is_round_amount", "near_reporting_threshold", "card_present"};

constexpr std::array<std::string_view, 3> kDurationFeatures = {
    "seconds_since_prev", "seconds_since_prev_located", "seconds_since_other_country"};

constexpr std::array<std::string_view, 10> kFunctions = {
    "abs", "min", "max", "log", "hour", "weekday", "distance", "starts_with", "major", "list"};

std::optional<NameDef> resolve(std::string_view name) {
  for (const NameDef& d : kTxFields) {
    if (d.name == name) return d;
  }
  if (auto f = find_feature(name)) {
    Type t = Type::kNumber;
    if (std::find(kBoolFeatures.begin(), kBoolFeatures.end(), name) != kBoolFeatures.end()) {
      t = Type::kBool;
    }
    if (std::find(kDurationFeatures.begin(), kDurationFeatures.end(), name) !=
        kDurationFeatures.end()) {
      t = Type::kDuration;
    }
    return NameDef{feature_name(*f), Kind::kFeature, id_of(*f), t};
  }
  // The engine's scores, read like features from their slots after them (features/schema.h).
  if (name == "model_score")
    return NameDef{"model_score", Kind::kFeature, id_of(ScoreSlot::kModelScore), Type::kNumber};
  if (name == "anomaly_score")
    return NameDef{"anomaly_score", Kind::kFeature, id_of(ScoreSlot::kAnomalyScore), Type::kNumber};
  return std::nullopt;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best = closest(word, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

std::vector<std::string> names_of_codes(TxCode code) {
  std::vector<std::string> out;
  if (code == TxCode::kType) {
    for (int i = 0; i < kTxTypeCount; ++i) out.emplace_back(to_string(static_cast<TxType>(i)));
  } else if (code == TxCode::kChannel) {
    for (int i = 0; i < kChannelCount; ++i) out.emplace_back(to_string(static_cast<Channel>(i)));
  }
  return out;
}

// The integer code of a constant for an enumerated field, or an error message.
std::optional<double> code_of(TxCode field, std::string_view text, std::string& why) {
  switch (field) {
    case TxCode::kType:
      if (auto t = parse_tx_type(text)) return static_cast<double>(*t);
      why = "unknown transaction type '" + std::string(text) + "'" +
            suggestion(text, names_of_codes(field));
      if (why.find("did you") == std::string::npos) {
        why += " (one of: card_purchase, transfer, withdrawal, deposit, bill_payment)";
      }
      return std::nullopt;
    case TxCode::kChannel:
      if (auto c = parse_channel(text)) return static_cast<double>(*c);
      why = "unknown channel '" + std::string(text) + "'" + suggestion(text, names_of_codes(field));
      if (why.find("did you") == std::string::npos) {
        why += " (one of: pos, ecommerce, mobile_app, atm, branch, online_banking)";
      }
      return std::nullopt;
    case TxCode::kCurrency: {
      auto c = Currency::parse(text);
      if (c.ok()) return static_cast<double>(c->packed());
      why = "'" + std::string(text) + "' is not a known ISO 4217 currency code (e.g. \"EUR\")";
      return std::nullopt;
    }
    case TxCode::kCountry:
      if (auto c = Country::parse(text)) return static_cast<double>(c->packed);
      why = "'" + std::string(text) + "' is not a country code: two upper-case letters (\"DE\")";
      return std::nullopt;
  }
  return std::nullopt;
}

Cmp cmp_of(Tok t) {
  switch (t) {
    case Tok::kEq:
      return Cmp::kEq;
    case Tok::kNe:
      return Cmp::kNe;
    case Tok::kLt:
      return Cmp::kLt;
    case Tok::kLe:
      return Cmp::kLe;
    case Tok::kGt:
      return Cmp::kGt;
    default:
      return Cmp::kGe;
  }
}

// a <cmp> b  ==  b <flipped> a
Cmp flipped(Cmp c) {
  switch (c) {
    case Cmp::kLt:
      return Cmp::kGt;
    case Cmp::kLe:
      return Cmp::kGe;
    case Cmp::kGt:
      return Cmp::kLt;
    case Cmp::kGe:
      return Cmp::kLe;
    default:
      return c;
  }
}

bool is_comparison(Tok t) { return t >= Tok::kEq && t <= Tok::kGe; }

Instr instr(Op op, Cmp cmp = Cmp::kEq, uint16_t a = 0, uint32_t b = 0, double k = 0) {
  Instr in;
  in.op = op;
  in.cmp = cmp;
  in.a = static_cast<uint8_t>(a);
  in.b = b;
  in.k = k;
  return in;
}

// Instructions that can end the expression themselves when their result is false.
bool guardable(Op op) {
  switch (op) {
    case Op::kFeatureCmpConst:
    case Op::kTxCodeCmpConst:
    case Op::kMoneyCmp:
    case Op::kMoneyAny:
    case Op::kStrEq:
    case Op::kStrPrefix:
    case Op::kStrIn:
    case Op::kNumIn:
    case Op::kCmp:
    case Op::kCmpEq:
    case Op::kCmpNe:
    case Op::kCmpLt:
    case Op::kCmpLe:
    case Op::kCmpGt:
    case Op::kCmpGe:
      return true;
    default:
      return false;
  }
}

class Compiler {
 public:
  Compiler(const std::vector<NamedList>& lists, Program& program) : lists_(lists), prog_(program) {}

  void compile(const Node& root, CompiledExpr& out) {
    const Type t = check(root);
    if (t != Type::kBool) {
      fail(root.offset, "a rule's expression must be true or false, but this is a " +
                            std::string(type_name(t)) + " (compare it: ... > 3)");
    }
    out.start = static_cast<uint32_t>(prog_.code.size());
    // The top-level 'and' chain becomes guards: each conjunct ends the expression as soon as
    // it is false, so a rule whose first condition fails costs one instruction.
    std::vector<const Node*> conjuncts;
    flatten_and(root, conjuncts);
    for (const Node* c : conjuncts) {
      if (c->kind == NodeKind::kBetween && !c->negate) {
        Node ge, le;
        ge.kind = le.kind = NodeKind::kBinary;
        ge.op = Tok::kGe;
        le.op = Tok::kLe;
        size_t before = prog_.code.size();
        emit_comparison(ge, *c->kids[0], *c->kids[1]);
        guard_since(before);
        before = prog_.code.size();
        emit_comparison(le, *c->kids[0], *c->kids[2]);
        guard_since(before);
        continue;
      }
      const size_t before = prog_.code.size();
      if (c->kind == NodeKind::kName) {
        // A bare true/false feature as a condition: one fused "!= 0" guard.
        const NameDef d = name_def(*c);
        if (d.kind == Kind::kFeature) {
          note_name(d);
          push_instr(instr(Op::kFeatureCmpConst, Cmp::kNe, d.id, 0, 0), 1);
          guard_since(before);
          continue;
        }
      }
      emit(*c);
      guard_since(before);
    }
    push_instr(instr(Op::kRetTrue));
    out.names = std::move(names_);
  }

  static void flatten_and(const Node& n, std::vector<const Node*>& out) {
    if (n.kind == NodeKind::kBinary && n.text == "and") {
      flatten_and(*n.kids[0], out);
      flatten_and(*n.kids[1], out);
      return;
    }
    out.push_back(&n);
  }

  // Turns the true/false value the code from `before` on leaves into a guard: the last
  // instruction guards itself when it can and nothing jumps past it; else a kGuard follows.
  void guard_since(size_t before) {
    bool jumps = false;
    for (size_t i = before; i < prog_.code.size(); ++i) {
      jumps = jumps || prog_.code[i].op == Op::kAndJump || prog_.code[i].op == Op::kOrJump;
    }
    Instr& last = prog_.code.back();
    if (!jumps && guardable(last.op)) {
      last.flags |= kGuardFlag;
      --depth_;
      return;
    }
    push_instr(instr(Op::kGuard), -1);
  }

  // `amount <cmp> X CUR or amount <cmp> Y CUR2 or ...` with one operator: the money
  // comparisons of the chain, or false when the chain has anything else.
  bool money_or_chain(const Node& n, std::optional<Cmp>& cmp, std::vector<MoneyConst>& out) {
    if (n.kind == NodeKind::kBinary && n.text == "or") {
      return money_or_chain(*n.kids[0], cmp, out) && money_or_chain(*n.kids[1], cmp, out);
    }
    if (n.kind != NodeKind::kBinary || !is_comparison(n.op)) return false;
    const Node& l = *n.kids[0];
    const Node& r = *n.kids[1];
    Cmp c = cmp_of(n.op);
    const Node* lit = nullptr;
    if (is_amount(l) && r.kind == NodeKind::kMoney) lit = &r;
    if (is_amount(r) && l.kind == NodeKind::kMoney) {
      lit = &l;
      c = flipped(c);
    }
    if (lit == nullptr || (cmp && *cmp != c)) return false;
    cmp = c;
    out.push_back(money_const(*lit));
    return true;
  }

  [[noreturn]] static void fail(uint32_t offset, std::string message) {
    throw CompileError{offset, std::move(message)};
  }

 private:
  // ---- type checking -------------------------------------------------------------------

  NameDef name_def(const Node& n) {
    auto d = resolve(n.text);
    if (!d) {
      if (std::find(kFunctions.begin(), kFunctions.end(), n.text) != kFunctions.end()) {
        fail(n.offset, "'" + n.text + "' is a function; call it: " + n.text + "(...)");
      }
      fail(n.offset, "unknown name '" + n.text + "'" + suggestion(n.text, known_names()));
    }
    return *d;
  }

  const NamedList& named_list(const Node& call) {
    if (call.kids.size() != 1 || call.kids[0]->kind != NodeKind::kString) {
      fail(call.offset, "list() takes one list name in quotes: list(\"high_risk_merchants\")");
    }
    const std::string& name = call.kids[0]->text;
    for (const NamedList& l : lists_) {
      if (l.name == name) return l;
    }
    std::vector<std::string> names;
    for (const NamedList& l : lists_) names.push_back(l.name);
    if (names.empty()) {
      fail(call.kids[0]->offset,
           "unknown list '" + name + "': this rule set defines no lists (add them under 'lists:')");
    }
    fail(call.kids[0]->offset, "unknown list '" + name + "'" + suggestion(name, names));
  }

  static std::optional<double> constant(const Node& n) {
    if (n.kind == NodeKind::kNumber || n.kind == NodeKind::kDuration || n.kind == NodeKind::kBool) {
      return n.number;
    }
    if (n.kind == NodeKind::kUnary && n.op == Tok::kMinus) {
      if (auto v = constant(*n.kids[0])) return -*v;
    }
    return std::nullopt;
  }

  MoneyConst money_const(const Node& n) {
    auto cur = Currency::parse(n.currency);
    if (!cur.ok()) {
      fail(n.offset, "'" + n.currency + "' in '" + n.text + " " + n.currency +
                         "' is not a known ISO 4217 currency code");
    }
    auto minor = parse_decimal_amount(n.text, *cur);
    if (!minor.ok()) {
      fail(n.offset, "money '" + n.text + " " + n.currency + "': " + minor.error().reason);
    }
    return MoneyConst{cur->packed(), *minor};
  }

  bool is_amount(const Node& n) const { return n.kind == NodeKind::kName && n.text == "amount"; }

  Type check(const Node& n) {
    switch (n.kind) {
      case NodeKind::kNumber:
        return Type::kNumber;
      case NodeKind::kDuration:
        return Type::kDuration;
      case NodeKind::kMoney:
        money_const(n);
        return Type::kMoney;
      case NodeKind::kString:
        return Type::kString;
      case NodeKind::kBool:
        return Type::kBool;
      case NodeKind::kName:
        return name_def(n).type;
      case NodeKind::kList:
        fail(n.offset, "a list can only follow 'in': x in [1, 2]");
      case NodeKind::kCall:
        return check_call(n);
      case NodeKind::kUnary: {
        const Type t = check(*n.kids[0]);
        if (n.text == "not") {
          if (t != Type::kBool) {
            fail(n.kids[0]->offset,
                 "'not' needs true or false, got a " + std::string(type_name(t)));
          }
          return Type::kBool;
        }
        if (t != Type::kNumber && t != Type::kDuration) {
          fail(n.offset, "'-' needs a number or a duration, got a " + std::string(type_name(t)));
        }
        return t;
      }
      case NodeKind::kBinary:
        return check_binary(n);
      case NodeKind::kIn:
        check_in(n);
        return Type::kBool;
      case NodeKind::kBetween:
        check_between(n);
        return Type::kBool;
    }
    fail(n.offset, "unsupported expression");
  }

  void expect_args(const Node& n, size_t count, std::string_view usage) {
    if (n.kids.size() != count) {
      fail(n.offset, fmt::format("{}() takes {} argument{}, got {}: {}", n.text, count,
                                 count == 1 ? "" : "s", n.kids.size(), usage));
    }
  }

  Type check_call(const Node& n) {
    const std::string& f = n.text;
    if (f == "abs" || f == "log") {
      expect_args(n, 1, f + "(x)");
      const Type t = check(*n.kids[0]);
      if (t != Type::kNumber && !(f == "abs" && t == Type::kDuration)) {
        fail(n.kids[0]->offset, f + "() needs a number, got a " + std::string(type_name(t)));
      }
      return t;
    }
    if (f == "min" || f == "max") {
      expect_args(n, 2, f + "(a, b)");
      const Type a = check(*n.kids[0]);
      const Type b = check(*n.kids[1]);
      if ((a != Type::kNumber && a != Type::kDuration) || a != b) {
        fail(n.offset, f + "() needs two numbers or two durations, got " +
                           std::string(type_name(a)) + " and " + std::string(type_name(b)));
      }
      return a;
    }
    if (f == "hour" || f == "weekday") {
      expect_args(n, 0, f + "() (of the transaction time, UTC)");
      return Type::kNumber;
    }
    if (f == "distance") {
      expect_args(n, 4, "distance(lat1, lon1, lat2, lon2) in km");
      for (const auto& k : n.kids) {
        const Type t = check(*k);
        if (t != Type::kNumber) {
          fail(k->offset, "distance() needs numbers (degrees), got a " + std::string(type_name(t)));
        }
      }
      return Type::kNumber;
    }
    if (f == "starts_with") {
      expect_args(n, 2, "starts_with(merchant_id, \"prefix\")");
      const Node& field = *n.kids[0];
      if (field.kind != NodeKind::kName || name_def(field).kind != Kind::kString) {
        fail(field.offset,
             "starts_with() needs a text field first (merchant_id, terminal_id, device_id, "
             "counterparty, account_id, ip)");
      }
      if (n.kids[1]->kind != NodeKind::kString) {
        fail(n.kids[1]->offset, "starts_with() needs a text constant second: \"prefix\"");
      }
      return Type::kBool;
    }
    if (f == "major") {
      expect_args(n, 1, "major(amount)");
      if (!is_amount(*n.kids[0])) {
        fail(n.kids[0]->offset, "major() takes only 'amount'");
      }
      return Type::kNumber;
    }
    if (f == "list") fail(n.offset, "list(\"name\") can only follow 'in': x in list(\"name\")");
    std::vector<std::string> fns(kFunctions.begin(), kFunctions.end());
    if (resolve(f)) fail(n.offset, "'" + f + "' is a field, not a function; drop the '(...)'");
    fail(n.offset, "unknown function '" + f + "'" + suggestion(f, fns));
  }

  Type check_binary(const Node& n) {
    const Node& l = *n.kids[0];
    const Node& r = *n.kids[1];
    if (n.text == "and" || n.text == "or") {
      for (const Node* k : {&l, &r}) {
        const Type t = check(*k);
        if (t != Type::kBool) {
          fail(k->offset, "'" + n.text + "' needs true or false on both sides, got a " +
                              std::string(type_name(t)));
        }
      }
      return Type::kBool;
    }
    const Type a = check(l);
    const Type b = check(r);
    const std::string both = std::string(type_name(a)) + " and " + std::string(type_name(b));
    if (is_comparison(n.op)) {
      const bool eq_op = n.op == Tok::kEq || n.op == Tok::kNe;
      if (a == Type::kString || b == Type::kString) {
        const Node* field = l.kind == NodeKind::kName ? &l : &r;
        const Node* text = l.kind == NodeKind::kName ? &r : &l;
        if (a != b || field->kind != NodeKind::kName || text->kind != NodeKind::kString) {
          if (a != b) fail(n.offset, "cannot compare " + both);
          fail(n.offset, "text compares a field with a constant: merchant_id == \"m-1\"");
        }
        if (!eq_op) fail(n.offset, "text supports only == and != (and starts_with(), in)");
        const NameDef d = name_def(*field);
        if (d.kind == Kind::kCode) {
          std::string why;
          if (!code_of(static_cast<TxCode>(d.id), text->text, why)) fail(text->offset, why);
        }
        return Type::kBool;
      }
      if (a == Type::kMoney || b == Type::kMoney) {
        const bool ok = (is_amount(l) && r.kind == NodeKind::kMoney) ||
                        (is_amount(r) && l.kind == NodeKind::kMoney);
        if (!ok) {
          if (a != b)
            fail(n.offset, "cannot compare " + both + " (money compares with money: 100 EUR)");
          fail(n.offset, "money compares 'amount' with a constant: amount > 100 EUR");
        }
        return Type::kBool;
      }
      if (a != b) {
        std::string hint;
        if ((a == Type::kDuration && b == Type::kNumber) ||
            (a == Type::kNumber && b == Type::kDuration)) {
          hint = " (give the number a unit: 30s, 5m, 24h, 90d)";
        }
        fail(n.offset, "cannot compare " + both + hint);
      }
      if (a == Type::kBool && !eq_op) fail(n.offset, "true/false support only == and !=");
      return Type::kBool;
    }
    // Arithmetic.
    const char* op = n.op == Tok::kPlus    ? "+"
                     : n.op == Tok::kMinus ? "-"
                     : n.op == Tok::kStar  ? "*"
                                           : "/";
    if (a == Type::kMoney || b == Type::kMoney) {
      fail(n.offset, std::string("'") + op +
                         "' does not apply to money; compare amount with a constant "
                         "(amount > 100 EUR) or use major(amount) for ratios");
    }
    if (a == Type::kNumber && b == Type::kNumber) return Type::kNumber;
    if (a == Type::kDuration && b == Type::kDuration) {
      if (n.op == Tok::kPlus || n.op == Tok::kMinus) return Type::kDuration;
      if (n.op == Tok::kSlash) return Type::kNumber;
    }
    if (n.op == Tok::kStar && ((a == Type::kDuration && b == Type::kNumber) ||
                               (a == Type::kNumber && b == Type::kDuration))) {
      return Type::kDuration;
    }
    if (n.op == Tok::kSlash && a == Type::kDuration && b == Type::kNumber) return Type::kDuration;
    fail(n.offset, std::string("'") + op + "' does not apply to " + both);
  }

  void check_in(const Node& n) {
    const Node& x = *n.kids[0];
    const Node& list = *n.kids[1];
    const Type t = check(x);
    if (t == Type::kString) {
      if (x.kind != NodeKind::kName) fail(x.offset, "'in' needs a field on its left");
    } else if (t != Type::kNumber) {
      fail(x.offset, "'in' works on text fields and numbers, got a " + std::string(type_name(t)));
    }
    if (list.kind == NodeKind::kCall) {
      named_list(list);
      return;
    }
    for (const auto& item : list.kids) {
      if (t == Type::kString && item->kind != NodeKind::kString) {
        fail(item->offset, "this list holds text (\"...\") because its left side is text");
      }
      if (t == Type::kNumber && !(item->kind == NodeKind::kNumber ||
                                  (item->kind == NodeKind::kUnary && constant(*item)))) {
        fail(item->offset, "this list holds numbers because its left side is a number");
      }
      if (t == Type::kString && x.kind == NodeKind::kName) {
        const NameDef d = name_def(x);
        std::string why;
        if (d.kind == Kind::kCode && !code_of(static_cast<TxCode>(d.id), item->text, why)) {
          fail(item->offset, why);
        }
      }
    }
  }

  void check_between(const Node& n) {
    const Node& x = *n.kids[0];
    const Type t = check(x);
    const Type lo = check(*n.kids[1]);
    const Type hi = check(*n.kids[2]);
    if (t == Type::kMoney) {
      if (!is_amount(x) || n.kids[1]->kind != NodeKind::kMoney ||
          n.kids[2]->kind != NodeKind::kMoney) {
        fail(n.offset,
             "money between needs amount and two constants: amount between 100 EUR "
             "and 200 EUR");
      }
      if (n.kids[1]->currency != n.kids[2]->currency) {
        fail(n.kids[2]->offset, "both bounds must be in one currency, got " + n.kids[1]->currency +
                                    " and " + n.kids[2]->currency);
      }
      return;
    }
    if ((t != Type::kNumber && t != Type::kDuration) || lo != t || hi != t) {
      fail(n.offset, "between needs three numbers or three durations, got " +
                         std::string(type_name(t)) + ", " + std::string(type_name(lo)) + " and " +
                         std::string(type_name(hi)));
    }
  }

  // ---- code generation -----------------------------------------------------------------

  void push_instr(Instr in, int stack_effect = 0) {
    prog_.code.push_back(in);
    depth_ += stack_effect;
    if (depth_ > kMaxStack) {
      fail(0, fmt::format("expression needs more than {} intermediate values; simplify it",
                          kMaxStack));
    }
  }

  void note_name(const NameDef& d) {
    if (names_.size() >= kMaxNamesShown) return;
    for (const NameRef& r : names_) {
      if (r.name == d.name) return;
    }
    names_.push_back(NameRef{d.kind, d.id, std::string(d.name)});
  }

  uint32_t add_string(const std::string& text) {
    prog_.strings.push_back(StringConst{hash_id(text), text});
    return static_cast<uint32_t>(prog_.strings.size() - 1);
  }

  void emit_name(const NameDef& d) {
    note_name(d);
    switch (d.kind) {
      case Kind::kFeature:
        push_instr(instr(Op::kFeature, Cmp::kEq, d.id), 1);
        return;
      case Kind::kNumber:
        push_instr(instr(Op::kTxNumber, Cmp::kEq, d.id), 1);
        return;
      case Kind::kCode:
        push_instr(instr(Op::kTxCode, Cmp::kEq, d.id), 1);
        return;
      default:
        fail(0, "internal: name '" + std::string(d.name) + "' has no numeric value");
    }
  }

  void emit(const Node& n) {
    switch (n.kind) {
      case NodeKind::kNumber:
      case NodeKind::kDuration:
      case NodeKind::kBool:
        push_instr(instr(Op::kConst, Cmp::kEq, 0, 0, n.number), 1);
        return;
      case NodeKind::kName:
        emit_name(name_def(n));
        return;
      case NodeKind::kCall:
        emit_call(n);
        return;
      case NodeKind::kUnary:
        if (auto v = constant(n)) {
          push_instr(instr(Op::kConst, Cmp::kEq, 0, 0, *v), 1);
          return;
        }
        emit(*n.kids[0]);
        push_instr(instr(n.text == "not" ? Op::kNot : Op::kNeg));
        return;
      case NodeKind::kBinary:
        emit_binary(n);
        return;
      case NodeKind::kIn:
        emit_in(n);
        return;
      case NodeKind::kBetween:
        emit_between(n);
        return;
      default:
        fail(n.offset, "internal: cannot compile this expression");
    }
  }

  void emit_call(const Node& n) {
    const std::string& f = n.text;
    if (f == "hour" || f == "weekday") {
      push_instr(instr(f == "hour" ? Op::kHour : Op::kWeekday), 1);
      return;
    }
    if (f == "major") {
      note_name(NameDef{"amount", Kind::kMoney, 0, Type::kMoney});
      push_instr(instr(Op::kAmountMajor), 1);
      return;
    }
    if (f == "starts_with") {
      const NameDef d = name_def(*n.kids[0]);
      note_name(d);
      push_instr(instr(Op::kStrPrefix, Cmp::kEq, d.id, add_string(n.kids[1]->text)), 1);
      return;
    }
    for (const auto& k : n.kids) emit(*k);
    if (f == "abs") push_instr(instr(Op::kAbs));
    if (f == "log") push_instr(instr(Op::kLog));
    if (f == "min") push_instr(instr(Op::kMin), -1);
    if (f == "max") push_instr(instr(Op::kMax), -1);
    if (f == "distance") push_instr(instr(Op::kDistance), -3);
  }

  void emit_binary(const Node& n) {
    const Node& l = *n.kids[0];
    const Node& r = *n.kids[1];
    if (n.text == "or") {
      std::optional<Cmp> cmp;
      std::vector<MoneyConst> set;
      if (money_or_chain(n, cmp, set) && set.size() > 1) {
        note_name(NameDef{"amount", Kind::kMoney, 0, Type::kMoney});
        prog_.money_sets.push_back(std::move(set));
        push_instr(
            instr(Op::kMoneyAny, *cmp, 0, static_cast<uint32_t>(prog_.money_sets.size() - 1)), 1);
        return;
      }
    }
    if (n.text == "and" || n.text == "or") {
      emit(l);
      const size_t jump = prog_.code.size();
      push_instr(instr(n.text == "and" ? Op::kAndJump : Op::kOrJump), -1);
      emit(r);
      prog_.code[jump].b = static_cast<uint32_t>(prog_.code.size());
      last_jump_target_ = prog_.code.size();
      has_jump_target_ = true;
      return;
    }
    if (is_comparison(n.op)) {
      emit_comparison(n, l, r);
      return;
    }
    const Op op = n.op == Tok::kPlus    ? Op::kAdd
                  : n.op == Tok::kMinus ? Op::kSub
                  : n.op == Tok::kStar  ? Op::kMul
                                        : Op::kDiv;
    // A constant operand folds into the operation (x - 1 is one kSubConst, not kConst + kSub);
    // a constant on the left only for + and *, whose results do not depend on the order.
    const bool commutes = op == Op::kAdd || op == Op::kMul;
    const size_t before_l = prog_.code.size();
    emit(l);
    if (commutes && single_const(before_l)) {
      const double k = prog_.code.back().k;
      pop_const();
      emit(r);
      push_instr(instr(const_form(op), Cmp::kEq, 0, 0, k), 0);
      return;
    }
    const size_t before_r = prog_.code.size();
    emit(r);
    if (single_const(before_r)) {
      const double k = prog_.code.back().k;
      pop_const();
      push_instr(instr(const_form(op), Cmp::kEq, 0, 0, k), -1);
      return;
    }
    push_instr(instr(op), -1);
  }

  // Whether the code emitted since `before` is one kConst that no jump lands on (jump targets
  // are set in increasing order, so the newest is the largest).
  bool single_const(size_t before) const {
    return prog_.code.size() == before + 1 && prog_.code.back().op == Op::kConst &&
           (!has_jump_target_ || last_jump_target_ != before);
  }
  void pop_const() {
    prog_.code.pop_back();
    depth_ -= 1;
  }
  static Op const_form(Op op) {
    switch (op) {
      case Op::kAdd:
        return Op::kAddConst;
      case Op::kSub:
        return Op::kSubConst;
      case Op::kMul:
        return Op::kMulConst;
      default:
        return Op::kDivConst;
    }
  }

  void emit_comparison(const Node& n, const Node& l, const Node& r) {
    Cmp cmp = cmp_of(n.op);
    // Money: amount <cmp> constant, exact in minor units.
    if (l.kind == NodeKind::kMoney || r.kind == NodeKind::kMoney) {
      const bool money_left = l.kind == NodeKind::kMoney;
      const MoneyConst m = money_const(money_left ? l : r);
      prog_.money.push_back(m);
      note_name(NameDef{"amount", Kind::kMoney, 0, Type::kMoney});
      push_instr(instr(Op::kMoneyCmp, money_left ? flipped(cmp) : cmp, 0,
                       static_cast<uint32_t>(prog_.money.size() - 1)),
                 1);
      return;
    }
    // Text: field == constant.
    if (l.kind == NodeKind::kString || r.kind == NodeKind::kString) {
      const Node& field = l.kind == NodeKind::kName ? l : r;
      const Node& text = l.kind == NodeKind::kName ? r : l;
      const NameDef d = name_def(field);
      note_name(d);
      if (d.kind == Kind::kCode) {
        std::string why;
        const double code = *code_of(static_cast<TxCode>(d.id), text.text, why);
        push_instr(instr(Op::kTxCodeCmpConst, cmp, d.id, 0, code), 1);
        return;
      }
      push_instr(instr(Op::kStrEq, cmp, d.id, add_string(text.text)), 1);
      return;
    }
    // A feature against a constant: one fused instruction.
    auto fused = [&](const Node& name, const Node& other, Cmp c) {
      if (name.kind != NodeKind::kName) return false;
      const auto d = resolve(name.text);
      const auto v = constant(other);
      if (!d || d->kind != Kind::kFeature || !v) return false;
      note_name(*d);
      push_instr(instr(Op::kFeatureCmpConst, c, d->id, 0, *v), 1);
      return true;
    };
    if (fused(l, r, cmp) || fused(r, l, flipped(cmp))) return;
    emit(l);
    emit(r);
    // One opcode per operator, so running it needs no switch on the operator.
    static_assert(static_cast<int>(Op::kCmpGe) - static_cast<int>(Op::kCmpEq) ==
                      static_cast<int>(Cmp::kGe) - static_cast<int>(Cmp::kEq),
                  "kCmpEq..kCmpGe follow Cmp's order");
    const auto op = static_cast<Op>(static_cast<int>(Op::kCmpEq) + static_cast<int>(cmp));
    push_instr(instr(op, cmp), -1);
  }

  void emit_in(const Node& n) {
    const Node& x = *n.kids[0];
    const Node& list = *n.kids[1];
    std::vector<std::string> texts;
    std::vector<double> numbers;
    const bool named = list.kind == NodeKind::kCall;
    const NamedList* nl = named ? &named_list(list) : nullptr;
    const uint32_t list_offset = named ? list.kids[0]->offset : list.offset;
    if (named) {
      texts = nl->values;
    } else {
      for (const auto& item : list.kids) {
        if (item->kind == NodeKind::kString) {
          texts.push_back(item->text);
        } else {
          numbers.push_back(*constant(*item));
        }
      }
    }
    std::optional<NameDef> d;
    if (x.kind == NodeKind::kName) d = name_def(x);
    if (d && d->kind == Kind::kString) {
      note_name(*d);
      StringSet set;
      std::vector<uint64_t> keys;
      keys.reserve(texts.size());
      for (const std::string& t : texts) {
        keys.push_back(hash_id(t));
        set.values.insert(t);
      }
      set.hashes.build(keys);
      prog_.str_sets.push_back(std::move(set));
      push_instr(
          instr(Op::kStrIn, Cmp::kEq, d->id, static_cast<uint32_t>(prog_.str_sets.size() - 1)), 1);
    } else {
      if (d && d->kind == Kind::kCode) {
        numbers.clear();
        for (const std::string& t : texts) {
          std::string why;
          auto code = code_of(static_cast<TxCode>(d->id), t, why);
          if (!code) fail(list_offset, (named ? "list '" + nl->name + "': " : "") + why);
          numbers.push_back(*code);
        }
      } else if (named) {
        for (const std::string& t : texts) {
          double v = 0;
          auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
          if (ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v)) {
            fail(list_offset, "list '" + nl->name + "' holds '" + t +
                                  "', which is not a number, but the left side is a number");
          }
          numbers.push_back(v);
        }
      }
      emit(x);
      std::sort(numbers.begin(), numbers.end());
      prog_.num_sets.push_back(std::move(numbers));
      push_instr(instr(Op::kNumIn, Cmp::kEq, 0, static_cast<uint32_t>(prog_.num_sets.size() - 1)));
    }
    if (n.negate) push_instr(instr(Op::kNot));
  }

  void emit_between(const Node& n) {
    const Node& x = *n.kids[0];
    // x >= lo and x <= hi, reusing the comparison code (and its fusion).
    Node ge, le;
    ge.kind = le.kind = NodeKind::kBinary;
    ge.op = Tok::kGe;
    le.op = Tok::kLe;
    emit_comparison(ge, x, *n.kids[1]);
    const size_t jump = prog_.code.size();
    push_instr(instr(Op::kAndJump), -1);
    emit_comparison(le, x, *n.kids[2]);
    prog_.code[jump].b = static_cast<uint32_t>(prog_.code.size());
    last_jump_target_ = prog_.code.size();
    has_jump_target_ = true;
    if (n.negate) push_instr(instr(Op::kNot));
  }

  const std::vector<NamedList>& lists_;
  Program& prog_;
  int depth_ = 0;
  size_t last_jump_target_ = 0;  // the newest jump's target (see single_const)
  bool has_jump_target_ = false;
  std::vector<NameRef> names_;
};

std::string format_number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return fmt::format("{}", static_cast<int64_t>(v));
  }
  return fmt::format("{:.4g}", v);
}

}  // namespace

std::string_view type_name(Type t) {
  switch (t) {
    case Type::kNumber:
      return "number";
    case Type::kBool:
      return "true/false";
    case Type::kString:
      return "text";
    case Type::kDuration:
      return "duration";
    case Type::kMoney:
      return "money";
    case Type::kList:
      return "list";
  }
  return "value";
}

std::vector<std::string> known_names() {
  std::vector<std::string> out;
  for (const NameDef& d : kTxFields) out.emplace_back(d.name);
  for (size_t i = 0; i < kFeatureCount; ++i) {
    std::string_view name = feature_name(static_cast<FeatureId>(i));
    if (!resolve(name) || resolve(name)->kind == Kind::kFeature) out.emplace_back(name);
  }
  out.emplace_back("model_score");
  out.emplace_back("anomaly_score");
  return out;
}

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit && best_d < word.size() ? best : "";
}

bool compile_expression(std::string_view text, const std::vector<NamedList>& lists,
                        Program& program, CompiledExpr& out, CompileError& error) {
  ParseError perr;
  std::unique_ptr<Node> root = parse_expression(text, perr);
  if (!root) {
    error = {perr.offset, std::move(perr.message)};
    return false;
  }
  // Roll back on error so a failed expression leaves nothing behind.
  const size_t code = program.code.size(), money = program.money.size(),
               money_sets = program.money_sets.size(), strings = program.strings.size(),
               str_sets = program.str_sets.size(), num_sets = program.num_sets.size();
  try {
    Compiler(lists, program).compile(*root, out);
    return true;
  } catch (const CompileError& e) {
    program.code.resize(code);
    program.money.resize(money);
    program.money_sets.resize(money_sets);
    program.strings.resize(strings);
    program.str_sets.resize(str_sets);
    program.num_sets.resize(num_sets);
    error = e;
    return false;
  }
}

std::string describe_values(const CompiledExpr& expr, const Transaction& tx,
                            const FeatureVector& f) {
  std::string out;
  for (const NameRef& r : expr.names) {
    if (!out.empty()) out += ", ";
    out += r.name;
    out += '=';
    switch (r.kind) {
      case Kind::kFeature:
        out += format_number(f.values[r.id]);
        break;
      case Kind::kNumber:
        out += format_number(Program::tx_number(tx, static_cast<TxNumber>(r.id)));
        break;
      case Kind::kCode:
        switch (static_cast<TxCode>(r.id)) {
          case TxCode::kType:
            out += to_string(tx.type);
            break;
          case TxCode::kChannel:
            out += to_string(tx.channel);
            break;
          case TxCode::kCurrency:
            out += tx.amount.currency.valid() ? tx.amount.currency.code() : "?";
            break;
          case TxCode::kCountry:
            out += tx.country.known() ? tx.country.code() : "?";
            break;
        }
        break;
      case Kind::kString:
        out += '"';
        out += Program::string_field(tx, static_cast<TxString>(r.id));
        out += '"';
        break;
      case Kind::kMoney:
        if (tx.amount.currency.valid()) {
          out += format_decimal_amount(tx.amount.minor, tx.amount.currency);
          out += ' ';
          out += tx.amount.currency.code();
        } else {
          out += '?';
        }
        break;
    }
  }
  return out;
}

}  // namespace fw::rules
