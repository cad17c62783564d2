// RuleSet: a named, versioned set of declarative rules loaded from YAML (config/rules.yaml,
// docs/rules.md). Each rule's `when` expression is compiled once at load into a flat Program
// (rules/compiler.h); a rule set that fails to parse or type-check is rejected whole, with
// file:line:column errors. Immutable after load (except its hit counters) and shared by all
// shards through shared_ptr<const RuleSet>; evaluate() is const and thread-safe. A reload
// builds a new RuleSet and swaps the pointer (Engine::set_rules).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "features/schema.h"
#include "model/decision.h"
#include "model/transaction.h"
#include "rules/compiler.h"
#include "rules/decision_policy.h"
#include "rules/program.h"

namespace fw {

// What a rule does when it fires (see decision_policy.h for the precedence).
enum class RuleAction : uint8_t {
  kScore,   // adds its score to the combined score
  kReview,  // forces at least REVIEW (and adds its score)
  kBlock,   // forces BLOCK (and adds its score)
  kAllow,   // allow-list override: the decision is ALLOW unless a block rule fired
};
std::string_view to_string(RuleAction a);

enum class Severity : uint8_t { kLow, kMedium, kHigh, kCritical };
std::string_view to_string(Severity s);

struct Rule {
  std::string id;
  std::string description;
  std::string expression;  // the `when` text as written
  bool enabled = true;
  double score = 0;  // contribution in [0, 1]
  RuleAction action = RuleAction::kScore;
  Severity severity = Severity::kMedium;
  std::vector<std::string> tags;
  int line = 0;  // 1-based position of `when` in the source, for tools
  rules::CompiledExpr compiled;
};

// Hits of one rule, merged over shards.
struct RuleHits {
  std::string id;
  uint64_t total = 0;
  uint64_t last_hour = 0;  // in the newest hour any transaction was scored in
  // The last 24 hours (by transaction time) that saw hits: (hour start, hits), oldest first.
  std::vector<std::pair<Timestamp, uint64_t>> per_hour;
};

namespace rules {
// One prefilter check of RuleSet (see RuleSet::pre_lo_): passes when lo <= x <= hi, or,
// with negate, when not. x is slot of the values row: the features, then (from
// kFeatureCount on) the transaction values of PreTx. Plain data, built at load.
struct PreCheck {
  double lo = 0, hi = 0;
  uint32_t slot = 0;
  uint32_t negate = 0;
};
// The transaction values after the features in the prefilter's row: the enumerated codes as
// Program::tx_code gives them (same order as TxCode), then the amount in minor units.
enum class PreTx : uint16_t { kType, kChannel, kCurrency, kCountry, kAmountMinor, kCount };
}  // namespace rules

// Supplies the lists a rule file declares with `store: true` (the application reads them from
// its Store, so the rules module does not depend on storage). Returns the list's values, or an
// error (e.g. the list does not exist). Called while a rule set loads and, by RuleReloader, about
// once a second to notice list changes; must be thread-safe.
using ListProvider = std::function<Result<std::vector<std::string>>(const std::string& name)>;

namespace rules {
// Folds one store list into a fingerprint (RuleSet::store_lists_hash, RuleReloader::poll).
uint64_t fold_store_list(uint64_t fingerprint, std::string_view name,
                         const std::vector<std::string>& values);
// The fingerprint of `names` as `provider` gives them now (an unreadable list folds its error).
uint64_t store_lists_fingerprint(const std::vector<std::string>& names,
                                 const ListProvider& provider);
}  // namespace rules

class RuleSet {
 public:
  // Parses, checks and compiles a rule set. source_name names the input in errors
  // ("rules.yaml:12:18: unknown name 'amout'; did you mean 'amount'?"). list_dir is where
  // `lists: {x: {file: ...}}` paths are resolved (the rule file's directory; empty = cwd).
  static Result<std::shared_ptr<const RuleSet>> from_yaml_string(
      std::string_view yaml, std::string_view source_name, const std::string& list_dir = "",
      const ListProvider& store_lists = {});
  // store_lists supplies `lists: {x: {store: true}}`; without it such a list is an error.
  static Result<std::shared_ptr<const RuleSet>> from_file(const std::string& path,
                                                          const ListProvider& store_lists = {});
  // The built-in default, identical to config/rules.yaml. Parsed once; never fails.
  static std::shared_ptr<const RuleSet> defaults();
  // A fresh copy of the built-in default (own hit counters), for tests and backtests.
  static std::shared_ptr<const RuleSet> fresh_defaults();
  // The text of the built-in default rule set.
  static std::string_view default_yaml();

  // Fills out.score, out.action, out.reasons and out.rule_set_version, and counts hits in the
  // counters of `shard` (the calling shard's index; shards must not share an index unless they
  // accept approximate per-hour counts). Allocates nothing when no rule fires and `out` is
  // reused; allocates only the reasons of fired rules.
  // With `model` (the engine, when a model or forest is loaded), the score slots of `features`
  // (model_score, anomaly_score) join the decision under that policy (decision_policy.h).
  void evaluate(const Transaction& tx, const FeatureVector& features, Decision& out, int shard = 0,
                const ModelPolicy* model = nullptr) const;

