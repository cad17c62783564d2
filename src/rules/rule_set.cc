#include "rules/rule_set.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FW_PREFILTER_AVX2 1
#else
#define FW_PREFILTER_AVX2 0
#endif

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <bit>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>

#include "rules/default_rules.h"

namespace fw {
namespace {

// Bounds on what a rule set may hold, so hostile files fail cleanly instead of exhausting memory.
constexpr size_t kMaxRules = 1000;
constexpr size_t kMaxListValues = 1'000'000;
constexpr size_t kMaxListValueBytes = 256;
constexpr uintmax_t kMaxListFileBytes = 64ull << 20;
constexpr size_t kMaxRuleSetBytes = 16u << 20;

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string join(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// yaml-cpp parses nesting recursively, so deep flow ("[[[[...") or block nesting could exhaust
// the stack. Before parsing, bound a cheap over-estimate of the depth: per line, indentation +
// leading "- " entries + open flow brackets (outside quotes). Returns the 1-based line of the
// first line over the bound, or 0.
constexpr int kMaxYamlDepth = 128;
int too_deep_line(std::string_view text) {
  int line = 1, flow = 0, indent = 0, dashes = 0;
  bool at_start = true, in_single = false, in_double = false, comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      indent = dashes = 0;
      at_start = true;
      comment = in_single = in_double = false;
      continue;
    }
    if (comment) continue;
    if (at_start) {
      if (c == ' ') {
        ++indent;
      } else if (c == '-' && i + 1 < text.size() && text[i + 1] == ' ') {
        ++dashes;
        ++indent;
        ++i;
      } else {
        at_start = false;
      }
    }
    if (!at_start) {
      if (in_double) {
        if (c == '\\')
          ++i;
        else if (c == '"')
          in_double = false;
      } else if (in_single) {
        if (c == '\'') in_single = false;
      } else if (c == '"') {
        in_double = true;
      } else if (c == '\'') {
        in_single = true;
      } else if (c == '#') {
        comment = true;
      } else if (c == '[' || c == '{') {
        ++flow;
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      }
    }
    if (indent + dashes + flow > kMaxYamlDepth) return line;
  }
  return 0;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(start, nl - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = nl + 1;
  }
  return out;
}

// Walks a parsed YAML document, producing errors that name the source, the line and column,
// and the key path.
class Loader {
 public:
  Loader(std::string_view source, std::string_view text)
      : source_(source), lines_(split_lines(text)) {}

  Error error(const YAML::Node& at, const std::string& path, std::string reason) const {
    std::string where = source_;
    if (at.IsDefined() && at.Mark().line >= 0) {
      where += fmt::format(":{}:{}", at.Mark().line + 1, at.Mark().column + 1);
    }
    return Error{path.empty() ? where : where + ": " + path, std::move(reason)};
  }
  Error error(const std::string& path, std::string reason) const {
    return Error{path.empty() ? source_ : source_ + ": " + path, std::move(reason)};
  }

  // Rejects keys of `map` that are not in `allowed`.
  std::optional<Error> check_keys(const YAML::Node& map, const std::string& path,
                                  std::initializer_list<std::string_view> allowed) const {
    if (!map.IsMap()) return error(map, path, "must be a mapping");
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) return error(kv.first, path, "keys must be plain names");
      std::string key = kv.first.Scalar();
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || a == key;
      if (!ok) {
        return error(kv.first, path.empty() ? key : path + "." + key,
                     "unknown key '" + key + "' (expected one of: " + join(allowed) + ")");
      }
    }
    return std::nullopt;
  }

  std::optional<Error> get_number(const YAML::Node& n, const std::string& path, double lo,
                                  double hi, double& out) const {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
      return error(n, path, "must be a number, got '" + scalar_text(n) + "'");
    }
    if (v < lo || v > hi) {
      return error(n, path, fmt::format("must be between {} and {}, got {}", lo, hi, v));
    }
    out = v;
    return std::nullopt;
  }

  std::optional<Error> get_string_list(const YAML::Node& n, const std::string& path,
                                       std::vector<std::string>& out) const {
    if (!n.IsSequence()) return error(n, path, "must be a list, got '" + scalar_text(n) + "'");
    if (n.size() > kMaxListValues) {
      return error(n, path,
                   fmt::format("has {} values; the limit is {}", n.size(), kMaxListValues));
    }
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node v = n[i];
      const std::string p = fmt::format("{}[{}]", path, i);
      if (!v.IsScalar()) return error(v, p, "must be a text value, got " + scalar_text(v));
      if (v.Scalar().size() > kMaxListValueBytes) {
        return error(v, p, fmt::format("is longer than {} bytes", kMaxListValueBytes));
      }
      out.push_back(v.Scalar());
    }
    return std::nullopt;
  }

  static std::string scalar_text(const YAML::Node& n) {
    if (n.IsScalar()) return n.Scalar();
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    return "nothing";
  }

  // Line and column (1-based) of byte `offset` of the expression held by scalar `node`. The
  // expression's lines are looked up in the source from the node's mark on, which handles
  // plain, quoted and block scalars; escapes or folding fall back to the node's position.
  std::pair<int, int> position(const YAML::Node& node, std::string_view expr,
                               uint32_t offset) const {
    const YAML::Mark mark = node.Mark();
    const std::vector<std::string> expr_lines = split_lines(expr);
    size_t k = 0, col = offset;
    for (; k < expr_lines.size(); ++k) {
      if (col <= expr_lines[k].size()) break;
      col -= expr_lines[k].size() + 1;
    }
    if (k >= expr_lines.size()) k = expr_lines.empty() ? 0 : expr_lines.size() - 1;
    size_t line = mark.line >= 0 ? static_cast<size_t>(mark.line) : 0;
    for (size_t e = 0; e <= k && e < expr_lines.size(); ++e) {
      bool found = false;
      for (; line < lines_.size(); ++line) {
        size_t from = line == static_cast<size_t>(mark.line) ? static_cast<size_t>(mark.column) : 0;
        if (from > lines_[line].size()) from = 0;
        const size_t at =
            expr_lines[e].empty() ? std::string::npos : lines_[line].find(expr_lines[e], from);
        if (at != std::string::npos) {
          found = true;
          if (e == k) return {static_cast<int>(line) + 1, static_cast<int>(at + col) + 1};
          ++line;
          break;
        }
        if (line > static_cast<size_t>(std::max(mark.line, 0)) + 2 * expr_lines.size() + 2) break;
      }
      if (!found) break;
    }
    return {mark.line + 1, mark.column + 1 + static_cast<int>(offset)};
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  std::vector<std::string> lines_;
};

