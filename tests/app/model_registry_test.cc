// The model registry end to end (docs/models.md, "Registry"):
// - RegistryModels (what demo and serve run) on a real SQLite store with an injected clock:
//   the registry's champion and shadow are served, a status change swaps them, a broken folder
//   leaves the running models and is reported once.
// - `fraudwatch model register|list|activate|shadow|retire` against a SQLite store, including
//   broken and hostile folders, unknown versions and retiring the champion.
// - A running demo started without --model serves the registry's champion and switches to
//   another version activated with the CLI while traffic flows: the switch happens at one point
//   of the stream, and every transaction is stored with a model version (none lost).
// Small models come from Python's xgboost (fast; bring-your-own folders with a metadata.json)
// for the first two, and from `fraudwatch train` for the running demo.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/model_commands.h"
#include "app/model_serving.h"
#include "app/registry_models.h"
#include "core/time.h"
#include "server/raw_http_client.h"
#include "storage/sqlite_store.h"
#include "testing/paths.h"
#include "testing/process.h"
#include "training/model_dir.h"

namespace fw {
namespace {

namespace fs = std::filesystem;
using fw::testing::ChildProcess;
using fw::testing::TempDir;

struct CliResult {
  int status = -1;
  std::string out;  // stdout and stderr together
};

// Runs fraudwatch with stdout sent to stderr, which ChildProcess reads.
CliResult fraudwatch(const std::vector<std::string>& args, int timeout_ms = 600000) {
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 1>&2",
                                   fw::testing::fraudwatch_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv);
  while (p.read_line(timeout_ms)) {
  }
  CliResult r;
  r.status = p.wait();
  r.out = p.transcript();
  return r;
}

CliResult model_cmd(const std::string& data_dir, std::vector<std::string> args) {
  args.insert(args.begin(), "model");
  args.push_back("--data-dir");
  args.push_back(data_dir);
  return fraudwatch(args);
}

// Writes two small XGBoost models (different trees) into folders `a` and `b` as model.json,
// with a metadata.json of this build's schema and a few metrics.
void make_python_models(const std::string& a, const std::string& b) {
  const std::string script = R"py(
import sys, numpy as np, xgboost as xgb
rng = np.random.default_rng(3)
X = rng.random((2000, 3)) * [2000.0, 10.0, 1.0]
y = ((X[:, 0] > 1500) & (X[:, 2] > 0.5)).astype(float)
d = xgb.DMatrix(X, label=y, feature_names=["amount", "tx_count_1h", "new_device"])
for out, rounds in ((sys.argv[1], 5), (sys.argv[2], 12)):
    xgb.train({"objective": "binary:logistic", "max_depth": 3, "eta": 0.3}, d, rounds).save_model(out)
)py";
  fs::create_directories(a);
  fs::create_directories(b);
  ChildProcess py({"/usr/bin/python3", "-c", script, a + "/model.json", b + "/model.json"});
  while (py.read_line(120000)) {
  }
  ASSERT_EQ(py.wait(), 0) << py.transcript();
  double auc = 0.91;
  for (const std::string& folder : {a, b}) {
    const nlohmann::json meta = {
        {"feature_schema_hash", schema_hash_hex()},
        {"threshold", 0.4},
        {"params", {{"trees", folder == a ? 5 : 12}}},
        {"validation_metrics",
         {{"roc_auc", auc},
          {"average_precision", 0.52},
          {"rows", 1000},
          {"from", "2026-03-10T00:00:00Z"},
          {"to", "2026-03-15T00:00:00Z"},
          {"at_threshold", {{"precision", 0.6}, {"recall", 0.7}, {"f1", 0.646}}}}}};
    std::ofstream(folder + "/metadata.json") << meta.dump(2);
    auc += 0.02;
  }
}

void copy_folder(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    fs::copy_file(e.path(), fs::path(to) / e.path().filename(),
                  fs::copy_options::overwrite_existing);
  }
}

