#include "rules/program.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

#include "core/hash.h"
#include "features/geo.h"

namespace fw::rules {
namespace {

// One comparison for doubles (features, money in major units) and int64 (codes, minor units).
template <typename T>
inline bool compare(Cmp c, T a, T b) {
  switch (c) {
    case Cmp::kEq:
      return a == b;
    case Cmp::kNe:
      return a != b;
    case Cmp::kLt:
      return a < b;
    case Cmp::kLe:
      return a <= b;
    case Cmp::kGt:
      return a > b;
    case Cmp::kGe:
      return a >= b;
  }
  return false;
}

// The precomputed key when the transaction has one, else the hash of the text.
uint64_t string_key(const Transaction& tx, TxString field, std::string_view text) {
  uint64_t key = 0;
  switch (field) {
    case TxString::kMerchantId:
      key = tx.merchant_key;
      break;
    case TxString::kTerminalId:
      key = tx.terminal_key;
      break;
    case TxString::kDeviceId:
      key = tx.device_key;
      break;
    case TxString::kAccountId:
      key = tx.account_key;
      break;
    default:
      break;
  }
  return key != 0 ? key : hash_id(text);
}

constexpr int64_t kMicrosPerHour = 3'600'000'000LL;

#define FW_INLINE inline __attribute__((always_inline))

FW_INLINE std::string_view field_text(const Transaction& tx, TxString field) {
  switch (field) {
    case TxString::kMerchantId:
      return tx.merchant_id;
    case TxString::kTerminalId:
      return tx.terminal_id;
    case TxString::kDeviceId:
      return tx.device_id;
    case TxString::kCounterparty:
      return tx.counterparty;
    case TxString::kAccountId:
      return tx.account_id;
    case TxString::kIp:
      return tx.ip;
  }
  return {};
}

FW_INLINE double number_of(const Transaction& tx, TxNumber field) {
  switch (field) {
    case TxNumber::kMcc:
      return tx.mcc;
    case TxNumber::kCardPresent:
      return tx.card_present ? 1 : 0;
    case TxNumber::kHasLocation:
      return tx.has_location ? 1 : 0;
    case TxNumber::kLat:
      return tx.lat;
    case TxNumber::kLon:
      return tx.lon;
    case TxNumber::kAmountMajor:
      return tx.amount.currency.valid() ? tx.amount.major_approx() : 0;
  }
  return 0;
}

FW_INLINE double code_of(const Transaction& tx, TxCode field) {
  switch (field) {
    case TxCode::kType:
      return static_cast<double>(tx.type);
    case TxCode::kChannel:
      return static_cast<double>(tx.channel);
    case TxCode::kCurrency:
      return tx.amount.currency.packed();
    case TxCode::kCountry:
      return tx.country.packed;
  }
  return 0;
}

// major(amount), which costs a currency-exponent lookup: computed on first use and kept in
// `major` (NaN until then) for the other rules of the same transaction.
FW_INLINE double amount_major(const Transaction& tx, double& major) {
  if (std::isnan(major)) major = number_of(tx, TxNumber::kAmountMajor);
  return major;
}

// Dispatch. With GCC and Clang the interpreter is direct-threaded: every handler ends in its
// own indirect jump through a table of label addresses (computed goto), which costs a third
// of the switch loop's bounds check, table load and shared jump, and gives the branch
// predictor one jump per opcode. Other compilers get the plain switch loop; both run the same
// handler bodies below.
#if defined(__GNUC__)
#define FW_THREADED 1
#define FW_OP(name) L_##name
#define FW_NEXT                                 \
  do {                                          \
    in = ip++;                                  \
    goto* kTable[static_cast<uint8_t>(in->op)]; \
  } while (0)
#else
#define FW_THREADED 0
#define FW_OP(name) case Op::name
#define FW_NEXT break
#endif

// A true/false result: pushed, or, for a guard, ends the expression when false.
#define FW_RESULT(expr)           \
  do {                            \
    const bool v_ = (expr);       \
    if (in->flags & kGuardFlag) { \
      if (!v_) FW_RETURN(false);  \
    } else {                      \
      (++sp)[0] = v_ ? 1 : 0;     \
    }                             \
  } while (0)

// The end of one rule's expression: note it when true, then run the next rule or return.
#define FW_RETURN(value)                                  \
  do {                                                    \
    if (value) fired[count++] = static_cast<uint32_t>(i); \
    if (++i == n) return count;                           \
    goto next_rule;                                       \
  } while (0)

// GCC's cross-jumping would merge the handlers' identical dispatch tails into one shared copy,
// adding a jump per instruction executed (about 20 per transaction of the 50-rule benchmark,
// BENCHMARKS.md "Rules"); keep them apart. GCC only: the attribute is its own.
#if defined(__GNUC__) && !defined(__clang__)
#define FW_NO_CROSSJUMPING __attribute__((optimize("no-crossjumping")))
#else
#define FW_NO_CROSSJUMPING
#endif

// Runs the expressions starting at starts[0..n) (see Program::run_many). One function for
// all rules of a transaction, so the label table is static and major(amount) is computed once.
FW_NO_CROSSJUMPING size_t exec_many(const Program& p, const uint32_t* starts, size_t n,
                                    const Transaction& tx, const FeatureVector& f,
                                    uint32_t* fired) {
  if (n == 0) return 0;
  const Instr* const code = p.code.data();
  double major = std::numeric_limits<double>::quiet_NaN();
  double st[kMaxStack + 1];
  double* sp = st;  // the top; st[0] is never used, the first push writes st[1]
  const Instr* ip = nullptr;
  const Instr* in = nullptr;
  size_t i = 0;
  size_t count = 0;
#if FW_THREADED
  // In Op's order; the static_assert catches an Op added without a handler here.
  static const void* const kTable[] = {&&L_kConst,
                                       &&L_kFeature,
                                       &&L_kTxNumber,
                                       &&L_kTxCode,
                                       &&L_kFeatureCmpConst,
                                       &&L_kTxCodeCmpConst,
                                       &&L_kAdd,
                                       &&L_kSub,
                                       &&L_kMul,
                                       &&L_kDiv,
                                       &&L_kNeg,
                                       &&L_kCmp,
                                       &&L_kNot,
                                       &&L_kAndJump,
                                       &&L_kOrJump,
                                       &&L_kAbs,
                                       &&L_kMin,
                                       &&L_kMax,
                                       &&L_kLog,
                                       &&L_kHour,
                                       &&L_kWeekday,
                                       &&L_kDistance,
                                       &&L_kMoneyCmp,
                                       &&L_kMoneyAny,
                                       &&L_kStrEq,
                                       &&L_kStrPrefix,
                                       &&L_kStrIn,
                                       &&L_kNumIn,
                                       &&L_kGuard,
                                       &&L_kRet,
                                       &&L_kRetTrue,
                                       &&L_kAmountMajor,
                                       &&L_kAddConst,
                                       &&L_kSubConst,
                                       &&L_kMulConst,
                                       &&L_kDivConst,
                                       &&L_kCmpEq,
                                       &&L_kCmpNe,
                                       &&L_kCmpLt,
                                       &&L_kCmpLe,
                                       &&L_kCmpGt,
                                       &&L_kCmpGe};
  static_assert(std::size(kTable) == static_cast<size_t>(Op::kCmpGe) + 1,
                "one handler per Op, in Op's order");
next_rule:
  sp = st;
  ip = code + starts[i];
  FW_NEXT;
#else
next_rule:
  sp = st;
  ip = code + starts[i];
  for (;;) {
    in = ip++;
    switch (in->op) {
#endif
  FW_OP(kConst) : (++sp)[0] = in->k;
  FW_NEXT;
  FW_OP(kFeature) : (++sp)[0] = f.values[in->a];
  FW_NEXT;
  FW_OP(kTxNumber) : (++sp)[0] = number_of(tx, static_cast<TxNumber>(in->a));
  FW_NEXT;
  FW_OP(kTxCode) : (++sp)[0] = code_of(tx, static_cast<TxCode>(in->a));
  FW_NEXT;
  FW_OP(kFeatureCmpConst) : FW_RESULT(compare(in->cmp, f.values[in->a], in->k));
  FW_NEXT;
  FW_OP(kTxCodeCmpConst)
      : FW_RESULT(compare(in->cmp, code_of(tx, static_cast<TxCode>(in->a)), in->k));
  FW_NEXT;
  FW_OP(kAdd) : sp[-1] += sp[0];
  --sp;
  FW_NEXT;
  FW_OP(kSub) : sp[-1] -= sp[0];
  --sp;
  FW_NEXT;
  FW_OP(kMul) : sp[-1] *= sp[0];
  --sp;
  FW_NEXT;
  FW_OP(kDiv) : sp[-1] /= sp[0];
  --sp;
  FW_NEXT;
  FW_OP(kNeg) : sp[0] = -sp[0];
  FW_NEXT;
  FW_OP(kCmp) : {
    const bool v = compare(in->cmp, sp[-1], sp[0]);
    sp -= 2;
    FW_RESULT(v);
    FW_NEXT;
  }
  FW_OP(kNot) : sp[0] = sp[0] == 0 ? 1 : 0;
  FW_NEXT;
  FW_OP(kAndJump) : if (sp[0] == 0) { ip = code + in->b; }
  else {
    --sp;
  }
  FW_NEXT;
  FW_OP(kOrJump) : if (sp[0] != 0) { ip = code + in->b; }
  else {
    --sp;
  }
  FW_NEXT;
  FW_OP(kAbs) : sp[0] = std::fabs(sp[0]);
  FW_NEXT;
  FW_OP(kMin) : sp[-1] = std::min(sp[-1], sp[0]);
  --sp;
  FW_NEXT;
  FW_OP(kMax) : sp[-1] = std::max(sp[-1], sp[0]);
  --sp;
  FW_NEXT;
  FW_OP(kLog) : sp[0] = std::log(sp[0]);
  FW_NEXT;
  FW_OP(kHour) : {
    int64_t h = tx.ts / kMicrosPerHour;
    if (tx.ts < 0 && tx.ts % kMicrosPerHour != 0) --h;
    (++sp)[0] = static_cast<double>(((h % 24) + 24) % 24);
    FW_NEXT;
  }
  FW_OP(kWeekday) : {
    int64_t h = tx.ts / kMicrosPerHour;
    if (tx.ts < 0 && tx.ts % kMicrosPerHour != 0) --h;
    const int64_t day = h >= 0 ? h / 24 : (h - 23) / 24;
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    (++sp)[0] = static_cast<double>(((day + 3) % 7 + 7) % 7);
    FW_NEXT;
  }
  FW_OP(kDistance) : sp[-3] = haversine_km(sp[-3], sp[-2], sp[-1], sp[0]);
  sp -= 3;
  FW_NEXT;
  FW_OP(kMoneyCmp) : {
    const MoneyConst& m = p.money[in->b];
    FW_RESULT(tx.amount.currency.packed() == m.currency &&
              compare<int64_t>(in->cmp, tx.amount.minor, m.minor));
    FW_NEXT;
  }
  FW_OP(kMoneyAny) : {
    bool any = false;
    const uint32_t cur = tx.amount.currency.packed();
    for (const MoneyConst& m : p.money_sets[in->b]) {
      any = any || (m.currency == cur && compare<int64_t>(in->cmp, tx.amount.minor, m.minor));
    }
    FW_RESULT(any);
    FW_NEXT;
  }
  FW_OP(kStrEq) : {
    const StringConst& s = p.strings[in->b];
    const auto field = static_cast<TxString>(in->a);
    const std::string_view text = field_text(tx, field);
    const bool eq = string_key(tx, field, text) == s.hash && text == s.text;
    FW_RESULT(eq == (in->cmp == Cmp::kEq));
    FW_NEXT;
  }
  FW_OP(kStrPrefix) : {
    const std::string_view text = field_text(tx, static_cast<TxString>(in->a));
    FW_RESULT(text.starts_with(p.strings[in->b].text));
    FW_NEXT;
  }
  FW_OP(kStrIn) : {
    const StringSet& set = p.str_sets[in->b];
    const auto field = static_cast<TxString>(in->a);
    const std::string_view text = field_text(tx, field);
    const bool hit = set.hashes.contains(string_key(tx, field, text)) &&
                     set.values.find(text) != set.values.end();
    FW_RESULT(hit);
    FW_NEXT;
  }
  FW_OP(kNumIn) : {
    const std::vector<double>& set = p.num_sets[in->b];
    const bool hit = std::binary_search(set.begin(), set.end(), sp[0]);
    --sp;
    FW_RESULT(hit);
    FW_NEXT;
  }
  FW_OP(kGuard) : if ((sp--)[0] == 0) FW_RETURN(false);
  FW_NEXT;
  FW_OP(kRet) : FW_RETURN(sp[0] != 0);
  FW_OP(kRetTrue) : FW_RETURN(true);
  FW_OP(kAmountMajor) : (++sp)[0] = amount_major(tx, major);
  FW_NEXT;
  FW_OP(kAddConst) : sp[0] += in->k;
  FW_NEXT;
  FW_OP(kSubConst) : sp[0] -= in->k;
  FW_NEXT;
  FW_OP(kMulConst) : sp[0] *= in->k;
  FW_NEXT;
  FW_OP(kDivConst) : sp[0] /= in->k;
  FW_NEXT;
  // The operands are read before the pop: FW_RESULT may push the result in their place.
  FW_OP(kCmpEq) : {
    const bool v = sp[-1] == sp[0];
    sp -= 2;
    FW_RESULT(v);
    FW_NEXT;
  }
  FW_OP(kCmpNe) : {
    const bool v = sp[-1] != sp[0];
    sp -= 2;
    FW_RESULT(v);
    FW_NEXT;
  }
  FW_OP(kCmpLt) : {
    const bool v = sp[-1] < sp[0];
    sp -= 2;
    FW_RESULT(v);
    FW_NEXT;
  }
  FW_OP(kCmpLe) : {
    const bool v = sp[-1] <= sp[0];
    sp -= 2;
    FW_RESULT(v);
    FW_NEXT;
  }
  FW_OP(kCmpGt) : {
    const bool v = sp[-1] > sp[0];
    sp -= 2;
    FW_RESULT(v);
    FW_NEXT;
  }
  FW_OP(kCmpGe) : {
    const bool v = sp[-1] >= sp[0];
    sp -= 2;
    FW_RESULT(v);
    FW_NEXT;
  }
#if !FW_THREADED
}
}
#endif
}

#undef FW_NO_CROSSJUMPING
#undef FW_RESULT
#undef FW_RETURN
#undef FW_NEXT
#undef FW_OP
#undef FW_THREADED

}  // namespace

std::string_view Program::string_field(const Transaction& tx, TxString field) {
  return field_text(tx, field);
}

void HashSet64::build(const std::vector<uint64_t>& keys) {
  size_t cap = 8;
  while (cap < keys.size() * 2) cap *= 2;
  slots_.assign(cap, 0);
  mask_ = cap - 1;
  for (uint64_t key : keys) {
    if (key == 0) continue;
    size_t i = key & mask_;
    while (slots_[i] != 0 && slots_[i] != key) i = (i + 1) & mask_;
    slots_[i] = key;
  }
}
double Program::tx_number(const Transaction& tx, TxNumber field) { return number_of(tx, field); }
double Program::tx_code(const Transaction& tx, TxCode field) { return code_of(tx, field); }

bool Program::run(uint32_t start, const Transaction& tx, const FeatureVector& f) const {
  uint32_t fired = 0;
  return exec_many(*this, &start, 1, tx, f, &fired) == 1;
}

size_t Program::run_many(const uint32_t* starts, size_t n, const Transaction& tx,
                         const FeatureVector& f, uint32_t* fired) const {
  return exec_many(*this, starts, n, tx, f, fired);
}

#undef FW_INLINE

}  // namespace fw::rules