std::optional<Error> load_list_file(const Loader& ld, const YAML::Node& at, const std::string& path,
                                    const std::string& file, std::vector<std::string>& out) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return ld.error(at, path, "cannot read list file '" + file + "': " + ec.message());
  if (size > kMaxListFileBytes) {
    return ld.error(
        at, path,
        fmt::format("list file '{}' is {} bytes; the limit is {}", file, size, kMaxListFileBytes));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return ld.error(at, path, "cannot open list file '" + file + "'");
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    size_t start = 0;
    while (start < line.size() && std::isspace(static_cast<unsigned char>(line[start]))) ++start;
    if (start == line.size()) continue;
    std::string value = line.substr(start);
    if (value.size() > kMaxListValueBytes) {
      return ld.error(
          at, path,
          fmt::format("{}:{}: value is longer than {} bytes", file, n, kMaxListValueBytes));
    }
    if (out.size() >= kMaxListValues) {
      return ld.error(at, path, fmt::format("{} holds more than {} values", file, kMaxListValues));
    }
    out.push_back(std::move(value));
  }
  return std::nullopt;
}

std::optional<RuleAction> parse_rule_action(std::string_view s) {
  if (s == "score") return RuleAction::kScore;
  if (s == "review") return RuleAction::kReview;
  if (s == "block") return RuleAction::kBlock;
  if (s == "allow") return RuleAction::kAllow;
  return std::nullopt;
}

std::optional<Severity> parse_severity(std::string_view s) {
  if (s == "low") return Severity::kLow;
  if (s == "medium") return Severity::kMedium;
  if (s == "high") return Severity::kHigh;
  if (s == "critical") return Severity::kCritical;
  return std::nullopt;
}

bool valid_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

// A check that every value passes (NaN included): not (1 <= x <= 0).
rules::PreCheck always_true_check() {
  rules::PreCheck c;
  c.lo = 1;
  c.hi = 0;
  c.negate = 1;
  return c;
}

// x <cmp> k as a check on slot (exact for doubles: "x > k" is "x >= the next double above k";
// NaN fails every range, and "!=" is the negation of "== k", true for NaN as the guard is).
rules::PreCheck compare_check(rules::Cmp cmp, double k, uint16_t slot, bool tx) {
  const double inf = std::numeric_limits<double>::infinity();
  rules::PreCheck c;
  c.slot = tx ? static_cast<uint32_t>(kFeatureCount) + slot : slot;
  c.lo = -inf;
  c.hi = inf;
  switch (cmp) {
    case rules::Cmp::kEq:
      c.lo = c.hi = k;
      break;
    case rules::Cmp::kNe:
      c.lo = c.hi = k;
      c.negate = 1;
      break;
    case rules::Cmp::kLt:
      c.hi = std::nextafter(k, -inf);
      break;
    case rules::Cmp::kLe:
      c.hi = k;
      break;
    case rules::Cmp::kGt:
      c.lo = std::nextafter(k, inf);
      break;
    case rules::Cmp::kGe:
      c.lo = k;
      break;
  }
  return c;
}

// amount <cmp> some minor value in [lo, hi] as a check on the amount's minor units as a double.
// The int64 -> double conversion is monotonic, so "minor > m" implies "double(minor) >=
// double(m)": the check is inclusive and may pass where the guard fails, never the reverse.
// "!=" gives no check (two amounts may differ yet round to the same double).
std::optional<rules::PreCheck> minor_check(rules::Cmp cmp, int64_t lo, int64_t hi) {
  const double inf = std::numeric_limits<double>::infinity();
  rules::PreCheck c;
  c.slot = static_cast<uint32_t>(kFeatureCount + static_cast<size_t>(rules::PreTx::kAmountMinor));
  switch (cmp) {
    case rules::Cmp::kNe:
      return std::nullopt;
    case rules::Cmp::kEq:
      c.lo = static_cast<double>(lo);
      c.hi = static_cast<double>(hi);
      break;
    case rules::Cmp::kLt:
    case rules::Cmp::kLe:
      c.lo = -inf;
      c.hi = static_cast<double>(hi);
      break;
    case rules::Cmp::kGt:
    case rules::Cmp::kGe:
      c.lo = static_cast<double>(lo);
      c.hi = inf;
      break;
  }
  return c;
}