TEST(RegistryModels, ServesTheRegistryAndSwapsOnStatusChanges) {
  TempDir dir;
  const std::string a = dir.file("a"), b = dir.file("b");
  make_python_models(a, b);
  ManualClock clock(1'750'000'000'000'000);
  auto store = open_sqlite_store({.path = dir.file("fw.db"), .clock = &clock});
  ASSERT_TRUE(store.ok()) << store.error().message();
  Store& s = **store;
  AppConfig cfg;
  std::vector<std::shared_ptr<const ModelBundle>> applied;
  RegistryModels registry(
      s, cfg, [&](auto m) { applied.push_back(std::move(m)); }, clock);

  // An empty registry: the first poll applies "no models", later polls nothing.
  auto first = registry.poll();
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_TRUE(*first);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0], nullptr);
  EXPECT_FALSE(*registry.poll());

  auto ma = describe_model_folder(a, clock.now());
  auto mb = describe_model_folder(b, clock.now());
  ASSERT_TRUE(ma.ok()) << ma.error().message();
  ASSERT_TRUE(mb.ok()) << mb.error().message();
  const auto metrics = nlohmann::json::parse(ma->metrics);
  EXPECT_DOUBLE_EQ(metrics["roc_auc"].get<double>(), 0.91);
  EXPECT_DOUBLE_EQ(metrics["threshold"].get<double>(), 0.4);
  EXPECT_EQ(metrics["trees"].get<double>(), 5);
  EXPECT_EQ(metrics["validation_from"], "2026-03-10T00:00:00Z");
  EXPECT_EQ(ma->path, fs::absolute(a).lexically_normal().string());
  ASSERT_NE(ma->version, mb->version);
  ASSERT_TRUE(s.register_model(*ma).ok());
  ASSERT_TRUE(s.register_model(*mb).ok());
  EXPECT_FALSE(*registry.poll());  // candidates serve nothing

  // Activating through the registry object: stored with the clock's time, served at once.
  clock.advance(5'000'000);
  auto changes = registry.activate(ma->version, ModelStatus::kChampion);
  ASSERT_TRUE(changes.ok()) << changes.error().message();
  ASSERT_EQ(applied.size(), 2u);
  ASSERT_NE(applied[1], nullptr);
  EXPECT_EQ(applied[1]->version, ma->version);
  EXPECT_EQ(applied[1]->shadow, nullptr);
  auto rows = s.registered_models();
  ASSERT_TRUE(rows.ok());
  for (const RegisteredModel& m : *rows) {
    EXPECT_EQ(m.status_at, m.version == ma->version ? clock.now() : clock.now() - 5'000'000);
  }

  // A change made by another process (the CLI) is picked up by the next poll.
  ASSERT_TRUE(s.set_model_status(mb->version, ModelStatus::kChampion, clock.now()).ok());
  ASSERT_TRUE(s.set_model_status(ma->version, ModelStatus::kShadow, clock.now()).ok());
  auto swapped = registry.poll();
  ASSERT_TRUE(swapped.ok()) << swapped.error().message();
  EXPECT_TRUE(*swapped);
  ASSERT_EQ(applied.size(), 3u);
  EXPECT_EQ(applied[2]->version, mb->version);
  EXPECT_EQ(applied[2]->shadow_version, ma->version);
  EXPECT_FALSE(*registry.poll());

  // A registered folder changed behind the registry's back: refused naming the version and
  // folder, once; the running models stay.
  fs::copy_file(b + "/model.json", a + "/model.json", fs::copy_options::overwrite_existing);
  ASSERT_TRUE(s.set_model_status(ma->version, ModelStatus::kChampion, clock.now()).ok());
  auto refused = registry.poll();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("registered model " + ma->version), std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("now holds model " + mb->version), std::string::npos);
  auto quiet = registry.poll();
  ASSERT_TRUE(quiet.ok());
  EXPECT_FALSE(*quiet);
  EXPECT_EQ(applied.size(), 3u);
  // activate() refuses it before touching the registry.
  ASSERT_TRUE(s.set_model_status(mb->version, ModelStatus::kChampion, clock.now()).ok());
  auto again = registry.activate(ma->version, ModelStatus::kShadow);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().field.find("registered model"), std::string::npos);
  auto unknown = registry.activate("m000000000000", ModelStatus::kChampion);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("is not registered"), std::string::npos);
}

