// Program: the compiled, flat form of every expression of one rule set. Each rule is a run of
// fixed-size instructions for a small stack machine over doubles, ending in kRet; strings,
// lists and money literals became integer codes, 64-bit hashes and hash sets at load, so
// evaluating a rule does no string work, no allocation and no virtual call. Built by
// compiler.h, owned by a RuleSet, immutable after construction: run() is const and thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "features/schema.h"
#include "model/transaction.h"

namespace fw::rules {

enum class Op : uint8_t {
  kConst,            // push k
  kFeature,          // push features[a]
  kTxNumber,         // push a numeric transaction field (TxNumber a)
  kTxCode,           // push the integer code of an enumerated string field (TxCode a)
  kFeatureCmpConst,  // push features[a] <cmp> k (fused load + compare)
  kTxCodeCmpConst,   // push code field a <cmp> k (enumerated text against a constant)
  kAdd,
  kSub,
  kMul,
  kDiv,
  kNeg,
  kCmp,      // pop b, pop a, push a <cmp> b
  kNot,      // push !pop
  kAndJump,  // if top == 0 jump to b (keep it), else pop
  kOrJump,   // if top != 0 jump to b (keep it), else pop
  kAbs,
  kMin,
  kMax,
  kLog,
  kHour,         // push the UTC hour of tx.ts
  kWeekday,      // push the UTC weekday of tx.ts, 0 = Monday
  kDistance,     // pop lon2, lat2, lon1, lat1; push haversine km
  kMoneyCmp,     // push tx.amount <cmp> money[b] (false in another currency)
  kMoneyAny,     // push whether tx.amount <cmp> any entry of money_sets[b] in its currency
  kStrEq,        // push string field a == strings_[b] (cmp kEq or kNe)
  kStrPrefix,    // push string field a starts with strings_[b]
  kStrIn,        // push string field a in str_sets_[b]
  kNumIn,        // pop x, push x in num_sets_[b]
  kGuard,        // pop; if it is 0, the expression is false: return false
  kRet,          // return top != 0
  kRetTrue,      // return true (every guard passed)
  kAmountMajor,  // push major(amount), computed once per run/run_many call
  kAddConst,     // top += k
  kSubConst,     // top -= k
  kMulConst,     // top *= k
  kDivConst,     // top /= k
  // kCmp specialised by operator (what the compiler emits; no switch on Cmp when run), in
  // Cmp's order: kCmpEq + cmp.
  kCmpEq,
  kCmpNe,
  kCmpLt,
  kCmpLe,
  kCmpGt,
  kCmpGe,
};

// Instr::flags bit: instead of pushing its true/false result, the instruction returns false
// from the expression when the result is false (a top-level conjunct; see compiler.cc).
inline constexpr uint8_t kGuardFlag = 1;

enum class Cmp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// Numeric and boolean transaction fields (as doubles).
enum class TxNumber : uint16_t { kMcc, kCardPresent, kHasLocation, kLat, kLon, kAmountMajor };
// Enumerated string fields, compared as integer codes.
enum class TxCode : uint16_t { kType, kChannel, kCurrency, kCountry };
// Free string fields, compared by 64-bit hash (verified on a match).
enum class TxString : uint16_t {
  kMerchantId,
  kTerminalId,
  kDeviceId,
  kCounterparty,
  kAccountId,
  kIp,
};

struct Instr {
  Op op = Op::kRet;
  Cmp cmp = Cmp::kEq;
  uint8_t flags = 0;  // kGuardFlag
  uint8_t a = 0;      // feature id or field
  uint32_t b = 0;     // jump target or table index
  double k = 0;       // constant
};
static_assert(sizeof(Instr) == 16);
static_assert(kFeatureCount < 256, "Instr::a holds a feature id");

struct MoneyConst {
  uint32_t currency = 0;  // Currency::packed()
  int64_t minor = 0;
};

struct StringConst {
  uint64_t hash = 0;  // hash_id(text)
  std::string text;
};

// Looks up std::string keys by string_view without building a string.
struct TransparentStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// An open-addressing set of non-zero 64-bit hashes (hash_id never returns 0): a power-of-two
// table at most half full, linear probing. Faster than std::unordered_set for the one lookup
// per rule and transaction (no modulo, no node chasing).
class HashSet64 {
 public:
  void build(const std::vector<uint64_t>& keys);
  bool contains(uint64_t key) const {
    if (slots_.empty()) return false;
    for (size_t i = key & mask_;; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if (s == key) return true;
      if (s == 0) return false;
    }
  }

 private:
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
};

struct StringSet {
  HashSet64 hashes;  // hash_id of each value: the fast negative answer
  std::unordered_set<std::string, TransparentStringHash, std::equal_to<>> values;  // verifies
};

class Program {
 public:
  // Runs the code starting at `start` (a rule's entry point). Never allocates.
  bool run(uint32_t start, const Transaction& tx, const FeatureVector& f) const;
  // Runs the expressions starting at starts[0..n) in order; writes the indices (into starts)
  // of those that are true to `fired` and returns how many. Never allocates.
  size_t run_many(const uint32_t* starts, size_t n, const Transaction& tx, const FeatureVector& f,
                  uint32_t* fired) const;

  static std::string_view string_field(const Transaction& tx, TxString field);
  static double tx_number(const Transaction& tx, TxNumber field);
  static double tx_code(const Transaction& tx, TxCode field);

  // Built by the compiler. Public because the compiler appends and the tests inspect.
  std::vector<Instr> code;
  std::vector<MoneyConst> money;
  std::vector<std::vector<MoneyConst>> money_sets;
  std::vector<StringConst> strings;
  std::vector<StringSet> str_sets;
  std::vector<std::vector<double>> num_sets;  // sorted
};

// Largest operand stack a compiled expression may need.
inline constexpr int kMaxStack = 64;

}  // namespace fw::rules