  // Whether rule `index` (in rules() order) fires, without side effects. For tools.
  bool fires(size_t index, const Transaction& tx, const FeatureVector& features) const;

  // Hit counts per rule since this rule set was loaded, merged over shards. Thread-safe; may
  // lag the shard threads by a few transactions.
  std::vector<RuleHits> hits() const;

  // "<name>@<first 12 hex digits of a 64-bit hash of the YAML text and its lists>".
  const std::string& version() const { return version_; }
  const std::string& name() const { return name_; }
  const std::vector<Rule>& rules() const { return rules_; }
  double review_at() const { return policy_.review_at; }
  double block_at() const { return policy_.block_at; }
  const DecisionPolicy& policy() const { return policy_; }
  // The lists this set read from the store (`store: true`), in file order, and the fingerprint
  // (rules::fold_store_list) of the values it loaded; RuleReloader reloads when it changes.
  const std::vector<std::string>& store_lists() const { return store_lists_; }
  uint64_t store_lists_hash() const { return store_lists_hash_; }

  // Whether rule sets loaded from now on may run their first prefilter pass with AVX2 when
  // the CPU has it (the default; release builds target plain x86-64 and pick it at load).
  // Both passes give the same bits; tests turn it off to check the portable one. Thread-safe.
  static void set_wide_prefilter(bool enabled);
  // Whether this rule set runs the AVX2 pass.
  bool wide_prefilter() const { return wide_prefilter_; }

  // Hit counters keep this many shard slots; shard i uses slot i % kShardSlots.
  static constexpr int kShardSlots = 16;
  static constexpr int kHourBuckets = 24;

 private:
  RuleSet() = default;

  struct Active {
    // Where evaluate() runs the rule from: its entry point past the leading guards that the
    // prefilter decides exactly (a rule made only of such guards starts at its kRetTrue).
    uint32_t start;
    uint32_t index;  // in rules_
    double score;
    RuleAction action;
  };
  // Counters of one shard slot: one writer (the shard thread), readers merge.
  struct alignas(64) ShardHits {
    std::unique_ptr<std::atomic<uint64_t>[]> total;                // per rule
    std::unique_ptr<std::atomic<uint64_t>[]> hourly;               // kHourBuckets x rules
    std::array<std::atomic<int64_t>, kHourBuckets> bucket_hour{};  // hour number in each bucket
  };
  void count_hit(int shard, uint32_t rule, Timestamp ts) const;
  // The prefilter's first pass (portable; evaluate runs the AVX2 one instead when it can): sets
  // bit i of pass[i / 64] when rule i's first check passes on `row` (see evaluate). Writes
  // pre_negate_.size() words.
  void first_checks(const double* row, uint64_t* pass) const;

  std::string name_;
  std::string version_;
  std::vector<Rule> rules_;  // in file order; disabled rules are kept but skipped
  std::vector<Active> active_;
  // Prefilter (see evaluate and docs/adr/0006): every top-level guard of a rule that compares
  // one value with constants (a feature, an enumerated code, the amount) is also kept here as
  // a check "lo <= x <= hi" (or its negation). A check is true whenever its guard is (it may
  // be true more often, e.g. money compared as a double), so a rule with a false check cannot
  // fire. evaluate() tests every rule's first check in one branch-free pass that yields a bit
  // per rule (structure of arrays, two rules per SSE2 compare or four per AVX2 compare with a
  // gather when the CPU has it, see wide_prefilter_: pre_lo_[i], pre_hi_[i] and
  // pre_slot_[i] are rule i's first check, padded to a multiple of kPreBlock with checks that
  // never pass; bit i of pre_negate_ negates it), then the further checks of the rules left
  // (pre_more_[pre_more_begin_[i] .. pre_more_begin_[i + 1])), and runs only the rules that
  // pass them all, stopping at a rule's first false check. A rule's checks are ordered so the
  // first is the one fewest rules share (then by shape; see order_checks in rule_set.cc). A
  // rule without such a guard has an always-true first check.
  static constexpr size_t kPreBlock = 4;
  std::vector<double> pre_lo_;
  std::vector<double> pre_hi_;
  std::vector<uint32_t> pre_slot_;
  std::vector<uint64_t> pre_negate_;  // one bit per rule, 64 rules a word
  std::vector<rules::PreCheck> pre_more_;
  std::vector<uint32_t> pre_more_begin_;  // active_.size() + 1 entries
  bool wide_prefilter_ = false;           // first_checks uses AVX2 (set_wide_prefilter)
  rules::Program program_;
  DecisionPolicy policy_;
  std::unique_ptr<ShardHits[]> hits_;  // kShardSlots
  std::vector<std::string> store_lists_;
  uint64_t store_lists_hash_ = 0;
};

}  // namespace fw