TEST(ModelRegistryCli, RegisterListActivateShadowRetire) {
  TempDir dir;
  const std::string a = dir.file("a"), b = dir.file("b"), data = dir.file("data");
  make_python_models(a, b);

  // Only register creates a database: list on a mistyped --data-dir says so and creates none.
  CliResult r = model_cmd(data, {"list"});
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("--data-dir: no fraudwatch database at"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(data + "/fraudwatch.db"));
  const std::string empty = dir.file("empty");
  fs::create_directories(empty);
  ASSERT_TRUE(open_sqlite_store({.path = empty + "/fraudwatch.db"}).ok());
  r = model_cmd(empty, {"list"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("no registered models"), std::string::npos) << r.out;

  r = model_cmd(data, {"register", a});
  ASSERT_EQ(r.status, 0) << r.out;
  const size_t at = r.out.find("registered m");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string va = r.out.substr(at + 11, 13);
  r = model_cmd(data, {"register", a + "/"});  // again, spelled differently: the same version
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(va + " was already registered"), std::string::npos) << r.out;
  r = model_cmd(data, {"register", b});
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string vb = r.out.substr(r.out.find("registered m") + 11, 13);
  ASSERT_NE(va, vb);

  r = model_cmd(data, {"list"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("VERSION"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(va + "  candidate 0.9100   0.5200   0.4000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(vb + "  candidate 0.9300"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(fs::absolute(a).lexically_normal().string()), std::string::npos);

  r = model_cmd(data, {"activate", va});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(va + ": candidate -> champion"), std::string::npos) << r.out;
  r = model_cmd(data, {"activate", va});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(va + ": already champion"), std::string::npos) << r.out;
  r = model_cmd(data, {"activate", vb});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(va + ": champion -> retired"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(vb + ": candidate -> champion"), std::string::npos) << r.out;
  r = model_cmd(data, {"shadow", va});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(va + ": retired -> shadow"), std::string::npos) << r.out;

  // Retiring the champion is refused unless forced; the shadow retires freely.
  r = model_cmd(data, {"retire", vb});
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("is the champion"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--force"), std::string::npos) << r.out;
  r = model_cmd(data, {"retire", va});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(va + ": shadow -> retired"), std::string::npos) << r.out;
  r = model_cmd(data, {"retire", vb, "--force"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(vb + ": champion -> retired"), std::string::npos) << r.out;

  // Unknown and hostile versions name the version and point at `model list`.
  r = model_cmd(data, {"activate", "m0123456789ab"});
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("model version 'm0123456789ab': is not registered"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("fraudwatch model list"), std::string::npos) << r.out;
  r = model_cmd(data, {"shadow", "x'; DROP TABLE model_registry; --"});
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("model version: may contain only"), std::string::npos) << r.out;
  r = model_cmd(data, {"activate"});
  EXPECT_NE(r.status, 0) << r.out;  // CLI11: VERSION is required

  auto store = open_sqlite_store({.path = data + "/fraudwatch.db"});
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto rows = (*store)->registered_models();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].status, ModelStatus::kRetired);
  EXPECT_EQ((*rows)[1].status, ModelStatus::kRetired);
}

TEST(ModelRegistryCli, RefusesBrokenAndHostileFoldersNamingTheFileAndField) {
  TempDir dir;
  const std::string a = dir.file("a"), b = dir.file("b"), data = dir.file("data");
  make_python_models(a, b);
  struct Case {
    std::string folder;
    std::string expected;
  };
  std::vector<Case> cases;
  cases.push_back({dir.file("missing"), dir.file("missing") + ": does not exist"});
  std::ofstream(dir.file("plain.json")) << "{}";
  cases.push_back({dir.file("plain.json"), "is not a folder"});
  fs::create_directories(dir.file("empty"));
  cases.push_back({dir.file("empty"), dir.file("empty") + "/model.json: is missing"});
  auto broken = [&](const std::string& name, const std::string& file, const std::string& text) {
    const std::string folder = dir.file(name);
    copy_folder(a, folder);
    std::ofstream(folder + "/" + file, std::ios::trunc) << text;
    return folder;
  };
  cases.push_back({broken("truncated", "model.json", "{\"learner\": "), "model.json"});
  cases.push_back({broken("meta-not-json", "metadata.json", "{\"threshold\": "), "metadata.json"});
  cases.push_back(
      {broken("other-schema", "metadata.json", R"({"feature_schema_hash": "0x0000000000000001"})"),
       "metadata.json: feature_schema_hash"});
  cases.push_back({broken("bad-auc", "metadata.json",
                          R"({"feature_schema_hash": ")" + schema_hash_hex() +
                              R"(", "validation_metrics": {"roc_auc": "very high"}})"),
                   "metadata.json: validation_metrics.roc_auc: must be a finite number"});
  cases.push_back({broken("bad-metrics", "metadata.json",
                          R"({"feature_schema_hash": ")" + schema_hash_hex() +
                              R"(", "validation_metrics": [1, 2]})"),
                   "metadata.json: validation_metrics.roc_auc: expected a JSON object"});
  cases.push_back(
      {broken("bad-threshold", "metadata.json",
              R"({"feature_schema_hash": ")" + schema_hash_hex() + R"(", "threshold": 7})"),
       "metadata.json: threshold"});
  cases.push_back(
      {broken("binary", "model.json", std::string("\x00\xff\xfe garbage", 11)), "model.json"});
  for (const Case& c : cases) {
    CliResult r = model_cmd(data, {"register", c.folder});
    EXPECT_EQ(r.status, 1) << c.folder << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expected), std::string::npos) << c.expected << "\n" << r.out;
  }

  // A folder name with spaces, quotes and non-ASCII letters is just a path.
  const std::string odd = dir.file("mod\xc3\xa8le 'x' \"y\"; rm -rf");
  copy_folder(a, odd);
  CliResult r = model_cmd(data, {"register", odd});
  ASSERT_EQ(r.status, 0) << r.out;
  r = model_cmd(data, {"list"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(odd), std::string::npos) << r.out;

  // Only the good folder was registered; changing it afterwards stops its activation.
  auto store = open_sqlite_store({.path = data + "/fraudwatch.db"});
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto rows = (*store)->registered_models();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  const std::string version = (*rows)[0].version;
  fs::copy_file(b + "/model.json", odd + "/model.json", fs::copy_options::overwrite_existing);
  r = model_cmd(data, {"activate", version});
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("now holds model"), std::string::npos) << r.out;
  fs::remove_all(odd);
  r = model_cmd(data, {"activate", version});
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("cannot serve"), std::string::npos) << r.out;
  EXPECT_EQ((*(*store)->registered_models())[0].status, ModelStatus::kCandidate);
}

