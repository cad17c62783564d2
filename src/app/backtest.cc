// `fraudwatch backtest`: what would a candidate rule set have done on this history? Replays the
// history twice through the engine (the replay path of history_replay.h): first with the
// current rule set, recording each transaction's action, then with the candidate, counting per
// candidate rule its hits, precision and recall against labels, its overlap with the other
// rules, and the transactions whose action changes. Prints a table; --json writes everything.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "app/commands.h"
#include "app/history_replay.h"
#include "app/setup.h"

namespace fw {
namespace {

// Maps (batch seq, position in batch) back to the transaction's index in the history.
class BatchIndex {
 public:
  void add(uint64_t seq, uint64_t first) {
    std::lock_guard lock(mu_);
    if (first_.size() <= seq) first_.resize(seq + 1, 0);
    first_[seq] = first;
  }
  uint64_t first(uint64_t seq) const {
    std::lock_guard lock(mu_);
    return seq < first_.size() ? first_[seq] : 0;
  }

 private:
  mutable std::mutex mu_;
  std::vector<uint64_t> first_;  // guarded by mu_
};

// Pass 1: the current rule set's action per transaction.
class ActionRecorder final : public DecisionSink {
 public:
  explicit ActionRecorder(const BatchIndex& index) : index_(index) {}
  void consume(ScoredBatch&& batch) override {
    const uint64_t first = index_.first(batch.seq);
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < batch.scored.size(); ++i) {
      const uint64_t at = first + batch.positions[i];
      if (actions_.size() <= at) actions_.resize(at + 1, 0xff);
      actions_[at] = static_cast<uint8_t>(batch.scored[i].decision.action);
    }
  }
  std::vector<uint8_t> take() { return std::move(actions_); }

 private:
  const BatchIndex& index_;
  std::mutex mu_;
  std::vector<uint8_t> actions_;  // guarded by mu_; 0xff = not scored
};

struct ChangedTx {
  uint64_t index = 0;
  std::string id;
  Action before = Action::kAllow;
  Action after = Action::kAllow;
  Label label = Label::kUnknown;
  double score = 0;
  std::string reasons;
};

struct RuleTally {
  uint64_t hits = 0, hits_fraud = 0, hits_legit = 0;
};

// Pass 2: the candidate's decisions, compared with pass 1.
class Comparer final : public DecisionSink {
 public:
  Comparer(const BatchIndex& index, const std::vector<uint8_t>& before, size_t rules,
           size_t keep_changes)
      : index_(index),
        before_(before),
        tally_(rules),
        overlap_(rules * rules, 0),
        keep_changes_(keep_changes) {}

  void set_rule_index(std::unordered_map<std::string, size_t> ids) { ids_ = std::move(ids); }

  void consume(ScoredBatch&& batch) override {
    const uint64_t first = index_.first(batch.seq);
    std::lock_guard lock(mu_);
    std::vector<size_t> fired;
    for (size_t i = 0; i < batch.scored.size(); ++i) {
      const Scored& s = batch.scored[i];
      const uint64_t at = first + batch.positions[i];
      ++transactions_;
      const Label label = s.tx.label;
      if (label == Label::kFraud) ++fraud_;
      if (label == Label::kLegit) ++legit_;
      fired.clear();
      for (const Reason& r : s.decision.reasons) {
        auto it = ids_.find(r.rule_id);
        if (it != ids_.end()) fired.push_back(it->second);
      }
      for (size_t a : fired) {
        RuleTally& t = tally_[a];
        ++t.hits;
        if (label == Label::kFraud) ++t.hits_fraud;
        if (label == Label::kLegit) ++t.hits_legit;
        for (size_t b : fired) overlap_[a * tally_.size() + b]++;
      }
      const Action after = s.decision.action;
      const bool flagged = after != Action::kAllow;
      if (label == Label::kFraud) (flagged ? tp_ : fn_)++;
      if (label == Label::kLegit) (flagged ? fp_ : tn_)++;
      const uint8_t b = at < before_.size() ? before_[at] : 0xff;
      if (b == 0xff) continue;
      const Action before = static_cast<Action>(b);
      const bool was_flagged = before != Action::kAllow;
      if (label == Label::kFraud && was_flagged) ++tp_before_;
      if (label == Label::kLegit && was_flagged) ++fp_before_;
      if (before == after) continue;
      ++changes_[static_cast<int>(before)][static_cast<int>(after)];
      if (changed_.size() < keep_changes_) {
        ChangedTx c{at, s.tx.id, before, after, label, s.decision.score, {}};
        for (const Reason& r : s.decision.reasons) {
          if (!c.reasons.empty()) c.reasons += "; ";
          c.reasons += r.rule_id;
        }
        changed_.push_back(std::move(c));
      }
    }
  }

