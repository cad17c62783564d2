#include "rules/program.h"

#include <algorithm>
#include <cmath>

#include "core/hash.h"
#include "features/geo.h"

namespace fw::rules {
namespace {

inline bool compare(Cmp c, double a, double b) {
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

inline bool compare_int(Cmp c, int64_t a, int64_t b) {
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

// A true/false result: pushed, or, for a guard, ends the expression when false.
#define FW_RESULT(expr)          \
  do {                           \
    const bool v_ = (expr);      \
    if (in.flags & kGuardFlag) { \
      if (!v_) return false;     \
    } else {                     \
      st[++sp] = v_ ? 1 : 0;     \
    }                            \
  } while (0)

FW_INLINE bool exec(const Program& p, uint32_t start, const Transaction& tx,
                    const FeatureVector& f) {
  const std::vector<Instr>& code = p.code;
  double st[kMaxStack];
  int sp = -1;  // index of the top
  const Instr* ip = code.data() + start;
  for (;;) {
    const Instr& in = *ip++;
    switch (in.op) {
      case Op::kConst:
        st[++sp] = in.k;
        break;
      case Op::kFeature:
        st[++sp] = f.values[in.a];
        break;
      case Op::kTxNumber:
        st[++sp] = number_of(tx, static_cast<TxNumber>(in.a));
        break;
      case Op::kTxCode:
        st[++sp] = code_of(tx, static_cast<TxCode>(in.a));
        break;
      case Op::kFeatureCmpConst:
        FW_RESULT(compare(in.cmp, f.values[in.a], in.k));
        break;
      case Op::kTxCodeCmpConst:
        FW_RESULT(compare(in.cmp, code_of(tx, static_cast<TxCode>(in.a)), in.k));
        break;
      case Op::kAdd:
        st[sp - 1] += st[sp];
        --sp;
        break;
      case Op::kSub:
        st[sp - 1] -= st[sp];
        --sp;
        break;
      case Op::kMul:
        st[sp - 1] *= st[sp];
        --sp;
        break;
      case Op::kDiv:
        st[sp - 1] /= st[sp];
        --sp;
        break;
      case Op::kNeg:
        st[sp] = -st[sp];
        break;
      case Op::kCmp: {
        const bool v = compare(in.cmp, st[sp - 1], st[sp]);
        sp -= 2;
        FW_RESULT(v);
        break;
      }
      case Op::kNot:
        st[sp] = st[sp] == 0 ? 1 : 0;
        break;
      case Op::kAndJump:
        if (st[sp] == 0) {
          ip = code.data() + in.b;
        } else {
          --sp;
        }
        break;
      case Op::kOrJump:
        if (st[sp] != 0) {
          ip = code.data() + in.b;
        } else {
          --sp;
        }
        break;
      case Op::kAbs:
        st[sp] = std::fabs(st[sp]);
        break;
      case Op::kMin:
        st[sp - 1] = std::min(st[sp - 1], st[sp]);
        --sp;
        break;
      case Op::kMax:
        st[sp - 1] = std::max(st[sp - 1], st[sp]);
        --sp;
        break;
      case Op::kLog:
        st[sp] = std::log(st[sp]);
        break;
      case Op::kHour: {
        int64_t h = tx.ts / kMicrosPerHour;
        if (tx.ts < 0 && tx.ts % kMicrosPerHour != 0) --h;
        st[++sp] = static_cast<double>(((h % 24) + 24) % 24);
        break;
      }
      case Op::kWeekday: {
        int64_t h = tx.ts / kMicrosPerHour;
        if (tx.ts < 0 && tx.ts % kMicrosPerHour != 0) --h;
        int64_t day = h >= 0 ? h / 24 : (h - 23) / 24;
        // 1970-01-01 was a Thursday (3 when Monday is 0).
        st[++sp] = static_cast<double>(((day + 3) % 7 + 7) % 7);
        break;
      }
      case Op::kDistance:
        st[sp - 3] = haversine_km(st[sp - 3], st[sp - 2], st[sp - 1], st[sp]);
        sp -= 3;
        break;
      case Op::kMoneyCmp: {
        const MoneyConst& m = p.money[in.b];
        FW_RESULT(tx.amount.currency.packed() == m.currency &&
                  compare_int(in.cmp, tx.amount.minor, m.minor));
        break;
      }
      case Op::kMoneyAny: {
        bool any = false;
        const uint32_t cur = tx.amount.currency.packed();
        for (const MoneyConst& m : p.money_sets[in.b]) {
          any = any || (m.currency == cur && compare_int(in.cmp, tx.amount.minor, m.minor));
        }
        FW_RESULT(any);
        break;
      }
      case Op::kStrEq: {
        const StringConst& s = p.strings[in.b];
        const auto field = static_cast<TxString>(in.a);
        const std::string_view text = field_text(tx, field);
        const bool eq = string_key(tx, field, text) == s.hash && text == s.text;
        FW_RESULT(eq == (in.cmp == Cmp::kEq));
        break;
      }
      case Op::kStrPrefix: {
        const std::string_view text = field_text(tx, static_cast<TxString>(in.a));
        FW_RESULT(text.starts_with(p.strings[in.b].text));
        break;
      }
      case Op::kStrIn: {
        const StringSet& set = p.str_sets[in.b];
        const auto field = static_cast<TxString>(in.a);
        const std::string_view text = field_text(tx, field);
        const bool hit = set.hashes.contains(string_key(tx, field, text)) &&
                         set.values.find(text) != set.values.end();
        FW_RESULT(hit);
        break;
      }
      case Op::kNumIn: {
        const std::vector<double>& set = p.num_sets[in.b];
        const bool hit = std::binary_search(set.begin(), set.end(), st[sp]);
        --sp;
        FW_RESULT(hit);
        break;
      }
      case Op::kGuard:
        if (st[sp--] == 0) return false;
        break;
      case Op::kRet:
        return st[sp] != 0;
      case Op::kRetTrue:
        return true;
    }
  }
}

#undef FW_RESULT

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
  return exec(*this, start, tx, f);
}

size_t Program::run_many(const uint32_t* starts, size_t n, const Transaction& tx,
                         const FeatureVector& f, uint32_t* fired) const {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (exec(*this, starts[i], tx, f)) fired[count++] = static_cast<uint32_t>(i);
  }
  return count;
}

#undef FW_INLINE

}  // namespace fw::rules
