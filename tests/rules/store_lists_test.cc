// Rule-file lists read from the store (`lists: {x: {store: true}}`) through a ListProvider, and
// RuleReloader noticing when such a list changes. The provider here is a map guarded by a mutex;
// tests/app covers the real Store behind it.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "rules/rule_reloader.h"
#include "rules/rule_set.h"
#include "testing/paths.h"

namespace fw {
namespace {

constexpr std::string_view kStoreRules =
    "name: t\n"
    "lists:\n"
    "  bad: {store: true}\n"
    "rules:\n"
    "  - {id: deny, when: 'merchant_id in list(\"bad\")', action: block}\n";

// Named lists in memory, as a Store keeps them: a list exists while it holds a value.
class FakeLists {
 public:
  void set(const std::string& name, std::vector<std::string> values) {
    std::lock_guard lock(mu_);
    if (values.empty()) {
      lists_.erase(name);
    } else {
      lists_[name] = std::move(values);
    }
  }
  ListProvider provider() {
    return [this](const std::string& name) -> Result<std::vector<std::string>> {
      std::lock_guard lock(mu_);
      auto it = lists_.find(name);
      if (it == lists_.end()) return make_error(name, "no such list");
      return it->second;
    };
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> lists_;
};

bool fires_for(const RuleSet& set, const std::string& merchant) {
  Transaction tx;
  tx.merchant_id = merchant;
  tx.finalize_keys();
  FeatureVector f;
  return set.fires(0, tx, f);
}

TEST(StoreLists, ListValuesComeFromTheProvider) {
  FakeLists lists;
  lists.set("bad", {"m-evil", "m-worse"});
  auto r = RuleSet::from_yaml_string(kStoreRules, "rules.yaml", "", lists.provider());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(fires_for(**r, "m-evil"));
  EXPECT_TRUE(fires_for(**r, "m-worse"));
  EXPECT_FALSE(fires_for(**r, "m-good"));
  EXPECT_EQ((*r)->store_lists(), std::vector<std::string>{"bad"});

  // The version covers the values: a changed list is a new rule-set version.
  lists.set("bad", {"m-evil"});
  auto r2 = RuleSet::from_yaml_string(kStoreRules, "rules.yaml", "", lists.provider());
  ASSERT_TRUE(r2.ok()) << r2.error().message();
  EXPECT_NE((*r)->version(), (*r2)->version());
  EXPECT_NE((*r)->store_lists_hash(), (*r2)->store_lists_hash());
  EXPECT_FALSE(fires_for(**r2, "m-worse"));
}

TEST(StoreLists, StoreValuesJoinInlineValues) {
  FakeLists lists;
  lists.set("bad", {"m-evil"});
  auto r = RuleSet::from_yaml_string(
      "name: t\nlists:\n  bad: {store: true, values: [m-inline]}\n"
      "rules:\n  - {id: deny, when: 'merchant_id in list(\"bad\")', action: block}\n",
      "rules.yaml", "", lists.provider());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(fires_for(**r, "m-evil"));
  EXPECT_TRUE(fires_for(**r, "m-inline"));
}

TEST(StoreLists, MissingListNamesTheListAndThePosition) {
  FakeLists lists;
  auto r = RuleSet::from_yaml_string(kStoreRules, "rules.yaml", "", lists.provider());
  ASSERT_FALSE(r.ok());
  const std::string msg = r.error().message();
  EXPECT_NE(msg.find("rules.yaml:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("lists.bad.store"), std::string::npos) << msg;
  EXPECT_NE(msg.find("store list 'bad'"), std::string::npos) << msg;
}

TEST(StoreLists, WithoutAProviderAStoreListIsAnError) {
  auto r = RuleSet::from_yaml_string(kStoreRules, "rules.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no store is available"), std::string::npos)
      << r.error().message();
}

TEST(StoreLists, HostileStoreFlagIsRejectedWithTheField) {
  FakeLists lists;
  lists.set("bad", {"m"});
  for (const char* flag : {"maybe", "[true]", "{a: 1}", "2"}) {
    const std::string yaml = std::string("name: t\nlists:\n  bad: {store: ") + flag +
                             "}\nrules:\n  - {id: x, when: 'merchant_id in list(\"bad\")', "
                             "score: 0.5}\n";
    auto r = RuleSet::from_yaml_string(yaml, "rules.yaml", "", lists.provider());
    ASSERT_FALSE(r.ok()) << flag;
    EXPECT_NE(r.error().message().find("lists.bad.store"), std::string::npos)
        << r.error().message();
  }
  // store: false is a plain (empty) list, no provider needed.
  auto off = RuleSet::from_yaml_string(
      "name: t\nlists:\n  bad: {store: false, values: [m]}\nrules:\n"
      "  - {id: x, when: 'merchant_id in list(\"bad\")', score: 0.5}\n",
      "rules.yaml");
  ASSERT_TRUE(off.ok()) << off.error().message();
  EXPECT_TRUE((*off)->store_lists().empty());
}

TEST(StoreLists, ReloaderPicksUpAddedAndRemovedValues) {
  testing::TempDir dir;
  const std::string path = dir.file("rules.yaml");
  std::ofstream(path) << kStoreRules;
  FakeLists lists;
  lists.set("bad", {"m-evil"});
  auto first = RuleSet::from_file(path, lists.provider());
  ASSERT_TRUE(first.ok()) << first.error().message();
  std::shared_ptr<const RuleSet> applied = *first;
  RuleReloader reloader(
      path, *first, [&applied](std::shared_ptr<const RuleSet> r) { applied = std::move(r); },
      lists.provider());

  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kUnchanged);
  EXPECT_FALSE(fires_for(*applied, "m-new"));

  lists.set("bad", {"m-evil", "m-new"});
  ReloadOutcome added = reloader.poll();
  ASSERT_EQ(added.kind, ReloadOutcome::Kind::kReloaded) << added.error;
  EXPECT_NE(added.version, (*first)->version());
  EXPECT_TRUE(fires_for(*applied, "m-new"));
  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kUnchanged);

