// A rule reading a store list (`store: true`) on a real SQLite store, wired as the demo wires
// it: the engine, the reloader with the store's list provider, and the /api/lists routes on a
// server bound to port 0. A value added over HTTP makes the next decision for a matching
// transaction fire the rule under a new rule-set version; removing it stops the rule. The
// reload poll the demo runs once a second is called here directly (deterministic, no sleeps).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "app/lists_api.h"
#include "app/setup.h"
#include "core/time.h"
#include "engine/engine.h"
#include "rules/rule_reloader.h"
#include "server/http_client.h"
#include "server/http_server.h"
#include "storage/sqlite_store.h"
#include "testing/paths.h"

namespace fw {
namespace {

class WaitingSink final : public DecisionSink {
 public:
  void consume(ScoredBatch&& batch) override {
    std::lock_guard lock(mu_);
    for (Scored& s : batch.scored) decisions_.push_back(std::move(s.decision));
    cv_.notify_all();
  }
  // The n-th decision (0-based), waiting up to a generous deadline for it.
  std::optional<Decision> wait_for(size_t n) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(60), [&] { return decisions_.size() > n; })) {
      return std::nullopt;
    }
    return decisions_[n];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Decision> decisions_;
};

constexpr std::string_view kRules =
    "name: lists\n"
    "lists:\n"
    "  bad_merchants: {store: true}\n"
    "rules:\n"
    "  - {id: deny_listed, when: 'merchant_id in list(\"bad_merchants\")', action: block}\n";

TEST(StoreListsReload, AddingAndRemovingAValueChangesTheNextDecision) {
  testing::TempDir dir;
  auto store = open_sqlite_store({.path = dir.file("fw.db")});
  ASSERT_TRUE(store.ok()) << store.error().message();
  ASSERT_TRUE((*store)->add_list_values("bad_merchants", {"m-old"}).ok());
  const std::string path = dir.file("rules.yaml");
  std::ofstream(path) << kRules;
  auto first = RuleSet::from_file(path, store_list_provider(**store));
  ASSERT_TRUE(first.ok()) << first.error().message();

  WaitingSink sink;
  ManualClock clock(1'000);
  EngineConfig config;
  config.shards = 1;
  config.clock = &clock;
  Engine engine(config, *first, sink);
  RuleReloader reloader(
      path, *first, [&engine](std::shared_ptr<const RuleSet> r) { engine.set_rules(std::move(r)); },
      store_list_provider(**store));
  HttpServer server({.bind_address = "127.0.0.1", .port = 0});
  add_list_routes(server, **store);
  ASSERT_TRUE(server.start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  engine.start();

  size_t seen = 0;
  auto decide = [&](const std::string& merchant) {
    SourceBatch batch;
    Transaction tx;
    tx.id = "t" + std::to_string(seen);
    tx.account_id = "acct";
    tx.merchant_id = merchant;
    tx.ts = kMicrosPerSecond * (100 + static_cast<int64_t>(seen));
    tx.amount = {1000, Currency::of("EUR")};
    batch.txs.push_back(std::move(tx));
    engine.submit(std::move(batch));
    return sink.wait_for(seen++);
  };

  auto before = decide("m-new");
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->action, Action::kAllow);
  EXPECT_EQ(before->rule_set_version, (*first)->version());

  auto added = http_call(url, "POST", "/api/lists?name=bad_merchants", R"({"values":["m-new"]})");
  ASSERT_TRUE(added.ok()) << added.error().message();
  ASSERT_EQ(added->status, 200) << added->body;
  EXPECT_EQ(nlohmann::json::parse(added->body)["added"], 1);
  const ReloadOutcome on_add = reloader.poll();
  ASSERT_EQ(on_add.kind, ReloadOutcome::Kind::kReloaded) << on_add.error;
  EXPECT_NE(on_add.version, (*first)->version());

  auto fired = decide("m-new");
  ASSERT_TRUE(fired.has_value());
  EXPECT_EQ(fired->action, Action::kBlock);
  ASSERT_EQ(fired->reasons.size(), 1u);
  EXPECT_EQ(fired->reasons[0].rule_id, "deny_listed");
  EXPECT_EQ(fired->rule_set_version, on_add.version);

  auto removed =
      http_call(url, "DELETE", "/api/lists?name=bad_merchants", R"({"values":["m-new"]})");
  ASSERT_TRUE(removed.ok()) << removed.error().message();
  ASSERT_EQ(removed->status, 200) << removed->body;
  const ReloadOutcome on_remove = reloader.poll();
  ASSERT_EQ(on_remove.kind, ReloadOutcome::Kind::kReloaded) << on_remove.error;
  EXPECT_EQ(reloader.poll().kind, ReloadOutcome::Kind::kUnchanged);

  auto after = decide("m-new");
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->action, Action::kAllow);
  EXPECT_TRUE(after->reasons.empty());
  EXPECT_EQ(after->rule_set_version, on_remove.version);
  EXPECT_EQ(decide("m-old")->action, Action::kBlock);

  auto listed = http_call(url, "GET", "/api/lists?name=bad_merchants");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(nlohmann::json::parse(listed->body)["values"], nlohmann::json::array({"m-old"}));
  auto all = http_call(url, "GET", "/api/lists");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(nlohmann::json::parse(all->body),
            nlohmann::json::parse(R"([{"name":"bad_merchants","values":1}])"));

  engine.stop();
  server.stop();
}

TEST(StoreListsReload, HostileListRequestsAnswer400NamingTheField) {
  testing::TempDir dir;
  auto store = open_sqlite_store({.path = dir.file("fw.db")});
  ASSERT_TRUE(store.ok()) << store.error().message();
  HttpServer server({.bind_address = "127.0.0.1", .port = 0});
  add_list_routes(server, **store);
  ASSERT_TRUE(server.start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());

  struct Case {
    const char* method;
    const char* target;
    const char* body;
    const char* field;
  };
  const Case cases[] = {
      {"POST", "/api/lists", R"({"values":["a"]})", "name"},
      {"POST", "/api/lists?name=bad%20name", R"({"values":["a"]})", "list name"},
      {"POST", "/api/lists?name=l", "not json", "body"},
      {"POST", "/api/lists?name=l", "[1,2]", "body"},
      {"POST", "/api/lists?name=l", R"({"value":["a"]})", "values"},
      {"POST", "/api/lists?name=l", R"({"values":"a"})", "values"},
      {"POST", "/api/lists?name=l", R"({"values":["a",7]})", "values[1]"},
      {"DELETE", "/api/lists?name=l", R"({"values":[""]})", "values[0]"},
      {"GET", "/api/lists?name=", "", "list name"},
  };
  for (const Case& c : cases) {
    auto r = http_call(url, c.method, c.target, c.body);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->status, 400) << c.method << " " << c.target << " " << c.body << ": " << r->body;
    const std::string error = nlohmann::json::parse(r->body)["error"];
    EXPECT_EQ(error.rfind(c.field, 0), 0u) << c.body << ": " << error;
  }
  auto unknown = http_call(url, "GET", "/api/lists?name=nope");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  // Nothing was stored by any refused request.
  auto all = (*store)->lists();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  server.stop();
}

}  // namespace
}  // namespace fw
