#include "rules/rule_set.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace fw {
namespace {

// Keep identical to config/rules.yaml (a test checks it).
constexpr std::string_view kDefaultYaml =
    R"(# fraudwatch default rule set: the first, compiled-in rules.
# Reference: docs/rules.md. Unknown keys and unknown rule ids are errors.
name: default

# combined score = 1 - prod(1 - score) over the rules that fired.
policy:
  review_at: 0.5   # REVIEW at or above this score
  block_at: 0.9    # BLOCK at or above this score

rules:
  - id: large_amount
    description: Amount above a fixed threshold in the transaction's currency
    enabled: true
    score: 0.6
    params:
      threshold: 10000          # major units, compared exactly in minor units
      currency_thresholds:      # overrides for currencies where 10000 means something else
        JPY: 1500000
        KRW: 14000000

  - id: velocity
    description: More than max_count transactions on the account within 60 seconds
    enabled: true
    score: 0.5
    params:
      max_count: 3

  - id: unusual_hour
    description: Transaction at an unusual local hour
    enabled: true
    score: 0.2
    params:
      from_hour: 1    # inclusive, local time
      to_hour: 5      # exclusive

  - id: impossible_travel
    description: Implied travel speed or a country change that no traveller achieves
    enabled: true
    score: 0.8
    params:
      max_speed_kmh: 900
      min_distance_km: 50
      country_change_minutes: 60
)";

constexpr std::array<std::string_view, kRuleKindCount> kKindIds = {
    "large_amount", "velocity", "unusual_hour", "impossible_travel"};

// Scores are products of doubles; a combined score within this of a threshold counts as
// reaching it (1 - 0.5 * 0.2 must be 0.9).
constexpr double kScoreEpsilon = 1e-9;

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
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

// Walks a parsed YAML document, producing errors that name the source and the key path.
class Loader {
 public:
  explicit Loader(std::string_view source) : source_(source) {}

  Error error(const std::string& path, std::string reason) const {
    return Error{path.empty() ? source_ : source_ + ": " + path, std::move(reason)};
  }