  // A removal keeps the count of additions and the newest added_at; it must still be seen.
  lists.set("bad", {"m-new"});
  ReloadOutcome removed = reloader.poll();
  ASSERT_EQ(removed.kind, ReloadOutcome::Kind::kReloaded) << removed.error;
  EXPECT_FALSE(fires_for(*applied, "m-evil"));
  EXPECT_TRUE(fires_for(*applied, "m-new"));
  EXPECT_EQ(reloader.reloads(), 2u);
}

TEST(StoreLists, ReloaderKeepsTheRunningSetWhenTheListDisappears) {
  testing::TempDir dir;
  const std::string path = dir.file("rules.yaml");
  std::ofstream(path) << kStoreRules;
  FakeLists lists;
  lists.set("bad", {"m-evil"});
  auto first = RuleSet::from_file(path, lists.provider());
  ASSERT_TRUE(first.ok()) << first.error().message();
  int applies = 0;
  RuleReloader reloader(
      path, *first, [&applies](const std::shared_ptr<const RuleSet>&) { ++applies; },
      lists.provider());

  lists.set("bad", {});  // the last value removed: the list no longer exists
  ReloadOutcome gone = reloader.poll();
  ASSERT_EQ(gone.kind, ReloadOutcome::Kind::kRejected);
  EXPECT_NE(gone.error.find("store list 'bad'"), std::string::npos) << gone.error;
  EXPECT_EQ(gone.version, (*first)->version());
  EXPECT_EQ(reloader.version(), (*first)->version());
  // The same rejected state is not retried on every poll.
  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kUnchanged);
  EXPECT_EQ(reloader.rejections(), 1u);

  lists.set("bad", {"m-back"});
  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kReloaded);
  EXPECT_EQ(applies, 1);
  EXPECT_TRUE(reloader.last_error().empty());
}

}  // namespace
}  // namespace fw
