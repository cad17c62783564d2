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

}  // namespace

std::string_view Program::string_field(const Transaction& tx, TxString field) {
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

double Program::tx_number(const Transaction& tx, TxNumber field) {
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

double Program::tx_code(const Transaction& tx, TxCode field) {
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

bool Program::run(uint32_t start, const Transaction& tx, const FeatureVector& f) const {
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
        st[++sp] = tx_number(tx, static_cast<TxNumber>(in.a));
        break;
      case Op::kTxCode:
        st[++sp] = tx_code(tx, static_cast<TxCode>(in.a));
        break;
      case Op::kFeatureCmpConst:
        st[++sp] = compare(in.cmp, f.values[in.a], in.k) ? 1 : 0;
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
      case Op::kCmp:
        st[sp - 1] = compare(in.cmp, st[sp - 1], st[sp]) ? 1 : 0;
        --sp;
        break;
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
        const MoneyConst& m = money[in.b];
        st[++sp] = tx.amount.currency.packed() == m.currency &&
                           compare_int(in.cmp, tx.amount.minor, m.minor)
                       ? 1
                       : 0;
        break;
      }
      case Op::kStrEq: {
        const StringConst& s = strings[in.b];
        const auto field = static_cast<TxString>(in.a);
        const std::string_view text = string_field(tx, field);
        const bool eq = string_key(tx, field, text) == s.hash && text == s.text;
        st[++sp] = (eq == (in.cmp == Cmp::kEq)) ? 1 : 0;
        break;
      }
      case Op::kStrPrefix: {
        const std::string_view text = string_field(tx, static_cast<TxString>(in.a));
        st[++sp] = text.starts_with(strings[in.b].text) ? 1 : 0;
        break;
      }
      case Op::kStrIn: {
        const StringSet& set = str_sets[in.b];
        const auto field = static_cast<TxString>(in.a);
        const std::string_view text = string_field(tx, field);
        const bool hit = set.hashes.count(string_key(tx, field, text)) != 0 &&
                         set.values.find(text) != set.values.end();
        st[++sp] = hit ? 1 : 0;
        break;
      }
      case Op::kNumIn: {
        const std::vector<double>& set = num_sets[in.b];
        st[sp] = std::binary_search(set.begin(), set.end(), st[sp]) ? 1 : 0;
        break;
      }
      case Op::kRet:
        return st[sp] != 0;
    }
  }
}

}  // namespace fw::rules