// The checks that a guard instruction implies (none when it is not a comparison of one value
// with constants, e.g. a string lookup or arithmetic).
std::vector<rules::PreCheck> prefilter_checks(const rules::Program& p, const rules::Instr& in) {
  using rules::Op;
  const auto currency = static_cast<uint16_t>(rules::PreTx::kCurrency);
  std::vector<rules::PreCheck> out;
  switch (in.op) {
    case Op::kFeatureCmpConst:
      // The score slots (model_score, anomaly_score) are not in the prefilter's row.
      if (in.a < kFeatureCount) out.push_back(compare_check(in.cmp, in.k, in.a, false));
      break;
    case Op::kTxCodeCmpConst:
      out.push_back(compare_check(in.cmp, in.k, in.a, true));
      break;
    case Op::kMoneyCmp: {
      // Same currency, then the minor units.
      const rules::MoneyConst& m = p.money[in.b];
      out.push_back(compare_check(rules::Cmp::kEq, m.currency, currency, true));
      if (auto c = minor_check(in.cmp, m.minor, m.minor)) out.push_back(*c);
      break;
    }
    case Op::kMoneyAny: {
      // Any entry: the minor units against the loosest bound; the currency when all agree.
      const std::vector<rules::MoneyConst>& set = p.money_sets[in.b];
      if (set.empty()) {
        rules::PreCheck never;  // 1 <= x <= 0
        never.lo = 1;
        out.push_back(never);
        break;
      }
      int64_t lo = set[0].minor, hi = set[0].minor;
      bool one_currency = true;
      for (const rules::MoneyConst& m : set) {
        lo = std::min(lo, m.minor);
        hi = std::max(hi, m.minor);
        one_currency = one_currency && m.currency == set[0].currency;
      }
      if (one_currency) {
        out.push_back(compare_check(rules::Cmp::kEq, set[0].currency, currency, true));
      }
      if (auto c = minor_check(in.cmp, lo, hi)) out.push_back(*c);
      break;
    }
    default:
      break;
  }
  return out;
}

// Whether the prefilter decides this instruction exactly: a fused comparison of a feature or
// an enumerated code with a constant, as a top-level guard (compare_check is exact for both).
// The score slots (model_score, anomaly_score) come after the features and are not in the
// prefilter's row (prefilter_checks skips them), so a guard on them is never decided there.
bool exact_guard(const rules::Instr& in) {
  if ((in.flags & rules::kGuardFlag) == 0 || !std::isfinite(in.k)) return false;
  if (in.op == rules::Op::kFeatureCmpConst) return in.a < kFeatureCount;
  return in.op == rules::Op::kTxCodeCmpConst;
}

// Merges a rule's plain range checks on the same value into one (the conjunction of two
// ranges is their intersection: "local_hour between 5 and 4" becomes a check nothing passes).
// An empty list gets an always-true check.
void merge_checks(std::vector<rules::PreCheck>& checks) {
  std::vector<rules::PreCheck> merged;
  for (const rules::PreCheck& c : checks) {
    bool done = false;
    for (rules::PreCheck& m : merged) {
      if (c.negate == 0 && m.negate == 0 && m.slot == c.slot) {
        m.lo = std::max(m.lo, c.lo);
        m.hi = std::min(m.hi, c.hi);
        done = true;
        break;
      }
    }
    if (!done) merged.push_back(c);
  }
  if (merged.empty()) merged.push_back(always_true_check());
  checks = std::move(merged);
}

// Identifies a check across rules (bit patterns, so NaN bounds compare too).
using CheckKey = std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>;
CheckKey check_key(const rules::PreCheck& c) {
  return {c.slot, c.negate, std::bit_cast<uint64_t>(c.lo), std::bit_cast<uint64_t>(c.hi)};
}

// Orders a rule's merged checks so the first is the one most likely to fail, as far as the
// rule set tells: first the checks fewest rules share (a check many rules repeat, such as
// "channel == 'ecommerce'" or "distance_from_prev_km >= 50" in a family of rules that differ
// in one threshold, is a broad precondition; the threshold that differs is the selective
// part), then by shape: equalities and two-sided ranges, then one-sided ranges, then the
// currency (rarely differs in one market), then negations ("!=", bare true/false features).
// The order cannot change a rule's result: all checks must pass.
void order_checks(std::vector<rules::PreCheck>& checks, const std::map<CheckKey, int>& uses) {
  const auto currency =
      static_cast<uint32_t>(kFeatureCount + static_cast<size_t>(rules::PreTx::kCurrency));
  auto rank = [&](const rules::PreCheck& c) {
    int shape = 0;
    if (c.negate != 0) {
      shape = 3;
    } else if (c.slot == currency) {
      shape = 2;
    } else if (std::isinf(c.lo) || std::isinf(c.hi)) {
      shape = 1;
    }
    return std::pair<int, int>{uses.at(check_key(c)), shape};
  };
  std::stable_sort(
      checks.begin(), checks.end(),
      [&](const rules::PreCheck& a, const rules::PreCheck& b) { return rank(a) < rank(b); });
}