uint16_t port_of(ChildProcess& demo) {
  auto url = demo.wait_for("dashboard: http://", 300000);
  if (!url) return 0;
  const size_t at = url->find("127.0.0.1:");
  if (at == std::string::npos) return 0;
  return static_cast<uint16_t>(std::stoi(url->substr(at + 10)));
}

fw::testing::RawResponse request(uint16_t port, const std::string& method,
                                 const std::string& path) {
  fw::testing::RawHttpClient client(port);
  client.send(method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  return client.read_response();
}

// Waits (with a generous deadline) until GET /api/models answers `key` == want.
bool wait_for_model(uint16_t port, const std::string& key, const std::string& want) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    const auto j = nlohmann::json::parse(request(port, "GET", "/api/models").body, nullptr, false);
    if (j.is_object() && j[key].is_string() && j[key].get<std::string>() == want) return true;
  }
  return false;
}

// Waits until the store holds a recent decision for which `want` is true (the demo writes
// continuously).
template <typename Want>
bool wait_for_decision(const std::string& db, Want want) {
  auto store = open_sqlite_store({.path = db});
  if (!store.ok()) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    auto rows = (*store)->recent_decisions(50);
    if (rows.ok()) {
      for (const DecisionRow& r : *rows) {
        if (want(r.decision)) return true;
      }
    }
  }
  return false;
}

bool wait_for_decision_by(const std::string& db, const std::string& version) {
  return wait_for_decision(db, [&](const Decision& d) { return d.model_version == version; });
}

int64_t seq_of(const std::string& id) {  // "tx-SEED-SEQ"
  return std::stoll(id.substr(id.rfind('-') + 1));
}