  // Everything below is read after the engine stopped (no lock needed then, but cheap).
  std::mutex mu_;
  const BatchIndex& index_;
  const std::vector<uint8_t>& before_;
  std::unordered_map<std::string, size_t> ids_;
  std::vector<RuleTally> tally_;
  std::vector<uint64_t> overlap_;  // [a * n + b]: transactions both a and b fired on
  size_t keep_changes_;
  uint64_t transactions_ = 0, fraud_ = 0, legit_ = 0;
  uint64_t tp_ = 0, fp_ = 0, fn_ = 0, tn_ = 0, tp_before_ = 0, fp_before_ = 0;
  uint64_t changes_[3][3] = {};
  std::vector<ChangedTx> changed_;
};

std::optional<double> ratio(uint64_t num, uint64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

std::string fmt_ratio(std::optional<double> r) { return r ? fmt::format("{:.3f}", *r) : "-"; }

nlohmann::json json_ratio(std::optional<double> r) {
  return r ? nlohmann::json(*r) : nlohmann::json(nullptr);
}

}  // namespace

int run_backtest(const BacktestOptions& options) {
  const AppConfig& cfg = options.config;
  auto candidate = RuleSet::from_file(options.rules);
  if (!candidate.ok()) {
    spdlog::error("candidate rules: {}", candidate.error().message());
    return 2;
  }
  std::shared_ptr<const RuleSet> current;
  if (options.current.empty()) {
    current = RuleSet::fresh_defaults();
  } else {
    auto c = RuleSet::from_file(options.current);
    if (!c.ok()) {
      spdlog::error("current rules: {}", c.error().message());
      return 2;
    }
    current = *c;
  }
  HistoryInput input{.input = options.input,
                     .mapping = options.mapping,
                     .labels = options.labels,
                     .dead_letters = "",
                     .what = "backtest (current rules)",
                     .quiet = options.quiet};

  BatchIndex index1;
  ActionRecorder recorder(index1);
  HistoryReplayResult run1;
  if (int rc =
          replay_history(input, cfg, current, recorder, run1,
                         [&](uint64_t seq, uint64_t first, size_t) { index1.add(seq, first); });
      rc != 0) {
    return rc;
  }
  if (run1.interrupted) return 1;
  const std::vector<uint8_t> before = recorder.take();

  const RuleSet& cand = **candidate;
  const size_t n = cand.rules().size();
  BatchIndex index2;
  Comparer cmp(index2, before, n, options.max_changes);
  std::unordered_map<std::string, size_t> ids;
  for (size_t i = 0; i < n; ++i) ids[cand.rules()[i].id] = i;
  cmp.set_rule_index(std::move(ids));
  input.what = "backtest (candidate rules)";
  HistoryReplayResult run2;
  if (int rc =
          replay_history(input, cfg, *candidate, cmp, run2,
                         [&](uint64_t seq, uint64_t first, size_t) { index2.add(seq, first); });
      rc != 0) {
    return rc;
  }
  if (run2.interrupted) return 1;

  std::lock_guard lock(cmp.mu_);
  // ---- terminal table ----
  std::string out;
  out += fmt::format(
      "backtest of {} ({}) against {} on {}: {} transactions, {} labelled fraud, {} "
      "labelled legitimate, {} rejected records\n\n",
      options.rules, cand.version(), current->version(), options.input, cmp.transactions_,
      cmp.fraud_, cmp.legit_, run2.rejected);
  out += fmt::format("{:<28} {:>9} {:>10} {:>9} {:>7}  {}\n", "rule", "hits", "precision", "recall",
                     "overlap", "most overlapping rule");
  nlohmann::json rules_json = nlohmann::json::array();
  for (size_t a = 0; a < n; ++a) {
    const RuleTally& t = cmp.tally_[a];
    const auto precision = ratio(t.hits_fraud, t.hits_fraud + t.hits_legit);
    const auto recall = ratio(t.hits_fraud, cmp.fraud_);
    // Overlap: the share of this rule's hits on which some other rule fired too (at least the
    // largest pairwise overlap; exact per pair in the JSON).
    uint64_t best = 0;
    size_t best_b = a;
    nlohmann::json pairs = nlohmann::json::object();
    for (size_t b = 0; b < n; ++b) {
      if (b == a) continue;
      const uint64_t both = cmp.overlap_[a * n + b];
      if (both == 0) continue;
      pairs[cand.rules()[b].id] = both;
      if (both > best) {
        best = both;
        best_b = b;
      }
    }
    const auto overlap = ratio(best, t.hits);
    out += fmt::format("{:<28} {:>9} {:>10} {:>9} {:>7}  {}\n", cand.rules()[a].id, t.hits,
                       fmt_ratio(precision), fmt_ratio(recall), fmt_ratio(overlap),
                       best_b == a ? "" : cand.rules()[best_b].id);
    rules_json.push_back({{"id", cand.rules()[a].id},
                          {"enabled", cand.rules()[a].enabled},
                          {"hits", t.hits},
                          {"hits_fraud", t.hits_fraud},
                          {"hits_legit", t.hits_legit},
                          {"precision", json_ratio(precision)},
                          {"recall", json_ratio(recall)},
                          {"overlap_with", pairs}});
  }
  const auto precision = ratio(cmp.tp_, cmp.tp_ + cmp.fp_);
  const auto recall = ratio(cmp.tp_, cmp.tp_ + cmp.fn_);
  const auto precision_before = ratio(cmp.tp_before_, cmp.tp_before_ + cmp.fp_before_);
  const auto recall_before = ratio(cmp.tp_before_, cmp.fraud_);
  out += fmt::format(
      "\nflagged (REVIEW or BLOCK) against labels: candidate precision {} recall {}; current "
      "precision {} recall {}\n",
      fmt_ratio(precision), fmt_ratio(recall), fmt_ratio(precision_before),
      fmt_ratio(recall_before));
  uint64_t changed_total = 0;
  nlohmann::json transitions = nlohmann::json::object();
  for (int b = 0; b < 3; ++b) {
    for (int a = 0; a < 3; ++a) {
      if (a == b || cmp.changes_[b][a] == 0) continue;
      changed_total += cmp.changes_[b][a];
      const std::string key = fmt::format("{}->{}", to_string(static_cast<Action>(b)),
                                          to_string(static_cast<Action>(a)));
      transitions[key] = cmp.changes_[b][a];
      out += fmt::format("  {:<16} {}\n", key, cmp.changes_[b][a]);
    }
  }
  out += fmt::format("decisions that change: {}\n", changed_total);
  std::sort(cmp.changed_.begin(), cmp.changed_.end(),
            [](const ChangedTx& x, const ChangedTx& y) { return x.index < y.index; });
  nlohmann::json changed_json = nlohmann::json::array();
  for (size_t i = 0; i < cmp.changed_.size(); ++i) {
    const ChangedTx& c = cmp.changed_[i];
    const char* label = c.label == Label::kFraud   ? "fraud"
                        : c.label == Label::kLegit ? "legit"
                                                   : "";
    if (i < options.show_changes) {
      out += fmt::format("  {:<24} {:<6} -> {:<6} score {:.3f} {:<5} {}\n", c.id,
                         to_string(c.before), to_string(c.after), c.score, label, c.reasons);
    }
    changed_json.push_back({{"transaction_id", c.id},
                            {"input_index", c.index},
                            {"before", to_string(c.before)},
                            {"after", to_string(c.after)},
                            {"score", c.score},
                            {"label", label},
                            {"reasons", c.reasons}});
  }
  if (cmp.changed_.size() > options.show_changes) {
    out += fmt::format("  ... {} more{}\n", changed_total - options.show_changes,
                       options.json.empty() ? " (use --json FILE for the list)" : " in the JSON");
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);

  if (!options.json.empty()) {
    nlohmann::json j = {
        {"candidate", {{"path", options.rules}, {"version", cand.version()}}},
        {"current", {{"path", options.current}, {"version", current->version()}}},
        {"input", options.input},
        {"transactions", cmp.transactions_},
        {"labelled_fraud", cmp.fraud_},
        {"labelled_legit", cmp.legit_},
        {"rejected_records", run2.rejected},
        {"rules", rules_json},
        {"flagged",
         {{"candidate", {{"precision", json_ratio(precision)}, {"recall", json_ratio(recall)}}},
          {"current",
           {{"precision", json_ratio(precision_before)}, {"recall", json_ratio(recall_before)}}}}},
        {"changes", {{"total", changed_total}, {"by_transition", transitions}}},
        {"changed_transactions", changed_json},
        {"changed_transactions_truncated", changed_total > cmp.changed_.size()}};
    std::ofstream f(options.json);
    f << j.dump(2) << '\n';
    if (!f) {
      spdlog::error("cannot write '{}': {}", options.json, std::strerror(errno));
      return 1;
    }
  }
  return 0;
}

}  // namespace fw