// Whether rule sets loaded from now on may use the AVX2 first-check pass (RuleSet::
// set_wide_prefilter); read once per load.
std::atomic<bool> g_wide_prefilter{true};

#if FW_PREFILTER_AVX2
// The result bits of the four first checks from i (see first_checks_avx2).
__attribute__((target("avx2"))) inline uint64_t check_block_avx2(const double* row,
                                                                 const double* lo, const double* hi,
                                                                 const uint32_t* slot, size_t i) {
  const __m128i idx = _mm_loadu_si128(reinterpret_cast<const __m128i*>(slot + i));
  // The masked form with every lane on: the plain one trips GCC's maybe-uninitialized.
  const __m256d ones = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  const __m256d x = _mm256_mask_i32gather_pd(_mm256_setzero_pd(), row, idx, ones, 8);
  const __m256d in = _mm256_and_pd(_mm256_cmp_pd(x, _mm256_loadu_pd(lo + i), _CMP_GE_OQ),
                                   _mm256_cmp_pd(x, _mm256_loadu_pd(hi + i), _CMP_LE_OQ));
  return static_cast<uint64_t>(_mm256_movemask_pd(in));
}

// The first-check pass of RuleSet::first_checks, four checks per instruction: the four values
// are gathered from the row by slot, compared with lo and hi (ordered compares: false for NaN,
// as in the portable pass), and their four result bits appended. Compiled for AVX2 only here;
// RuleSet picks it at load when the CPU has AVX2.
__attribute__((target("avx2"))) void first_checks_avx2(const double* row, const double* lo,
                                                       const double* hi, const uint32_t* slot,
                                                       const uint64_t* negate, size_t padded,
                                                       uint64_t* pass) {
  for (size_t w = 0; w * 64 < padded; ++w) {
    const size_t end = std::min(padded, w * 64 + 64);
    uint64_t bits = 0;
    size_t i = w * 64;
    for (; i + 8 <= end; i += 8) {
      bits |= (check_block_avx2(row, lo, hi, slot, i) |
               (check_block_avx2(row, lo, hi, slot, i + 4) << 4))
              << (i % 64);
    }
    if (i < end) bits |= check_block_avx2(row, lo, hi, slot, i) << (i % 64);
    pass[w] = bits ^ negate[w];
  }
}

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}
#endif

int64_t hour_of(Timestamp ts) {
  return ts >= 0 ? ts / kMicrosPerHour : (ts - kMicrosPerHour + 1) / kMicrosPerHour;
}

}  // namespace

namespace rules {

uint64_t fold_store_list(uint64_t fingerprint, std::string_view name,
                         const std::vector<std::string>& values) {
  uint64_t h = fnv1a(name, fnv1a("\x01", fingerprint));
  for (const std::string& v : values) h = fnv1a(v, fnv1a("\n", h));
  return fnv1a(std::to_string(values.size()), h);
}

uint64_t store_lists_fingerprint(const std::vector<std::string>& names,
                                 const ListProvider& provider) {
  uint64_t h = 0;
  for (const std::string& name : names) {
    auto values = provider(name);
    if (values.ok()) {
      h = fold_store_list(h, name, *values);
    } else {
      h = fnv1a(values.error().message(), fnv1a(name, fnv1a("\x02", h)));
    }
  }
  return h;
}

}  // namespace rules

std::string_view to_string(RuleAction a) {
  switch (a) {
    case RuleAction::kScore:
      return "score";
    case RuleAction::kReview:
      return "review";
    case RuleAction::kBlock:
      return "block";
    case RuleAction::kAllow:
      return "allow";
  }
  return "score";
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "medium";
}

std::string_view RuleSet::default_yaml() { return rules::kDefaultRulesYaml; }