TEST(ModelRegistry, RunningDemoFollowsActivationsWithoutLosingTransactions) {
  TempDir dir;
  const std::string hist = dir.file("hist");
  CliResult r = fraudwatch({"simulate", "--from", "2026-03-01", "--to", "2026-03-15", "--out-dir",
                            hist, "--seed", "5", "--customers", "300", "--merchants", "60",
                            "--fraud-ratio", "0.03"});
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string a = dir.file("a"), b = dir.file("b"), data = dir.file("data");
  for (const auto& [folder, rounds] : {std::pair{a, "10"}, {b, "20"}}) {
    r = fraudwatch({"train", "--input", hist, "--from", "2026-03-04", "--to", "2026-03-15", "--out",
                    folder, "--rounds", rounds, "--early-stopping", "1000"});
    ASSERT_EQ(r.status, 0) << r.out;
  }
  r = model_cmd(data, {"register", a});
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string va = r.out.substr(r.out.find("registered m") + 11, 13);
  r = model_cmd(data, {"register", b});
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string vb = r.out.substr(r.out.find("registered m") + 11, 13);
  ASSERT_NE(va, vb);
  r = model_cmd(data, {"activate", va});
  ASSERT_EQ(r.status, 0) << r.out;

  // No --model: the demo serves the registry's champion from its first transaction.
  ChildProcess demo({fw::testing::fraudwatch_binary().string(), "demo", "--port", "0", "--data-dir",
                     data, "--rate", "3000", "--seed", "5", "--customers", "300", "--merchants",
                     "60", "--fraud-ratio", "0.05", "--quiet"});
  const uint16_t port = port_of(demo);
  ASSERT_GT(port, 0) << demo.transcript();
  EXPECT_NE(demo.transcript().find("models from the registry: champion " + va), std::string::npos)
      << demo.transcript();
  const std::string db = data + "/fraudwatch.db";
  ASSERT_TRUE(wait_for_decision_by(db, va)) << demo.transcript();

  // The CLI changes the registry while traffic flows; the demo's poll swaps the model.
  r = model_cmd(data, {"activate", vb});
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_TRUE(wait_for_model(port, "champion", vb)) << demo.transcript();
  ASSERT_TRUE(wait_for_decision_by(db, vb)) << demo.transcript();

  // The HTTP API does the same at once: A as the shadow.
  auto shadow = request(port, "POST", "/api/models/activate?version=" + va + "&as=shadow");
  ASSERT_EQ(shadow.status, 200) << shadow.body;
  const auto sj = nlohmann::json::parse(shadow.body);
  EXPECT_EQ(sj["champion"], vb);
  EXPECT_EQ(sj["shadow"], va);
  EXPECT_EQ(request(port, "POST", "/api/models/activate?version=m0123456789ab").status, 404);
  EXPECT_EQ(request(port, "POST", "/api/models/activate?version=a%27b").status, 400);
  EXPECT_EQ(request(port, "POST", "/api/models/activate").status, 400);
  EXPECT_EQ(request(port, "POST", "/api/models/activate?version=" + va + "&as=boss").status, 400);
  ASSERT_TRUE(wait_for_decision(db, [](const Decision& d) { return !std::isnan(d.shadow_score); }))
      << demo.transcript();

  demo.signal(SIGINT);
  ASSERT_EQ(demo.wait(), 0) << demo.transcript();

  // Every transaction of the stream is stored once, scored by A up to one point and by B from
  // there on (swaps happen between source batches, in stream order).
  auto store = open_sqlite_store({.path = db});
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto rows = (*store)->recent_decisions(10'000'000);
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  std::vector<std::pair<int64_t, const Decision*>> by_seq;
  for (const DecisionRow& row : *rows) by_seq.emplace_back(seq_of(row.tx.id), &row.decision);
  std::sort(by_seq.begin(), by_seq.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  ASSERT_FALSE(by_seq.empty());
  EXPECT_EQ(by_seq.back().first - by_seq.front().first + 1, static_cast<int64_t>(by_seq.size()))
      << "a gap in the stored stream";
  size_t by_a = 0, by_b = 0, switches = 0, shadowed = 0;
  for (size_t i = 0; i < by_seq.size(); ++i) {
    const Decision& d = *by_seq[i].second;
    ASSERT_TRUE(d.model_version == va || d.model_version == vb)
        << "transaction " << by_seq[i].first << " scored by '" << d.model_version << "'";
    ASSERT_FALSE(std::isnan(d.model_score));
    by_a += d.model_version == va ? 1 : 0;
    by_b += d.model_version == vb ? 1 : 0;
    if (i > 0 && d.model_version != by_seq[i - 1].second->model_version) ++switches;
    if (!std::isnan(d.shadow_score)) {
      ++shadowed;
      EXPECT_EQ(d.model_version, vb);  // the shadow came after the switch to B
    }
  }
  EXPECT_GT(by_a, 0u);
  EXPECT_GT(by_b, 0u);
  EXPECT_EQ(switches, 1u);
  EXPECT_EQ(by_seq.front().second->model_version, va);
  EXPECT_EQ(by_seq.back().second->model_version, vb);
  auto counts = (*store)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->transactions, static_cast<int64_t>(by_seq.size()));
  EXPECT_EQ(counts->decisions, static_cast<int64_t>(by_seq.size()));
  auto registry = (*store)->registered_models();
  ASSERT_TRUE(registry.ok());
  std::map<std::string, ModelStatus> status;
  for (const RegisteredModel& m : *registry) status[m.version] = m.status;
  EXPECT_EQ(status[va], ModelStatus::kShadow);
  EXPECT_EQ(status[vb], ModelStatus::kChampion);
  EXPECT_GT(shadowed, 0u);
}

}  // namespace
}  // namespace fw