  // Rejects keys of `map` that are not in `allowed`.
  std::optional<Error> check_keys(const YAML::Node& map, const std::string& path,
                                  std::initializer_list<std::string_view> allowed) const {
    if (!map.IsMap()) return error(path, "must be a mapping");
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || a == key;
      if (!ok) {
        return error(path.empty() ? key : path + "." + key,
                     "unknown key '" + key + "' (expected one of: " + join(allowed) + ")");
      }
    }
    return std::nullopt;
  }

  std::optional<Error> get_number(const YAML::Node& n, const std::string& path, double lo,
                                  double hi, double& out) const {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
      return error(path, "must be a number, got '" + scalar_text(n) + "'");
    }
    if (v < lo || v > hi) {
      return error(path, fmt::format("must be between {} and {}, got {}", lo, hi, v));
    }
    out = v;
    return std::nullopt;
  }

  std::optional<Error> get_int(const YAML::Node& n, const std::string& path, int lo, int hi,
                               int& out) const {
    long long v = 0;
    if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v)) {
      return error(path, "must be a whole number, got '" + scalar_text(n) + "'");
    }
    if (v < lo || v > hi) {
      return error(path, fmt::format("must be between {} and {}, got {}", lo, hi, v));
    }
    out = static_cast<int>(v);
    return std::nullopt;
  }

  // A positive decimal amount in major units with at most 3 decimals, as thousandths.
  std::optional<Error> get_amount_milli(const YAML::Node& n, const std::string& path,
                                        int64_t& out) const {
    std::string text = n.IsScalar() ? n.Scalar() : "";
    // KWD has exactly three decimals, so this parses thousandths of a major unit exactly.
    auto milli = parse_decimal_amount(text, Currency::of("KWD"));
    if (!n.IsScalar() || !milli.ok()) {
      return error(path, "must be a decimal amount in major units with at most 3 decimals, got '" +
                             scalar_text(n) + "'");
    }
    if (*milli <= 0) return error(path, "must be positive, got " + text);
    out = *milli;
    return std::nullopt;
  }

  static std::string scalar_text(const YAML::Node& n) {
    if (n.IsScalar()) return n.Scalar();
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    return "nothing";
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

std::optional<Error> parse_params(const Loader& ld, const YAML::Node& node, const std::string& path,
                                  RuleKind kind, RuleParams& p) {
  switch (kind) {
    case RuleKind::kLargeAmount: {
      if (auto e = ld.check_keys(node, path, {"threshold", "currency_thresholds"})) return e;
      if (node["threshold"]) {
        if (auto e = ld.get_amount_milli(node["threshold"], path + ".threshold", p.threshold_milli))
          return e;
      }
      if (const YAML::Node ct = node["currency_thresholds"]) {
        const std::string cpath = path + ".currency_thresholds";
        if (!ct.IsMap()) return ld.error(cpath, "must be a mapping of currency code to amount");
        for (const auto& kv : ct) {
          std::string code = kv.first.Scalar();
          auto cur = Currency::parse(code);
          if (!cur.ok()) return ld.error(cpath + "." + code, cur.error().reason);
          int64_t milli = 0;
          if (auto e = ld.get_amount_milli(kv.second, cpath + "." + code, milli)) return e;
          p.currency_threshold_milli.emplace_back(*cur, milli);
        }
      }
      return std::nullopt;
    }
    case RuleKind::kVelocity: {
      if (auto e = ld.check_keys(node, path, {"max_count"})) return e;
      // The exact 1-minute window remembers 9 transactions, so 8 is the largest usable limit.
      if (node["max_count"]) {
        if (auto e = ld.get_int(node["max_count"], path + ".max_count", 1, 8, p.max_count))
          return e;
      }
      return std::nullopt;
    }
    case RuleKind::kUnusualHour: {
      if (auto e = ld.check_keys(node, path, {"from_hour", "to_hour"})) return e;
      if (node["from_hour"]) {
        if (auto e = ld.get_int(node["from_hour"], path + ".from_hour", 0, 23, p.from_hour))
          return e;
      }
      if (node["to_hour"]) {
        if (auto e = ld.get_int(node["to_hour"], path + ".to_hour", 0, 24, p.to_hour)) return e;
      }
      if (p.from_hour % 24 == p.to_hour % 24) {
        return ld.error(path + ".to_hour",
                        fmt::format("must differ from from_hour ({}): the range would be empty "
                                    "or the whole day",
                                    p.from_hour));
      }
      return std::nullopt;
    }
    case RuleKind::kImpossibleTravel: {
      if (auto e = ld.check_keys(node, path,
                                 {"max_speed_kmh", "min_distance_km", "country_change_minutes"}))
        return e;
      if (node["max_speed_kmh"]) {
        if (auto e = ld.get_number(node["max_speed_kmh"], path + ".max_speed_kmh", 1, 1e6,
                                   p.max_speed_kmh))
          return e;
      }
      if (node["min_distance_km"]) {
        if (auto e = ld.get_number(node["min_distance_km"], path + ".min_distance_km", 0, 20100,
                                   p.min_distance_km))
          return e;
      }
      if (node["country_change_minutes"]) {
        double minutes = 0;
        if (auto e = ld.get_number(node["country_change_minutes"], path + ".country_change_minutes",
                                   0, 1440, minutes))
          return e;
        p.country_change_seconds = minutes * 60;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<RuleKind> find_kind(std::string_view id) {
  for (size_t i = 0; i < kKindIds.size(); ++i) {
    if (kKindIds[i] == id) return static_cast<RuleKind>(i);
  }
  return std::nullopt;
}

// "20 min", "45 s", "3.5 h".
std::string format_duration(double seconds) {
  if (seconds < 120) return fmt::format("{:.0f} s", seconds);
  if (seconds < 2 * 3600) return fmt::format("{:.0f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

int64_t threshold_milli_for(const RuleParams& p, Currency c) {
  for (const auto& [cur, milli] : p.currency_threshold_milli) {
    if (cur == c) return milli;
  }
  return p.threshold_milli;
}

// Whether the rule fires; when it does and `detail` is non-null, writes the human-readable
// detail. The check itself never allocates.
bool check(const Rule& r, const Transaction& tx, const FeatureVector& f, std::string* detail) {
  const RuleParams& p = r.params;
  switch (r.kind) {
    case RuleKind::kLargeAmount: {
      const int64_t milli = threshold_milli_for(p, tx.amount.currency);
      const int64_t per_major = tx.amount.currency.minor_per_major();
      // amount_minor / per_major > milli / 1000, exactly, without overflow.
      const bool fired =
          static_cast<__int128>(tx.amount.minor) * 1000 > static_cast<__int128>(milli) * per_major;
      if (fired && detail) {
        const std::string code = tx.amount.currency.code();
        std::string threshold =
            milli * per_major % 1000 == 0
                ? format_decimal_amount(milli * per_major / 1000, tx.amount.currency)
                : fmt::format("{:.3f}", static_cast<double>(milli) / 1000);
        *detail = fmt::format("amount {} {} above {} {}",
                              format_decimal_amount(tx.amount.minor, tx.amount.currency), code,
                              threshold, code);
      }
      return fired;
    }
    case RuleKind::kVelocity: {
      const double n = f[FeatureId::kTxCount1m];
      const bool fired = n > p.max_count;
      if (fired && detail) {
        *detail = fmt::format("{:.0f} transactions in 60 s (limit {})", n, p.max_count);
      }
      return fired;
    }
    case RuleKind::kUnusualHour: {
      const int h = static_cast<int>(f[FeatureId::kLocalHour]);
      const bool fired = p.from_hour < p.to_hour ? h >= p.from_hour && h < p.to_hour
                                                 : h >= p.from_hour || h < p.to_hour;
      if (fired && detail) {
        *detail = fmt::format(
            "local hour {:02d}:00-{:02d}:59 is in the unusual hours {:02d}:00-{:02d}:00", h, h,
            p.from_hour, p.to_hour);
      }
      return fired;
    }
    case RuleKind::kImpossibleTravel: {
      const double km = f[FeatureId::kDistanceFromPrevKm];
      const double kmh = f[FeatureId::kSpeedFromPrevKmh];
      const bool speed =
          f[FeatureId::kHasPrevLocation] != 0 && km >= p.min_distance_km && kmh > p.max_speed_kmh;
      const double since_other = f[FeatureId::kSecondsSinceOtherCountry];
      const bool country = since_other >= 0 && since_other < p.country_change_seconds;
      if ((speed || country) && detail) {
        detail->clear();
        if (speed) {
          *detail += fmt::format(
              "{:.0f} km from the previous transaction {} earlier: {:.0f} km/h (limit {:.0f} km/h)",
              km, format_duration(f[FeatureId::kSecondsSincePrevLocated]), kmh, p.max_speed_kmh);
        }
        if (country) {
          if (speed) *detail += "; ";
          *detail += fmt::format("in {} {} after a transaction in another country (limit {})",
                                 tx.country.code(), format_duration(since_other),
                                 format_duration(p.country_change_seconds));
        }
      }
      return speed || country;
    }
  }
  return false;
}

}  // namespace

std::string_view rule_kind_id(RuleKind kind) { return kKindIds[static_cast<size_t>(kind)]; }

std::string_view RuleSet::default_yaml() { return kDefaultYaml; }

Result<std::shared_ptr<const RuleSet>> RuleSet::from_yaml_string(std::string_view yaml,
                                                                 std::string_view source_name) {
  Loader ld(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return ld.error("", fmt::format("invalid YAML at line {}, column {}: {}", e.mark.line + 1,
                                    e.mark.column + 1, e.msg));
  }
  std::shared_ptr<RuleSet> set(new RuleSet());
  try {
    if (auto e = ld.check_keys(root, "", {"name", "policy", "rules"})) return *e;
    const YAML::Node name = root["name"];
    if (!name || !name.IsScalar() || name.Scalar().empty()) {
      return ld.error("name", "is required: a short name for this rule set, e.g. 'default'");
    }
    for (char c : name.Scalar()) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
        return ld.error("name", "may contain only letters, digits, '_', '-' and '.', got '" +
                                    name.Scalar() + "'");
      }
    }
    set->name_ = name.Scalar();

    if (const YAML::Node policy = root["policy"]) {
      if (auto e = ld.check_keys(policy, "policy", {"review_at", "block_at"})) return *e;
      if (policy["review_at"]) {
        if (auto e = ld.get_number(policy["review_at"], "policy.review_at", 0, 1, set->review_at_))
          return *e;
      }
      if (policy["block_at"]) {
        if (auto e = ld.get_number(policy["block_at"], "policy.block_at", 0, 1, set->block_at_))
          return *e;
      }
      if (set->review_at_ > set->block_at_) {
        return ld.error("policy.review_at", fmt::format("must not be above block_at ({}), got {}",
                                                        set->block_at_, set->review_at_));
      }
    }

    const YAML::Node rules = root["rules"];
    if (!rules || !rules.IsSequence()) {
      return ld.error("rules", "is required: a list of rules (id, score, ...)");
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      const YAML::Node rn = rules[i];
      const std::string path = fmt::format("rules[{}]", i);
      if (auto e = ld.check_keys(rn, path,
                                 {"id", "description", "enabled", "score", "action", "params"}))
        return *e;
      Rule rule;
      if (!rn["id"] || !rn["id"].IsScalar()) {
        return ld.error(path + ".id",
                        "is required (one of: " +
                            join({kKindIds[0], kKindIds[1], kKindIds[2], kKindIds[3]}) + ")");
      }
      rule.id = rn["id"].Scalar();
      auto kind = find_kind(rule.id);
      if (!kind) {
        return ld.error(path + ".id",
                        "unknown rule id '" + rule.id + "' (known: " +
                            join({kKindIds[0], kKindIds[1], kKindIds[2], kKindIds[3]}) + ")");
      }
      for (const Rule& other : set->rules_) {
        if (other.id == rule.id) {
          return ld.error(path + ".id", "duplicate rule id '" + rule.id + "'");
        }
      }
      rule.kind = *kind;
      if (rn["description"]) rule.description = rn["description"].Scalar();
      if (const YAML::Node en = rn["enabled"]) {
        bool b = false;
        if (!en.IsScalar() || !YAML::convert<bool>::decode(en, b)) {
          return ld.error(path + ".enabled",
                          "must be true or false, got '" + Loader::scalar_text(en) + "'");
        }
        rule.enabled = b;
      }
      if (!rn["score"]) return ld.error(path + ".score", "is required: a number between 0 and 1");
      if (auto e = ld.get_number(rn["score"], path + ".score", 0, 1, rule.score)) return *e;
      if (const YAML::Node act = rn["action"]) {
        std::string a = act.IsScalar() ? act.Scalar() : "";
        if (a == "review") {
          rule.force = Action::kReview;
        } else if (a == "block") {
          rule.force = Action::kBlock;
        } else {
          return ld.error(path + ".action",
                          "must be 'review' or 'block', got '" + Loader::scalar_text(act) + "'");
        }
      }
      if (const YAML::Node params = rn["params"]) {
        if (auto e = parse_params(ld, params, path + ".params", rule.kind, rule.params)) return *e;
      }
      set->rules_.push_back(std::move(rule));
    }
  } catch (const YAML::Exception& e) {
    return ld.error("", fmt::format("invalid rule set at line {}, column {}: {}", e.mark.line + 1,
                                    e.mark.column + 1, e.msg));
  }
  set->version_ =
      fmt::format("{}@{:016x}", set->name_, fnv1a(yaml)).substr(0, set->name_.size() + 13);
  return std::shared_ptr<const RuleSet>(std::move(set));
}

Result<std::shared_ptr<const RuleSet>> RuleSet::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{path, "cannot open the rule set file: check the path and its permissions"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string name = path;
  if (auto slash = name.find_last_of('/'); slash != std::string::npos)
    name = name.substr(slash + 1);
  return from_yaml_string(text.str(), name);
}

std::shared_ptr<const RuleSet> RuleSet::defaults() {
  static const std::shared_ptr<const RuleSet> set = [] {
    auto r = from_yaml_string(kDefaultYaml, "built-in default rules");
    // The default is compiled in and covered by tests; failing here is a programming error.
    if (!r.ok()) std::abort();
    return *r;
  }();
  return set;
}

void RuleSet::evaluate(const Transaction& tx, const FeatureVector& features, Decision& out) const {
  out.reasons.clear();
  double keep = 1;
  bool force_block = false;
  bool force_review = false;
  for (const Rule& r : rules_) {
    if (!r.enabled || !check(r, tx, features, nullptr)) continue;
    keep *= 1 - r.score;
    force_block = force_block || r.force == Action::kBlock;
    force_review = force_review || r.force == Action::kReview;
    Reason& reason = out.reasons.emplace_back();
    reason.rule_id = r.id;
    reason.score = r.score;
    check(r, tx, features, &reason.detail);
  }
  out.score = 1 - keep;
  if (force_block || out.score >= block_at_ - kScoreEpsilon) {
    out.action = Action::kBlock;
  } else if (force_review || out.score >= review_at_ - kScoreEpsilon) {
    out.action = Action::kReview;
  } else {
    out.action = Action::kAllow;
  }
  out.rule_set_version = version_;
}

}  // namespace fw