Result<std::shared_ptr<const RuleSet>> RuleSet::from_yaml_string(std::string_view yaml,
                                                                 std::string_view source_name,
                                                                 const std::string& list_dir,
                                                                 const ListProvider& store_lists) {
  Loader ld(source_name, yaml);
  if (yaml.size() > kMaxRuleSetBytes) {
    return ld.error("", fmt::format("the rule set is {} bytes; the limit is {}", yaml.size(),
                                    kMaxRuleSetBytes));
  }
  if (const int line = too_deep_line(yaml)) {
    return Error{fmt::format("{}:{}", ld.source(), line),
                 fmt::format("nesting or indentation deeper than {} levels; a rule set needs a "
                             "handful",
                             kMaxYamlDepth)};
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("{}:{}:{}", ld.source(), e.mark.line + 1, e.mark.column + 1),
                 "invalid YAML: " + e.msg};
  }
  std::shared_ptr<RuleSet> set(new RuleSet());
  uint64_t content_hash = fnv1a(yaml);
  try {
    if (auto e = ld.check_keys(root, "", {"name", "policy", "lists", "rules"})) return *e;
    const YAML::Node name = root["name"];
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      return ld.error("name", "is required: a short name for this rule set, e.g. 'default'");
    }
    if (!valid_id(name.Scalar())) {
      return ld.error(name, "name",
                      "may contain only letters, digits, '_', '-' and '.' (at most 64), got '" +
                          name.Scalar() + "'");
    }
    set->name_ = name.Scalar();

    if (const YAML::Node policy = root["policy"]) {
      if (auto e = ld.check_keys(policy, "policy", {"review_at", "block_at"})) return *e;
      DecisionPolicy& p = set->policy_;
      if (policy["review_at"]) {
        if (auto e = ld.get_number(policy["review_at"], "policy.review_at", 0, 1, p.review_at))
          return *e;
      }
      if (policy["block_at"]) {
        if (auto e = ld.get_number(policy["block_at"], "policy.block_at", 0, 1, p.block_at))
          return *e;
      }
      if (p.review_at > p.block_at) {
        return ld.error(
            policy["review_at"], "policy.review_at",
            fmt::format("must not be above block_at ({}), got {}", p.block_at, p.review_at));
      }
    }

    std::vector<rules::NamedList> lists;
    if (const YAML::Node ln = root["lists"]) {
      if (!ln.IsMap()) return ld.error(ln, "lists", "must be a mapping of list name to values");
      for (const auto& kv : ln) {
        const std::string lname = kv.first.IsScalar() ? kv.first.Scalar() : "";
        const std::string path = "lists." + lname;
        if (!valid_id(lname)) {
          return ld.error(
              kv.first, "lists",
              "list names may contain only letters, digits, '_', '-' and '.', got '" + lname + "'");
        }
        if (auto e = ld.check_keys(kv.second, path, {"values", "file", "store"})) return *e;
        rules::NamedList list;
        list.name = lname;
        if (kv.second["values"]) {
          if (auto e = ld.get_string_list(kv.second["values"], path + ".values", list.values))
            return *e;
        }
        if (const YAML::Node file = kv.second["file"]) {
          if (!file.IsScalar() || file.Scalar().empty()) {
            return ld.error(file, path + ".file", "must be a file path");
          }
          std::filesystem::path p(file.Scalar());
          if (p.is_relative() && !list_dir.empty()) p = std::filesystem::path(list_dir) / p;
          const size_t before = list.values.size();
          if (auto e = load_list_file(ld, file, path + ".file", p.string(), list.values)) return *e;
          for (size_t i = before; i < list.values.size(); ++i) {
            content_hash = fnv1a(list.values[i], fnv1a("\n", content_hash));
          }
        }
        if (const YAML::Node store = kv.second["store"]) {
          bool from_store = false;
          if (!store.IsScalar() || !YAML::convert<bool>::decode(store, from_store)) {
            return ld.error(store, path + ".store",
                            "must be true or false, got '" + Loader::scalar_text(store) + "'");
          }
          if (from_store) {
            if (!store_lists) {
              return ld.error(
                  store, path + ".store",
                  "list '" + lname + "' comes from the store, but no store is available here");
            }
            auto values = store_lists(lname);
            if (!values.ok()) {
              return ld.error(store, path + ".store",
                              "cannot read store list '" + lname +
                                  "': " + values.error().message() +
                                  " (add values with `fraudwatch lists add " + lname + " ...`)");
            }
            set->store_lists_hash_ = rules::fold_store_list(set->store_lists_hash_, lname, *values);
            set->store_lists_.push_back(lname);
            list.values.insert(list.values.end(), values->begin(), values->end());
          }
        }
        lists.push_back(std::move(list));
      }
      // The version covers the store lists' values, so a list change makes a new version.
      if (!set->store_lists_.empty()) {
        content_hash = fnv1a(std::to_string(set->store_lists_hash_), content_hash);
      }
    }

    const YAML::Node rules = root["rules"];
    if (!rules || !rules.IsSequence()) {
      return ld.error("rules", "is required: a list of rules (id, when, score, ...)");
    }
    if (rules.size() > kMaxRules) {
      return ld.error(rules, "rules",
                      fmt::format("has {} rules; the limit is {}", rules.size(), kMaxRules));
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      const YAML::Node rn = rules[i];
      const std::string path = fmt::format("rules[{}]", i);
      if (auto e = ld.check_keys(
              rn, path,
              {"id", "description", "when", "score", "action", "severity", "tags", "enabled"}))
        return *e;
      Rule rule;
      if (!rn["id"] || !rn["id"].IsScalar() || !valid_id(rn["id"].Scalar())) {
        return ld.error(rn, path + ".id",
                        "is required: letters, digits, '_', '-' and '.' (at most 64)");
      }
      rule.id = rn["id"].Scalar();
      for (const Rule& other : set->rules_) {
        if (other.id == rule.id) {
          return ld.error(rn["id"], path + ".id", "duplicate rule id '" + rule.id + "'");
        }
      }
      if (const YAML::Node d = rn["description"]) {
        if (!d.IsScalar()) return ld.error(d, path + ".description", "must be text");
        rule.description = d.Scalar();
      }
      if (const YAML::Node en = rn["enabled"]) {
        bool b = false;
        if (!en.IsScalar() || !YAML::convert<bool>::decode(en, b)) {
          return ld.error(en, path + ".enabled",
                          "must be true or false, got '" + Loader::scalar_text(en) + "'");
        }
        rule.enabled = b;
      }
      if (const YAML::Node act = rn["action"]) {
        auto a = act.IsScalar() ? parse_rule_action(act.Scalar()) : std::nullopt;
        if (!a) {
          return ld.error(
              act, path + ".action",
              "must be one of score, review, block, allow; got '" + Loader::scalar_text(act) + "'");
        }
        rule.action = *a;
      }
      if (rn["score"]) {
        if (auto e = ld.get_number(rn["score"], path + ".score", 0, 1, rule.score)) return *e;
      } else if (rule.action == RuleAction::kScore) {
        return ld.error(rn, path + ".score",
                        "is required for action 'score': a number between 0 and 1");
      }
      if (const YAML::Node sev = rn["severity"]) {
        auto s = sev.IsScalar() ? parse_severity(sev.Scalar()) : std::nullopt;
        if (!s) {
          return ld.error(
              sev, path + ".severity",
              "must be one of low, medium, high, critical; got '" + Loader::scalar_text(sev) + "'");
        }
        rule.severity = *s;
      }
      if (const YAML::Node tags = rn["tags"]) {
        if (auto e = ld.get_string_list(tags, path + ".tags", rule.tags)) return *e;
      }
      const YAML::Node when = rn["when"];
      if (!when || !when.IsScalar()) {
        return ld.error(when ? when : rn, path + ".when",
                        "is required: an expression that is true when the rule fires, e.g. "
                        "'tx_count_1m > 3'");
      }
      rule.expression = when.Scalar();
      rule.line = when.Mark().line + 1;
      rules::CompileError cerr;
      if (!rules::compile_expression(rule.expression, lists, set->program_, rule.compiled, cerr)) {
        auto [line, col] = ld.position(when, rule.expression, cerr.offset);
        return Error{fmt::format("{}:{}:{}", ld.source(), line, col),
                     fmt::format("{} (rule '{}')", cerr.message, rule.id)};
      }
      set->rules_.push_back(std::move(rule));
    }
  } catch (const YAML::Exception& e) {
    return Error{fmt::format("{}:{}:{}", ld.source(), e.mark.line + 1, e.mark.column + 1),
                 "invalid rule set: " + e.msg};
  }
  // The prefilter's checks (see rule_set.h) of each enabled rule: one per top-level guard that
  // compares one value with constants. Guards carry kGuardFlag only at the end of a top-level
  // conjunct that nothing jumps past, so each is reached on every path that returns true.
  std::vector<std::vector<rules::PreCheck>> rule_checks(set->rules_.size());
  std::map<CheckKey, int> uses;  // how many rules have each check
  for (size_t i = 0; i < set->rules_.size(); ++i) {
    const Rule& r = set->rules_[i];
    if (!r.enabled) continue;
    std::vector<rules::PreCheck>& checks = rule_checks[i];
    for (uint32_t pc = r.compiled.start;; ++pc) {
      const rules::Instr& in = set->program_.code[pc];
      if (in.op == rules::Op::kRetTrue || in.op == rules::Op::kRet) break;
      if ((in.flags & rules::kGuardFlag) == 0) continue;
      for (const rules::PreCheck& c : prefilter_checks(set->program_, in)) checks.push_back(c);
    }
    merge_checks(checks);
    for (const rules::PreCheck& c : checks) ++uses[check_key(c)];
  }
  std::vector<rules::PreCheck> firsts;
  for (size_t i = 0; i < set->rules_.size(); ++i) {
    const Rule& r = set->rules_[i];
    if (!r.enabled) continue;
    std::vector<rules::PreCheck>& checks = rule_checks[i];
    order_checks(checks, uses);
    set->pre_more_begin_.push_back(static_cast<uint32_t>(set->pre_more_.size()));
    firsts.push_back(checks[0]);
    set->pre_more_.insert(set->pre_more_.end(), checks.begin() + 1, checks.end());
    // A rule runs only after all its checks passed, and the checks of fused feature and code
    // guards are exact (rule_set.h), so the guards the rule starts with need not run again:
    // they are the first instructions executed, stack-neutral, and nothing jumps to them.
    uint32_t start = r.compiled.start;
    while (exact_guard(set->program_.code[start])) ++start;
    set->active_.push_back(Active{start, static_cast<uint32_t>(i), r.score, r.action});
  }
  set->pre_more_begin_.push_back(static_cast<uint32_t>(set->pre_more_.size()));
  // The first checks as a structure of arrays, padded with checks that never pass.
  const size_t padded = (firsts.size() + kPreBlock - 1) / kPreBlock * kPreBlock;
  set->pre_negate_.assign((padded + 63) / 64, 0);
  for (size_t i = 0; i < padded; ++i) {
    rules::PreCheck c;  // 1 <= x <= 0: never
    c.lo = 1;
    if (i < firsts.size()) c = firsts[i];
    set->pre_lo_.push_back(c.lo);
    set->pre_hi_.push_back(c.hi);
    set->pre_slot_.push_back(c.slot);
    if (c.negate != 0) set->pre_negate_[i / 64] |= uint64_t{1} << (i % 64);
  }
