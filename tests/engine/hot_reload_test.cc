// Hot reload under load: a RuleReloader swaps rule sets through Engine::set_rules while batches
// stream in. Every transaction must come out exactly once, every batch must be scored by one
// complete rule set (all its decisions carry one version, and the reasons that version's rules
// produce), and versions never go back within the submission order.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/time.h"
#include "engine/engine.h"
#include "rules/rule_reloader.h"
#include "testing/paths.h"
#include "testing/swap_under_load.h"

namespace fw {
namespace {

class CollectingSink final : public DecisionSink {
 public:
  void consume(ScoredBatch&& batch) override {
    std::lock_guard lock(mu_);
    pieces.push_back(std::move(batch));
  }
  std::mutex mu_;
  std::vector<ScoredBatch> pieces;
};

// Rule set `gen`: two rules that fire on every transaction, both named after the generation,
// so a decision's reasons show which rule set made them.
std::string generation_yaml(int gen) {
  return "name: gen" + std::to_string(gen) + "\nrules:\n" + "  - {id: a" + std::to_string(gen) +
         ", when: \"amount > 0 EUR\", score: 0.1}\n" + "  - {id: b" + std::to_string(gen) +
         ", when: tx_count_1m >= 1, score: 0.2}\n";
}

void write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  std::filesystem::rename(tmp, path);  // atomic replace, as editors and deploy tools do
}

TEST(HotReload, UnderLoadNoTransactionIsLostOrScoredByAMixedRuleSet) {
  testing::TempDir dir;
  const std::string path = dir.file("rules.yaml");
  write_file(path, generation_yaml(0));
  auto first = RuleSet::from_file(path);
  ASSERT_TRUE(first.ok()) << first.error().message();

  CollectingSink sink;
  ManualClock clock(1'000);
  EngineConfig config;
  config.shards = 3;
  config.queue_batches = 4;
  config.clock = &clock;
  Engine engine(config, *first, sink);
  RuleReloader reloader(path, *first,
                        [&](std::shared_ptr<const RuleSet> r) { engine.set_rules(std::move(r)); });
  engine.start();

  // The reloading thread rewrites the file (valid and, every third time, broken) and polls,
  // while this thread submits batches as fast as the engine takes them; it goes on until at
  // least a few swaps happened during the stream (testing/swap_under_load.h).
  std::string rejection;  // written by the reloading thread, read after it was joined
  const int kBatches = 400, kPerBatch = 64;
  const int generations = testing::swap_while_submitting(
      [&](int gen) {
        if (gen % 3 == 0) {
          write_file(path, "name: broken\nrules:\n  - {id: x, when: \"amout > 1\", score: 1}\n");
          const ReloadOutcome o = reloader.poll();
          EXPECT_EQ(o.kind, ReloadOutcome::Kind::kRejected);
          rejection = o.error;
          return false;
        }
        write_file(path, generation_yaml(gen));
        const ReloadOutcome o = reloader.poll();
        EXPECT_EQ(o.kind, ReloadOutcome::Kind::kReloaded) << o.error;
        return true;
      },
      [&] {
        for (int b = 0; b < kBatches; ++b) {
          SourceBatch batch;
          for (int i = 0; i < kPerBatch; ++i) {
            const int n = b * kPerBatch + i;
            Transaction tx;
            tx.id = "t" + std::to_string(n);
            tx.account_id = "acct" + std::to_string(n % 101);
            tx.ts = kMicrosPerSecond * 100 * n;
            tx.amount = {1000, Currency::of("EUR")};
            batch.txs.push_back(std::move(tx));
          }
          engine.submit(std::move(batch));
        }
      });
  engine.stop();

  const testing::BatchVersions seen = testing::versions_by_batch(sink.pieces, [](const Scored& s) {
    const std::string& v = s.decision.rule_set_version;
    // The reasons are exactly the two rules of the version that made the decision.
    EXPECT_EQ(s.decision.reasons.size(), 2u) << v;
    if (s.decision.reasons.size() != 2) return v;
    const std::string gen = v.substr(3, v.find('@') - 3);
    EXPECT_EQ(s.decision.reasons[0].rule_id, "a" + gen) << v;
    EXPECT_EQ(s.decision.reasons[1].rule_id, "b" + gen) << v;
    EXPECT_NEAR(s.decision.score, 1 - 0.9 * 0.8, 1e-12);
    return v;
  });
  EXPECT_EQ(seen.transactions, static_cast<size_t>(kBatches * kPerBatch)) << "transactions lost";
  const auto& versions_of_batch = seen.by_seq;
  int previous_gen = -1;
  std::set<std::string> all_versions;
  for (const auto& [seq, versions] : versions_of_batch) {
    ASSERT_EQ(versions.size(), 1u) << "batch " << seq << " scored by several rule sets";
    const std::string& v = *versions.begin();
    all_versions.insert(v);
    const int gen = std::stoi(v.substr(3, v.find('@') - 3));
    EXPECT_GE(gen, previous_gen) << "batch " << seq << " went back to an older rule set";
    previous_gen = gen;
  }
  EXPECT_GE(generations, 3);
  EXPECT_GE(reloader.rejections(), 1u);
  EXPECT_EQ(rejection, "rules.yaml:3:20: unknown name 'amout'; did you mean 'amount'? (rule 'x')");
}

TEST(HotReload, PollReloadsOnlyOnRealChangesAndKeepsTheRunningSetOnErrors) {
  testing::TempDir dir;
  const std::string path = dir.file("rules.yaml");
  write_file(path, generation_yaml(1));
  auto first = RuleSet::from_file(path);
  ASSERT_TRUE(first.ok());
  std::vector<std::string> applied;
  RuleReloader reloader(path, *first,
                        [&](std::shared_ptr<const RuleSet> r) { applied.push_back(r->version()); });
  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kUnchanged);
  // Same bytes rewritten (new mtime): not a change.
  write_file(path, generation_yaml(1));
  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kUnchanged);
  // A broken file is rejected once, with file:line:column, and not retried until it changes.
  write_file(path, "name: t\nrules:\n  - id: x\n    when: tx_count_1m >> 3\n    score: 0.5\n");
  ReloadOutcome bad = reloader.poll();
  EXPECT_EQ(bad.kind, ReloadOutcome::Kind::kRejected);
  EXPECT_EQ(bad.error, "rules.yaml:4:24: expected a value, found '>' (rule 'x')");
  EXPECT_EQ(bad.version, (*first)->version());
  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kUnchanged);
  EXPECT_EQ(reloader.version(), (*first)->version());
  // A deleted file is an error too; the running set stays.
  std::filesystem::remove(path);
  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kRejected);
  EXPECT_TRUE(applied.empty());
  // Fixed: reloaded and applied; a forced reload() reloads even without a change.
  write_file(path, generation_yaml(2));
  ReloadOutcome good = reloader.poll();
  EXPECT_EQ(good.kind, ReloadOutcome::Kind::kReloaded);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].substr(0, 5), "gen2@");
  EXPECT_EQ(reloader.last_error(), "");
  EXPECT_EQ(reloader.reload().kind, ReloadOutcome::Kind::kReloaded);
  EXPECT_EQ(applied.size(), 2u);
  EXPECT_EQ(reloader.reloads(), 2u);
  EXPECT_EQ(reloader.rejections(), 2u);
}

}  // namespace
}  // namespace fw