#if FW_PREFILTER_AVX2
  set->wide_prefilter_ = g_wide_prefilter.load(std::memory_order_relaxed) && cpu_has_avx2();
#endif
  const size_t n = set->rules_.size();
  set->hits_ = std::make_unique<ShardHits[]>(kShardSlots);
  for (int s = 0; s < kShardSlots; ++s) {
    ShardHits& h = set->hits_[s];
    h.total = std::make_unique<std::atomic<uint64_t>[]>(std::max<size_t>(n, 1));
    h.hourly = std::make_unique<std::atomic<uint64_t>[]>(std::max<size_t>(n, 1) * kHourBuckets);
    for (auto& b : h.bucket_hour) b.store(INT64_MIN, std::memory_order_relaxed);
  }
  set->version_ =
      fmt::format("{}@{:016x}", set->name_, content_hash).substr(0, set->name_.size() + 13);
  return std::shared_ptr<const RuleSet>(std::move(set));
}

Result<std::shared_ptr<const RuleSet>> RuleSet::from_file(const std::string& path,
                                                          const ListProvider& store_lists) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Error{path, "cannot read the rule set file: " + ec.message()};
  if (size > kMaxRuleSetBytes) {
    return Error{path, fmt::format("the rule set file is {} bytes; the limit is {}", size,
                                   kMaxRuleSetBytes)};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{path, "cannot open the rule set file: check the path and its permissions"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::filesystem::path p(path);
  return from_yaml_string(text.str(), p.filename().string(), p.parent_path().string(), store_lists);
}

std::shared_ptr<const RuleSet> RuleSet::fresh_defaults() {
  auto r = from_yaml_string(rules::kDefaultRulesYaml, "built-in default rules");
  // The default is compiled in and covered by tests; failing here is a programming error.
  if (!r.ok()) std::abort();
  return *r;
}

std::shared_ptr<const RuleSet> RuleSet::defaults() {
  static const std::shared_ptr<const RuleSet> set = fresh_defaults();
  return set;
}

void RuleSet::count_hit(int shard, uint32_t rule, Timestamp ts) const {
  ShardHits& h = hits_[static_cast<unsigned>(shard) % kShardSlots];
  h.total[rule].fetch_add(1, std::memory_order_relaxed);
  const int64_t hour = hour_of(ts);
  const size_t b = static_cast<size_t>(((hour % kHourBuckets) + kHourBuckets) % kHourBuckets);
  const size_t n = rules_.size();
  if (h.bucket_hour[b].load(std::memory_order_relaxed) != hour) {
    // A new hour in this bucket: the single writer clears it before counting into it.
    for (size_t r = 0; r < n; ++r) h.hourly[b * n + r].store(0, std::memory_order_relaxed);
    h.bucket_hour[b].store(hour, std::memory_order_release);
  }
  h.hourly[b * n + rule].fetch_add(1, std::memory_order_relaxed);
}

bool RuleSet::fires(size_t index, const Transaction& tx, const FeatureVector& features) const {
  return program_.run(rules_[index].compiled.start, tx, features);
}

void RuleSet::set_wide_prefilter(bool enabled) {
  g_wide_prefilter.store(enabled, std::memory_order_relaxed);
}

void RuleSet::first_checks(const double* row, uint64_t* pass) const {
  const double* const lo = pre_lo_.data();
  const double* const hi = pre_hi_.data();
  const uint32_t* const slot = pre_slot_.data();
  const size_t padded = pre_lo_.size();
  static_assert(64 % kPreBlock == 0, "a block of checks never straddles two words");
  for (size_t w = 0; w * 64 < padded; ++w) {
    const size_t end = std::min(padded, w * 64 + 64);
    uint64_t bits = 0;
    for (size_t i = w * 64; i < end; i += kPreBlock) {
#if defined(__SSE2__)
      // Two checks per compare; both compares are false for NaN, as the scalar ones are.
      const __m128d x0 = _mm_loadh_pd(_mm_load_sd(row + slot[i]), row + slot[i + 1]);
      const __m128d x1 = _mm_loadh_pd(_mm_load_sd(row + slot[i + 2]), row + slot[i + 3]);
      const __m128d in0 = _mm_and_pd(_mm_cmple_pd(_mm_loadu_pd(lo + i), x0),
                                     _mm_cmple_pd(x0, _mm_loadu_pd(hi + i)));
      const __m128d in1 = _mm_and_pd(_mm_cmple_pd(_mm_loadu_pd(lo + i + 2), x1),
                                     _mm_cmple_pd(x1, _mm_loadu_pd(hi + i + 2)));
      const auto block = static_cast<uint64_t>(_mm_movemask_pd(in0) | (_mm_movemask_pd(in1) << 2));
#else
      uint64_t block = 0;
      for (size_t j = 0; j < kPreBlock; ++j) {
        const double x = row[slot[i + j]];
        block |= static_cast<uint64_t>((x >= lo[i + j]) & (x <= hi[i + j])) << j;
      }
#endif
      bits |= block << (i % 64);
    }
    pass[w] = bits ^ pre_negate_[w];
  }
}

void RuleSet::evaluate(const Transaction& tx, const FeatureVector& features, Decision& out,
                       int shard, const ModelPolicy* model) const {
  out.reasons.clear();
  double keep = 1;
  PolicyInputs in;
  // The prefilter (see rule_set.h), over a row of the features and transaction values: every
  // rule's first check in one branch-free pass, then the further checks of the rules left.
  constexpr size_t kRow = kFeatureCount + static_cast<size_t>(rules::PreTx::kCount);
  double row[kRow];
  std::memcpy(row, features.values.data(), sizeof(double) * kFeatureCount);
  row[kFeatureCount + static_cast<size_t>(rules::PreTx::kType)] = static_cast<double>(tx.type);
  row[kFeatureCount + static_cast<size_t>(rules::PreTx::kChannel)] =
      static_cast<double>(tx.channel);
  row[kFeatureCount + static_cast<size_t>(rules::PreTx::kCurrency)] =
      static_cast<double>(tx.amount.currency.packed());
  row[kFeatureCount + static_cast<size_t>(rules::PreTx::kCountry)] =
      static_cast<double>(tx.country.packed);
  row[kFeatureCount + static_cast<size_t>(rules::PreTx::kAmountMinor)] =
      static_cast<double>(tx.amount.minor);
  // Bit i of pass[i / 64]: rule i's first check passed.
  uint64_t pass[(kMaxRules + 63) / 64];
#if FW_PREFILTER_AVX2
  static_assert(kPreBlock == 4, "the AVX2 pass compares four checks at a time");
  // Called from here, not from first_checks, which would save registers for its own loop.
  if (wide_prefilter_) {
    first_checks_avx2(row, pre_lo_.data(), pre_hi_.data(), pre_slot_.data(), pre_negate_.data(),
                      pre_lo_.size(), pass);
  } else {
    first_checks(row, pass);
  }
#else
  first_checks(row, pass);
#endif
  // The further checks of the few rules left, each rule's checks in order, in rule order. A
  // rule stops at its first false check: most rules left fail their second check, and a
  // branch per check costs less than evaluating them all.
  uint32_t live[kMaxRules];
  uint32_t starts[kMaxRules];
  uint32_t fired[kMaxRules];
  const rules::PreCheck* const more = pre_more_.data();
  const uint32_t* const more_begin = pre_more_begin_.data();
  size_t nl = 0;
  for (size_t w = 0; w < pre_negate_.size(); ++w) {
    for (uint64_t bits = pass[w]; bits != 0; bits &= bits - 1) {
      const auto i = static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
      const rules::PreCheck* c = more + more_begin[i];
      const rules::PreCheck* const end = more + more_begin[i + 1];
      for (; c != end; ++c) {
        const double x = row[c->slot];
        if ((static_cast<uint32_t>(x >= c->lo) & static_cast<uint32_t>(x <= c->hi)) == c->negate) {
          break;
        }
      }
      live[nl] = i;
      starts[nl] = active_[i].start;
      nl += c == end ? 1 : 0;
    }
  }
  const size_t k = program_.run_many(starts, nl, tx, features, fired);
  for (size_t j = 0; j < k; ++j) {
    const Active& a = active_[live[fired[j]]];
    const Rule& r = rules_[a.index];
    switch (a.action) {
      case RuleAction::kBlock:
        in.force_block = true;
        break;
      case RuleAction::kReview:
        in.force_review = true;
        break;
      case RuleAction::kAllow:
        in.allow_listed = true;
        break;
      case RuleAction::kScore:
        break;
    }
    if (a.action != RuleAction::kAllow) keep = combine_keep(keep, a.score);
    Reason& reason = out.reasons.emplace_back();
    reason.rule_id = r.id;
    reason.score = a.action == RuleAction::kAllow ? 0 : a.score;
    reason.detail = rules::describe_values(r.compiled, tx, features);
    count_hit(shard, a.index, tx.ts);
  }
  in.rule_score = 1 - keep;
  if (model != nullptr) {
    in.model_score = features[ScoreSlot::kModelScore];
    in.anomaly_score = features[ScoreSlot::kAnomalyScore];
  }
  const PolicyDecision d = model != nullptr ? decide(in, policy_, *model) : decide(in, policy_);
  out.score = d.score;
  out.action = d.action;
  // A reused Decision usually holds this version already: comparing is cheaper than copying.
  if (out.rule_set_version != version_) out.rule_set_version = version_;
}

std::vector<RuleHits> RuleSet::hits() const {
  const size_t n = rules_.size();
  std::vector<RuleHits> out(n);
  int64_t newest = INT64_MIN;
  for (int s = 0; s < kShardSlots; ++s) {
    for (const auto& b : hits_[s].bucket_hour) {
      newest = std::max(newest, b.load(std::memory_order_acquire));
    }
  }
  for (size_t r = 0; r < n; ++r) {
    out[r].id = rules_[r].id;
    std::vector<uint64_t> per_hour(kHourBuckets, 0);  // index 0 = newest - 23
    for (int s = 0; s < kShardSlots; ++s) {
      const ShardHits& h = hits_[s];
      out[r].total += h.total[r].load(std::memory_order_relaxed);
      for (size_t b = 0; b < static_cast<size_t>(kHourBuckets); ++b) {
        const int64_t hour = h.bucket_hour[b].load(std::memory_order_acquire);
        if (hour == INT64_MIN || hour > newest || hour <= newest - kHourBuckets) continue;
        per_hour[static_cast<size_t>(hour - (newest - kHourBuckets + 1))] +=
            h.hourly[b * n + r].load(std::memory_order_relaxed);
      }
    }
    if (newest == INT64_MIN) continue;
    out[r].last_hour = per_hour.back();
    for (size_t i = 0; i < per_hour.size(); ++i) {
      if (per_hour[i] == 0) continue;
      const int64_t hour = newest - kHourBuckets + 1 + static_cast<int64_t>(i);
      out[r].per_hour.emplace_back(hour * kMicrosPerHour, per_hour[i]);
    }
  }
  return out;
}

}  // namespace fw
