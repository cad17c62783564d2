// The behavioural contract of fw::Store, run against every backend through a factory.
// Every backend (SQLite, PostgreSQL) is one StoreFactory and passes the same suite unchanged.
// PostgreSQL runs against the server scripts/with-postgres.sh starts (make test does), one fresh
// database per test; run directly without it, the PostgreSQL cases skip.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"
#include "storage/store.h"
#include "storage/store_test_data.h"
#include "testing/paths.h"
#include "testing/postgres.h"

namespace fw {
namespace {

using storage_testing::alert_for;
using storage_testing::expect_same_alert;
using storage_testing::expect_same_counts;
using storage_testing::expect_same_decision;
using storage_testing::expect_same_transaction;
using storage_testing::full_scored;
using storage_testing::minimal_scored;

struct StoreFactory {
  std::string name;
  bool needs_postgres = false;
  // Creates an empty store whose files (if any) live in `dir`.
  std::function<Result<std::unique_ptr<Store>>(const testing::TempDir& dir)> make;
};

std::ostream& operator<<(std::ostream& os, const StoreFactory& f) { return os << f.name; }

class StoreContract : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    if (GetParam().needs_postgres && !testing::test_postgres_url()) {
      GTEST_SKIP() << "no test PostgreSQL server; run under scripts/with-postgres.sh";
    }
    auto store = GetParam().make(dir_);
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(store).value();
  }

  StoreCounts counts() {
    auto c = store_->counts();
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? *c : StoreCounts{};
  }

  void write_ok(const WriteBatch& batch) {
    Status st = store_->write(batch);
    ASSERT_TRUE(st.ok()) << st.error().message();
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreContract, RoundTripsEveryFieldOfTransactionAndDecision) {
  WriteBatch batch;
  batch.scored.push_back(full_scored("tx-full", 1'700'000'000'123'456, Action::kBlock));
  batch.scored.push_back(minimal_scored("tx-min", -5));  // before 1970 is still a valid time
  Scored fraction = full_scored("tx-kwd", 42);
  fraction.tx.amount = Money{-9'007'199'254'740'993, Currency::of("KWD")};  // beyond 2^53
  fraction.tx.label = Label::kLegit;
  fraction.tx.utc_offset_minutes = 0;  // zero is known, not absent
  fraction.tx.lat = 0;
  fraction.tx.lon = 0;
  fraction.decision.reasons.clear();
  batch.scored.push_back(fraction);
  write_ok(batch);

  for (const Scored& want : batch.scored) {
    SCOPED_TRACE(want.tx.id);
    auto got = store_->find_transaction(want.tx.id);
    ASSERT_TRUE(got.ok()) << got.error().message();
    ASSERT_TRUE(got->has_value());
    expect_same_transaction((*got)->tx, want.tx);
    expect_same_decision((*got)->decision, want.decision);
  }
  auto missing = store_->find_transaction("no-such-tx");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreContract, DecisionWithoutTransactionIdTakesItsTransactions) {
  WriteBatch batch;
  batch.scored.push_back(full_scored("tx-1", 10));
  batch.scored[0].decision.transaction_id.clear();
  write_ok(batch);
  auto got = store_->find_transaction("tx-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->decision.transaction_id, "tx-1");
  EXPECT_EQ((*got)->decision.rule_set_version, "rules-v12");
}

WriteBatch mixed_batch(const std::string& prefix) {
  WriteBatch b;
  for (int i = 0; i < 10; ++i) {
    Action a = i < 6 ? Action::kAllow : i < 9 ? Action::kReview : Action::kBlock;
    b.scored.push_back(full_scored(prefix + std::to_string(i), 1000 + i, a));
    if (a != Action::kAllow) b.alerts.push_back(alert_for(b.scored.back(), 2000 + i));
  }
  b.labels.push_back(
      LabelEvent{prefix + "0", "acct", "m", "t", 1000, 5000, Label::kFraud, "analyst"});
  b.dead_letters.push_back(DeadLetter{"file:x.csv:3", "garbage,,", "amount", "not a number", 7});
  b.checkpoints.push_back(SourceCheckpoint{"file:x.csv", 11});
  return b;
}

TEST_P(StoreContract, WritingTheSameBatchTwiceStoresItOnce) {
  WriteBatch batch = mixed_batch("tx-");
  write_ok(batch);
  StoreCounts first = counts();
  EXPECT_EQ(first.transactions, 10);
  write_ok(batch);
  expect_same_counts(counts(), first);
  auto decisions = store_->recent_decisions(100);
  ASSERT_TRUE(decisions.ok());
  EXPECT_EQ(decisions->size(), 10u);
  auto alerts = store_->recent_alerts(100);
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(alerts->size(), batch.alerts.size());
  auto dead = store_->recent_dead_letters(100);
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(dead->size(), 1u);
}

TEST_P(StoreContract, FirstWriteWinsForTransactionDecisionAndAlert) {
  WriteBatch first;
  first.scored.push_back(full_scored("tx-1", 100, Action::kAllow));
  first.scored[0].decision.score = 0.1;
  write_ok(first);

  // A replay that decided differently (say, after a rule change) must not rewrite history,
  // and the alert that came with the second decision is skipped with it.
  WriteBatch second;
  second.scored.push_back(full_scored("tx-1", 999, Action::kBlock));
  second.scored[0].tx.amount.minor = 1;
  second.scored[0].decision.score = 0.9;
  second.alerts.push_back(alert_for(second.scored[0], 1000));
  // Within one batch, too, the first occurrence wins.
  second.scored.push_back(full_scored("tx-2", 200, Action::kReview));
  second.scored.push_back(full_scored("tx-2", 300, Action::kAllow));
  write_ok(second);

  auto one = store_->find_transaction("tx-1");
  ASSERT_TRUE(one.ok() && one->has_value());
  expect_same_transaction((*one)->tx, first.scored[0].tx);
  expect_same_decision((*one)->decision, first.scored[0].decision);
  auto two = store_->find_transaction("tx-2");
  ASSERT_TRUE(two.ok() && two->has_value());
  EXPECT_EQ((*two)->tx.ts, 200);
  EXPECT_EQ((*two)->decision.action, Action::kReview);

  StoreCounts c = counts();
  EXPECT_EQ(c.transactions, 2);
  EXPECT_EQ(c.decisions, 2);
  EXPECT_EQ(c.allow, 1);
  EXPECT_EQ(c.review, 1);
  EXPECT_EQ(c.block, 0);
  EXPECT_EQ(c.alerts, 0);
}

TEST_P(StoreContract, AFailingBatchWritesNothing) {
  // Each batch is good except for one row at the end; none of its rows may appear.
  std::vector<std::pair<std::string, std::function<void(WriteBatch&)>>> spoilers = {
      {"alert for an unknown transaction",
       [](WriteBatch& b) { b.alerts.push_back(alert_for(minimal_scored("never-written", 1), 2)); }},
      {"decision paired with another transaction",
       [](WriteBatch& b) {
         b.scored.push_back(minimal_scored("tx-x", 1));
         b.scored.back().decision.transaction_id = "tx-y";
       }},
      {"empty transaction id", [](WriteBatch& b) { b.scored.push_back(minimal_scored("", 1)); }},
      {"label without a verdict",
       [](WriteBatch& b) {
         b.labels.push_back(LabelEvent{"tx-0", "a", "", "", 1, 2, Label::kUnknown, "analyst"});
       }},
  };
  for (auto& [name, spoil] : spoilers) {
    SCOPED_TRACE(name);
    WriteBatch batch = mixed_batch("tx-");
    spoil(batch);
    Status st = store_->write(batch);
    ASSERT_FALSE(st.ok());
    EXPECT_FALSE(st.error().reason.empty());
    expect_same_counts(counts(), StoreCounts{});
    auto cp = store_->checkpoint("file:x.csv");
    ASSERT_TRUE(cp.ok());
    EXPECT_FALSE(cp->has_value()) << "the checkpoint moved without its rows";
    auto tx = store_->find_transaction("tx-0");
    ASSERT_TRUE(tx.ok());
    EXPECT_FALSE(tx->has_value());
  }
  // The store is still usable after failures.
  write_ok(mixed_batch("tx-"));
  EXPECT_EQ(counts().transactions, 10);
}

TEST_P(StoreContract, ReportsWhichRowFailed) {
  WriteBatch batch;
  batch.scored.push_back(minimal_scored("tx-x", 1));
  batch.scored.back().decision.transaction_id = "tx-y";
  Status st = store_->write(batch);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "decision.transaction_id");
  EXPECT_NE(st.error().reason.find("tx-y"), std::string::npos) << st.error().reason;
}

TEST_P(StoreContract, CheckpointsAreCommittedWithTheirBatch) {
  auto none = store_->checkpoint("simulator:seed=42");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  WriteBatch b1;
  b1.scored.push_back(minimal_scored("tx-1", 1));
  b1.checkpoints = {{"simulator:seed=42", 100}, {"kafka:transactions/3", 7}};
  write_ok(b1);
  EXPECT_EQ(store_->checkpoint("simulator:seed=42")->value_or(-1), 100);
  EXPECT_EQ(store_->checkpoint("kafka:transactions/3")->value_or(-1), 7);

  WriteBatch b2;  // a batch of only a checkpoint is allowed (nothing decided, input consumed)
  b2.checkpoints = {{"simulator:seed=42", 250}};
  write_ok(b2);
  EXPECT_EQ(store_->checkpoint("simulator:seed=42")->value_or(-1), 250);
  EXPECT_EQ(store_->checkpoint("kafka:transactions/3")->value_or(-1), 7);
  EXPECT_FALSE(store_->checkpoint("simulator:seed=43")->has_value());
}

TEST_P(StoreContract, CountsEveryKindOfRow) {
  WriteBatch b;
  StoreCounts want;
  for (int i = 0; i < 23; ++i) {
    Action a = static_cast<Action>(i % 3);
    b.scored.push_back(minimal_scored("tx-" + std::to_string(i), i, a));
    ++want.transactions;
    ++want.decisions;
    (a == Action::kAllow ? want.allow : a == Action::kReview ? want.review : want.block)++;
    if (a != Action::kAllow) {
      auto status = i % 4 == 0   ? AlertStatus::kClosed
                    : i % 4 == 1 ? AlertStatus::kInvestigating
                                 : AlertStatus::kOpen;
      b.alerts.push_back(alert_for(b.scored.back(), i, status));
      ++want.alerts;
      if (status == AlertStatus::kOpen) ++want.open_alerts;
    }
    if (i % 5 == 0) {
      b.labels.push_back(
          LabelEvent{b.scored.back().tx.id, "a", "", "", i, i + 1, Label::kLegit, "chargeback"});
      ++want.labels;
    }
    if (i % 7 == 0) {
      b.dead_letters.push_back(DeadLetter{"http", "bad " + std::to_string(i), "", "no", i});
      ++want.dead_letters;
    }
  }
  expect_same_counts(counts(), StoreCounts{});
  write_ok(b);
  expect_same_counts(counts(), want);
  write_ok(WriteBatch{});  // an empty batch changes nothing
  expect_same_counts(counts(), want);
}

TEST_P(StoreContract, RecentAlertsAreNewestFirstWithTheirTransactionAndReasons) {
  // Written in an order unrelated to their times, across two batches.
  std::vector<Timestamp> times = {500, 100, 900, 300, 700, 300};
  std::vector<Scored> scored;
  std::vector<Alert> alerts;
  for (size_t i = 0; i < times.size(); ++i) {
    scored.push_back(full_scored("tx-" + std::to_string(i), times[i], Action::kReview));
    alerts.push_back(alert_for(scored.back(), times[i]));
  }
  WriteBatch b1, b2;
  for (size_t i = 0; i < times.size(); ++i) {
    WriteBatch& b = i < 3 ? b1 : b2;
    b.scored.push_back(scored[i]);
    b.alerts.push_back(alerts[i]);
  }
  write_ok(b1);
  write_ok(b2);

  // Expected: by created_at descending; equal times, the later written first.
  std::vector<size_t> order(times.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return times[a] != times[b] ? times[a] > times[b] : a > b;
  });

  auto got = store_->recent_alerts(100);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), times.size());
  for (size_t k = 0; k < order.size(); ++k) {
    SCOPED_TRACE(k);
    const AlertRow& row = (*got)[k];
    expect_same_alert(row.alert, alerts[order[k]]);
    expect_same_transaction(row.tx, scored[order[k]].tx);
    ASSERT_EQ(row.reasons.size(), scored[order[k]].decision.reasons.size());
    EXPECT_EQ(row.reasons[0].rule_id, scored[order[k]].decision.reasons[0].rule_id);
  }
  auto limited = store_->recent_alerts(2);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ((*limited)[0].alert.transaction_id, alerts[order[0]].transaction_id);
  EXPECT_EQ((*limited)[1].alert.transaction_id, alerts[order[1]].transaction_id);
  EXPECT_TRUE(store_->recent_alerts(0)->empty());
}

TEST_P(StoreContract, RecentDecisionsAreNewestFirst) {
  std::vector<Timestamp> decided = {40, 10, 30, 20, 30};
  WriteBatch b;
  for (size_t i = 0; i < decided.size(); ++i) {
    b.scored.push_back(full_scored("tx-" + std::to_string(i), 1, Action::kAllow));
    b.scored.back().decision.decided_at = decided[i];
  }
  write_ok(b);
  auto got = store_->recent_decisions(4);
  ASSERT_TRUE(got.ok()) << got.error().message();
  std::vector<std::string> ids;
  for (const DecisionRow& row : *got) {
    EXPECT_EQ(row.tx.id, row.decision.transaction_id);
    ids.push_back(row.tx.id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"tx-0", "tx-4", "tx-2", "tx-3"}));
  expect_same_decision((*got)[0].decision, b.scored[0].decision);
  expect_same_transaction((*got)[0].tx, b.scored[0].tx);
}

TEST_P(StoreContract, LabelsAreUniquePerTransactionAndSource) {
  WriteBatch b;
  b.scored.push_back(minimal_scored("tx-1", 1));
  b.labels = {
      {"tx-1", "a", "", "", 1, 10, Label::kFraud, "analyst"},
      {"tx-1", "a", "", "", 1, 11, Label::kFraud, "chargeback"},
      {"tx-1", "a", "", "", 1, 12, Label::kLegit, "analyst"},  // same (tx, source): skipped
      // A label may arrive for a transaction this store never saw (older history).
      {"tx-elsewhere", "a", "", "", 1, 13, Label::kFraud, "analyst"},
  };
  write_ok(b);
  EXPECT_EQ(counts().labels, 3);
  WriteBatch again;
  again.labels = {{"tx-1", "a", "", "", 1, 14, Label::kFraud, "chargeback"}};
  write_ok(again);
  EXPECT_EQ(counts().labels, 3);
}

TEST_P(StoreContract, DeadLettersKeepTheirRawBytes) {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  std::string with_nul("{\"id\":\"a\0b\"}", 12);
  std::string long_text(64 * 1024, 'x');
  long_text[1000] = '\0';
  long_text.back() = '\xff';
  std::vector<DeadLetter> letters = {
      {"kafka:p3@42", with_nul, "id", "contains a NUL byte", 1},
      {"file:bin.csv:1", all_bytes, "", "not UTF-8", 2},
      {"http", long_text, "", "too long", 3},
      {"http", "", "", "empty body", 4},
  };
  WriteBatch b;
  b.dead_letters = letters;
  write_ok(b);
  auto got = store_->recent_dead_letters(10);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), letters.size());
  for (size_t k = 0; k < letters.size(); ++k) {
    const DeadLetter& want = letters[letters.size() - 1 - k];  // newest first
    const DeadLetter& have = (*got)[k];
    EXPECT_EQ(have.source, want.source);
    EXPECT_EQ(have.raw.size(), want.raw.size());
    EXPECT_TRUE(have.raw == want.raw) << "raw bytes differ for " << want.reason;
    EXPECT_EQ(have.field, want.field);
    EXPECT_EQ(have.reason, want.reason);
    EXPECT_EQ(have.received_at, want.received_at);
  }
  EXPECT_EQ(store_->recent_dead_letters(1)->size(), 1u);
  EXPECT_EQ(counts().dead_letters, 4);
}

TEST_P(StoreContract, ReadersSeeOnlyWholeBatchesWhileAWriterRuns) {
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 100;
  std::atomic<bool> done{false};
  std::atomic<bool> writer_ok{true};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      WriteBatch batch;
      for (int i = 0; i < kPerBatch; ++i) {
        batch.scored.push_back(
            minimal_scored("tx-" + std::to_string(b) + "-" + std::to_string(i), b, Action::kBlock));
        if (i % 10 == 0) batch.alerts.push_back(alert_for(batch.scored.back(), b));
      }
      batch.checkpoints.push_back({"sim", b + 1});
      if (!store_->write(batch).ok()) writer_ok = false;
    }
    done = true;
  });

  auto reader = [&](int* reads) {
    int64_t last = 0;
    while (true) {
      bool finished = done.load();  // read before, so the last loop sees the final state
      auto c = store_->counts();
      ASSERT_TRUE(c.ok()) << c.error().message();
      EXPECT_EQ(c->transactions % kPerBatch, 0) << "saw part of a batch";
      EXPECT_EQ(c->decisions, c->transactions);
      EXPECT_EQ(c->alerts * 10, c->transactions);
      EXPECT_GE(c->transactions, last);
      last = c->transactions;
      auto recent = store_->recent_decisions(5);
      ASSERT_TRUE(recent.ok()) << recent.error().message();
      EXPECT_LE(recent->size(), 5u);
      auto cp = store_->checkpoint("sim");
      ASSERT_TRUE(cp.ok());
      ++*reads;
      if (finished) break;
    }
    EXPECT_EQ(last, kBatches * kPerBatch);
  };
  int reads1 = 0, reads2 = 0;
  std::thread r1(reader, &reads1);
  std::thread r2(reader, &reads2);
  writer.join();
  r1.join();
  r2.join();
  EXPECT_TRUE(writer_ok);
  EXPECT_GT(reads1, 0);
  EXPECT_GT(reads2, 0);
  EXPECT_EQ(store_->checkpoint("sim")->value_or(-1), kBatches);
}

TEST_P(StoreContract, ReplayingAStreamTwiceLeavesTheSameRows) {
  // A stream of batches like a file replay produces, written once, then replayed from the start
  // with other batch boundaries (as after a crash that lost the writer's grouping).
  std::vector<WriteBatch> stream;
  for (int b = 0; b < 6; ++b) stream.push_back(mixed_batch("tx-" + std::to_string(b) + "-"));
  for (const WriteBatch& b : stream) write_ok(b);

  auto snapshot = [&] {
    std::vector<std::string> rows;
    auto decisions = store_->recent_decisions(1000);
    EXPECT_TRUE(decisions.ok());
    for (const DecisionRow& d : *decisions) {
      rows.push_back("d " + d.tx.id + " " + std::to_string(d.decision.decided_at) + " " +
                     std::string(to_string(d.decision.action)));
    }
    auto alerts = store_->recent_alerts(1000);
    EXPECT_TRUE(alerts.ok());
    for (const AlertRow& a : *alerts) rows.push_back("a " + a.alert.transaction_id);
    auto dead = store_->recent_dead_letters(1000);
    EXPECT_TRUE(dead.ok());
    for (const DeadLetter& d : *dead) rows.push_back("x " + d.source + " " + d.raw);
    return rows;
  };
  const std::vector<std::string> first = snapshot();
  const StoreCounts first_counts = counts();
  EXPECT_EQ(first_counts.transactions, 60);
  EXPECT_EQ(first_counts.alerts, 24);

  WriteBatch merged;  // the first three batches in one write
  for (int b = 0; b < 3; ++b) {
    for (const Scored& s : stream[b].scored) merged.scored.push_back(s);
    for (const Alert& a : stream[b].alerts) merged.alerts.push_back(a);
    for (const LabelEvent& l : stream[b].labels) merged.labels.push_back(l);
  }
  write_ok(merged);
  for (int b = 0; b < 6; ++b) write_ok(stream[b]);

  expect_same_counts(counts(), first_counts);
  EXPECT_EQ(snapshot(), first);
}

// Partition checkpoints -------------------------------------------------------------------

// Bytes that break anything treating them as text: NULs, every byte value, invalid UTF-8.
std::string binary_state(size_t size, uint32_t seed) {
  std::string s(size, '\0');
  uint32_t x = seed;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(i % 7 == 0 ? 0 : x >> 24);
  }
  return s;
}

void expect_same_checkpoint(const PartitionCheckpoint& got, const PartitionCheckpoint& want) {
  EXPECT_EQ(got.group, want.group);
  EXPECT_EQ(got.topic, want.topic);
  EXPECT_EQ(got.partition, want.partition);
  EXPECT_EQ(got.offset, want.offset);
  EXPECT_EQ(got.saved_at, want.saved_at);
  EXPECT_EQ(got.state.size(), want.state.size());
  EXPECT_TRUE(got.state == want.state) << "state bytes differ";
}

TEST_P(StoreContract, PartitionCheckpointsRoundTripBinaryStateAndUpsert) {
  auto none = store_->load_partition_checkpoint("g", "transactions", 0);
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_FALSE(none->has_value());

  PartitionCheckpoint a{"g", "transactions", 0, 41, binary_state(1000, 1), 1'700'000'000'000'001};
  PartitionCheckpoint b{"g", "transactions", 1, 7, std::string("\0\0x\0", 4), 5};
  PartitionCheckpoint other_group{"h", "transactions", 0, 3, "", 6};  // empty state is valid
  PartitionCheckpoint other_topic{"g", "labels", 0, 9, binary_state(10, 2), 7};
  for (const auto* cp : {&a, &b, &other_group, &other_topic}) {
    Status st = store_->save_partition_checkpoint(*cp);
    ASSERT_TRUE(st.ok()) << st.error().message();
  }
  for (const auto* cp : {&a, &b, &other_group, &other_topic}) {
    auto got = store_->load_partition_checkpoint(cp->group, cp->topic, cp->partition);
    ASSERT_TRUE(got.ok()) << got.error().message();
    ASSERT_TRUE(got->has_value()) << cp->group << "/" << cp->topic << "/" << cp->partition;
    expect_same_checkpoint(**got, *cp);
  }
  // Upsert: the newer checkpoint replaces the older, nothing else changes.
  PartitionCheckpoint a2{"g", "transactions", 0, 99, binary_state(333, 3), 1'700'000'000'000'002};
  ASSERT_TRUE(store_->save_partition_checkpoint(a2).ok());
  auto got = store_->load_partition_checkpoint("g", "transactions", 0);
  ASSERT_TRUE(got.ok() && got->has_value());
  expect_same_checkpoint(**got, a2);
  got = store_->load_partition_checkpoint("g", "transactions", 1);
  ASSERT_TRUE(got.ok() && got->has_value());
  expect_same_checkpoint(**got, b);
  EXPECT_FALSE(store_->load_partition_checkpoint("g", "transactions", 2)->has_value());
}

TEST_P(StoreContract, PartitionCheckpointsHoldMultiMegabyteStates) {
  // About what 20,000 accounts of 384 bytes take, with NULs and high bytes throughout.
  PartitionCheckpoint big{
      "group", "transactions", 11, 123'456'789'012, binary_state(size_t{7} << 20, 9), 42};
  ASSERT_TRUE(store_->save_partition_checkpoint(big).ok());
  // A reader on another thread, as the consumer's assignment handler would be.
  Result<std::optional<PartitionCheckpoint>> got = Error{};
  std::thread reader([&] { got = store_->load_partition_checkpoint("group", "transactions", 11); });
  reader.join();
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_TRUE(got->has_value());
  expect_same_checkpoint(**got, big);
}

TEST_P(StoreContract, InvalidPartitionCheckpointsArePermanentErrors) {
  const PartitionCheckpoint ok{"g", "t", 0, 0, "x", 0};
  auto expect_refused = [&](PartitionCheckpoint cp, const std::string& field) {
    Status st = store_->save_partition_checkpoint(cp);
    ASSERT_FALSE(st.ok()) << field;
    EXPECT_EQ(st.error().field, "partition_checkpoint." + field);
    EXPECT_TRUE(is_permanent(st.error())) << st.error().message();
  };
  PartitionCheckpoint cp = ok;
  cp.group = "";
  expect_refused(cp, "group");
  cp = ok;
  cp.topic = "";
  expect_refused(cp, "topic");
  cp = ok;
  cp.partition = -1;
  expect_refused(cp, "partition");
  cp = ok;
  cp.offset = -1;
  expect_refused(cp, "offset");
  EXPECT_FALSE(store_->load_partition_checkpoint("g", "t", 0)->has_value()) << "nothing stored";
  ASSERT_TRUE(store_->save_partition_checkpoint(ok).ok());
}

TEST_P(StoreContract, NamedListsAddRemoveShowAndRefuseHostileInput) {
  auto added = store_->add_list_values("bad_merchants", {"m-2", "m-1", "m-2", "m-3"});
  ASSERT_TRUE(added.ok()) << added.error().message();
  EXPECT_EQ(*added, 3u);  // m-2 once
  auto again = store_->add_list_values("bad_merchants", {"m-1", "m-4"});
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(*again, 1u);
  ASSERT_TRUE(store_->add_list_values("trusted", {"acc-9"}).ok());

  auto values = store_->list_values("bad_merchants");
  ASSERT_TRUE(values.ok()) << values.error().message();
  EXPECT_EQ(*values, (std::vector<std::string>{"m-1", "m-2", "m-3", "m-4"}));
  auto all = store_->lists();
  ASSERT_TRUE(all.ok()) << all.error().message();
  EXPECT_EQ(*all,
            (std::vector<std::pair<std::string, int64_t>>{{"bad_merchants", 4}, {"trusted", 1}}));

  auto removed = store_->remove_list_values("bad_merchants", {"m-1", "m-9"});
  ASSERT_TRUE(removed.ok()) << removed.error().message();
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(*store_->list_values("bad_merchants"), (std::vector<std::string>{"m-2", "m-3", "m-4"}));

  // A list with no values left is gone; an unknown list is an error naming it.
  ASSERT_TRUE(store_->remove_list_values("trusted", {"acc-9"}).ok());
  auto gone = store_->list_values("trusted");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message().find("list 'trusted': does not exist"), std::string::npos)
      << gone.error().message();
  EXPECT_EQ(store_->lists()->size(), 1u);

  // Hostile input: every entry point refuses it whole, naming the field; nothing changes.
  struct Bad {
    std::string name;
    std::vector<std::string> values;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {"", {"x"}, "list name: is empty"},
      {std::string(65, 'a'), {"x"}, "list name: is 65 bytes; the limit is 64"},
      {"bad name", {"x"}, "list name: may contain only"},
      {"l'; DROP TABLE named_lists; --", {"x"}, "list name: may contain only"},
      {"ok", {}, "values: are empty"},
      {"ok", {"fine", ""}, "values[1]: is empty"},
      {"ok", {std::string(257, 'v')}, "values[0]: is 257 bytes; the limit is 256"},
      {"ok", {std::string("a\0b", 3)}, "values[0]: contains a NUL"},
      {"ok", {"two\nlines"}, "values[0]: contains a NUL or a line break"},
      {"ok", std::vector<std::string>(100'001, "v"), "values: are 100001 at once"},
  };
  for (const Bad& b : bad) {
    auto add = store_->add_list_values(b.name, b.values);
    ASSERT_FALSE(add.ok()) << b.name;
    EXPECT_NE(add.error().message().find(b.message), std::string::npos) << add.error().message();
    auto remove = store_->remove_list_values(b.name, b.values);
    ASSERT_FALSE(remove.ok()) << b.name;
  }
  EXPECT_FALSE(store_->list_values("").ok());
  EXPECT_EQ(*store_->lists(), (std::vector<std::pair<std::string, int64_t>>{{"bad_merchants", 3}}));

  // Values are bytes: quotes, non-ASCII and the longest allowed value round-trip.
  const std::vector<std::string> odd = {"O'Brien \"x\"", "caf\xc3\xa9", std::string(256, 'z')};
  ASSERT_TRUE(store_->add_list_values("odd.values-1", odd).ok());
  auto back = store_->list_values("odd.values-1");
  ASSERT_TRUE(back.ok()) << back.error().message();
  std::vector<std::string> sorted = odd;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(*back, sorted);
}

TEST_P(StoreContract, AccountTransactionsAreTheAccountsNewestFirstWithTheirDecisions) {
  constexpr Timestamp kDay = 86'400'000'000;  // across days (PostgreSQL: several partitions)
  struct Row {
    const char* id;
    const char* account;
    Timestamp ts;
  };
  const std::vector<Row> rows = {
      {"a-1", "acct-A", 2 * kDay + 5}, {"b-1", "acct-B", 2 * kDay + 9}, {"a-2", "acct-A", 5},
      {"a-4", "acct-A", kDay + 7},     {"a-3", "acct-A", kDay + 7},     {"a-5", "acct-A", -kDay}};
  WriteBatch first, second;
  for (size_t i = 0; i < rows.size(); ++i) {
    Scored s = full_scored(rows[i].id, rows[i].ts, i % 2 == 0 ? Action::kReview : Action::kAllow);
    s.tx.account_id = rows[i].account;
    s.tx.finalize_keys();
    (i < 3 ? first : second).scored.push_back(s);
  }
  write_ok(first);
  write_ok(second);

  auto got = store_->account_transactions("acct-A", 10);
  ASSERT_TRUE(got.ok()) << got.error().message();
  std::vector<std::string> ids;
  for (const DecisionRow& row : *got) {
    EXPECT_EQ(row.tx.account_id, "acct-A");
    EXPECT_EQ(row.decision.transaction_id, row.tx.id);
    ids.push_back(row.tx.id);
  }
  // By time, newest first; the same time (a-3, a-4) by id, descending.
  EXPECT_EQ(ids, (std::vector<std::string>{"a-1", "a-4", "a-3", "a-2", "a-5"}));
  ASSERT_FALSE(got->empty());
  expect_same_transaction(got->front().tx, first.scored[0].tx);
  expect_same_decision(got->front().decision, first.scored[0].decision);

  auto two = store_->account_transactions("acct-A", 2);
  ASSERT_TRUE(two.ok()) << two.error().message();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].tx.id, "a-4");
  auto none = store_->account_transactions("acct-none", 10);
  ASSERT_TRUE(none.ok()) << none.error().message();
  EXPECT_TRUE(none->empty());
  // A repeated write changes nothing (first write wins).
  write_ok(second);
  auto again = store_->account_transactions("acct-A", 10);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 5u);
}

TEST_P(StoreContract, LargeBatchesWithAwkwardBytesRoundTrip) {
  // Thousands of rows per write (PostgreSQL sends its COPY in parts) and text that text formats
  // must escape: tab, newline, carriage return, backslash, quotes, multi-byte UTF-8.
  const std::string awkward = "tab\there\nnew\rline back\\slash \"q\" 'q' \xc3\xa9\xe2\x82\xac";
  WriteBatch b;
  for (int i = 0; i < 5000; ++i) {
    Scored s = full_scored("big-" + std::to_string(i), 1'700'000'000'000'000 + i,
                           i % 7 == 0 ? Action::kBlock : Action::kAllow);
    s.tx.account_id = "acct-" + std::to_string(i % 3);
    s.tx.merchant_id = awkward;
    s.tx.fraud_pattern = awkward + std::to_string(i);
    s.decision.reasons[0].detail = awkward;
    s.tx.finalize_keys();
    b.scored.push_back(s);
    if (s.decision.action != Action::kAllow) {
      b.alerts.push_back(alert_for(b.scored.back(), s.tx.ts + 1));
      b.alerts.back().summary = awkward;
    }
  }
  b.labels.push_back(LabelEvent{"big-0", awkward, "m", "t", 1, 2, Label::kLegit, "analyst"});
  write_ok(b);
  EXPECT_EQ(counts().transactions, 5000);
  EXPECT_EQ(counts().alerts, static_cast<int64_t>(b.alerts.size()));

  auto got = store_->account_transactions("acct-1", 3);
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].tx.id, "big-4999");
  expect_same_transaction((*got)[0].tx, b.scored[4999].tx);
  expect_same_decision((*got)[0].decision, b.scored[4999].decision);
  auto alerts = store_->recent_alerts(1);
  ASSERT_TRUE(alerts.ok() && alerts->size() == 1u);
  EXPECT_EQ((*alerts)[0].alert.summary, awkward);
  EXPECT_EQ((*alerts)[0].alert.transaction_id, "big-4998");

  // Replayed whole (PostgreSQL: the duplicate is found after several parts were sent, and the
  // batch goes through the staging path) and with new rows mixed in: nothing is stored twice.
  write_ok(b);
  WriteBatch mixed = b;
  mixed.scored.push_back(full_scored("big-new", 1'700'000'000'000'000 - 1));
  write_ok(mixed);
  EXPECT_EQ(counts().transactions, 5001);
  EXPECT_EQ(counts().alerts, static_cast<int64_t>(b.alerts.size()));
}

const StoreFactory kSqlite{"sqlite", false, [](const testing::TempDir& dir) {
                             return open_sqlite_store(SqliteOptions{.path = dir.file("store.db")});
                           }};

const StoreFactory kPostgres{
    "postgres", true, [](const testing::TempDir&) {
      return open_postgres_store(PostgresOptions{.url = testing::create_test_database()});
    }};

// The models' part of a decision (docs/models.md) round-trips through find_transaction,
// recent_decisions and the alert's row; a decision made without models keeps none.
TEST_P(StoreContract, RoundTripsTheModelPartOfADecision) {
  WriteBatch batch;
  Scored flagged = full_scored("tx-model", 1000, Action::kBlock);
  flagged.decision.model_score = 0.93;
  flagged.decision.shadow_score = 0.81;
  flagged.decision.anomaly_score = 0.62;
  flagged.decision.model_version = "m0123456789ab";
  flagged.decision.contributions = {{"amount", 1.25}, {"new_device", -0.5}, {"mcc", 0.125}};
  batch.scored.push_back(flagged);
  batch.alerts.push_back(alert_for(flagged, 1000));
  Scored partial = full_scored("tx-partial", 900);  // a shadow only: no champion fields
  partial.decision.shadow_score = 0.25;
  batch.scored.push_back(partial);
  batch.scored.push_back(full_scored("tx-plain", 800));
  write_ok(batch);

  auto got = store_->find_transaction("tx-model");
  ASSERT_TRUE(got.ok() && got->has_value()) << (got.ok() ? "" : got.error().message());
  const Decision& d = (*got)->decision;
  EXPECT_DOUBLE_EQ(d.model_score, 0.93);
  EXPECT_DOUBLE_EQ(d.shadow_score, 0.81);
  EXPECT_DOUBLE_EQ(d.anomaly_score, 0.62);
  EXPECT_EQ(d.model_version, "m0123456789ab");
  ASSERT_EQ(d.contributions.size(), 3u);
  EXPECT_EQ(d.contributions[1].feature, "new_device");
  EXPECT_DOUBLE_EQ(d.contributions[1].value, -0.5);

  auto alerts = store_->recent_alerts(10);
  ASSERT_TRUE(alerts.ok()) << alerts.error().message();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_DOUBLE_EQ((*alerts)[0].decision.model_score, 0.93);
  ASSERT_EQ((*alerts)[0].decision.contributions.size(), 3u);
  EXPECT_EQ((*alerts)[0].decision.contributions[0].feature, "amount");

  auto p = store_->find_transaction("tx-partial");
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_DOUBLE_EQ((*p)->decision.shadow_score, 0.25);
  EXPECT_TRUE(std::isnan((*p)->decision.model_score));
  EXPECT_TRUE((*p)->decision.model_version.empty());

  auto plain = store_->find_transaction("tx-plain");
  ASSERT_TRUE(plain.ok() && plain->has_value());
  EXPECT_TRUE(std::isnan((*plain)->decision.model_score));
  EXPECT_TRUE(std::isnan((*plain)->decision.anomaly_score));
  EXPECT_TRUE((*plain)->decision.contributions.empty());

  auto recent = store_->recent_decisions(10);
  ASSERT_TRUE(recent.ok());
  ASSERT_FALSE(recent->empty());
  EXPECT_EQ((*recent)[0].tx.id, "tx-model");
  EXPECT_EQ((*recent)[0].decision.contributions.size(), 3u);
}

RegisteredModel registered(const std::string& version, Timestamp at) {
  return {.version = version,
          .path = "/models/" + version,
          .metrics = R"({"roc_auc": 0.91, "average_precision": 0.52, "threshold": 0.4})",
          .registered_at = at,
          .status = ModelStatus::kCandidate,
          .status_at = at};
}

const RegisteredModel* find_model(const std::vector<RegisteredModel>& all, const std::string& v) {
  for (const RegisteredModel& m : all) {
    if (m.version == v) return &m;
  }
  return nullptr;
}

std::string status_of(Store& store, const std::string& v) {
  auto all = store.registered_models();
  EXPECT_TRUE(all.ok()) << all.error().message();
  if (!all.ok()) return "?";
  const RegisteredModel* m = find_model(*all, v);
  return m == nullptr ? "missing" : std::string(to_string(m->status));
}

TEST_P(StoreContract, ModelRegistryRegistersIdempotentlyAndKeepsOneChampionAndOneShadow) {
  auto empty = store_->registered_models();
  ASSERT_TRUE(empty.ok()) << empty.error().message();
  EXPECT_TRUE(empty->empty());

  auto first = store_->register_model(registered("m000000000001", 100));
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_TRUE(*first);
  ASSERT_TRUE(store_->register_model(registered("m000000000002", 200)).ok());
  ASSERT_TRUE(store_->register_model(registered("m000000000003", 300)).ok());

  // Idempotent: the same version again is not new, keeps its time and status, takes the path.
  RegisteredModel moved = registered("m000000000001", 999);
  moved.path = "/elsewhere/it's here \xc3\xa9";
  moved.metrics = R"({"roc_auc": 0.93})";
  auto again = store_->register_model(moved);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_FALSE(*again);
  auto all = store_->registered_models();
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].version, "m000000000001");  // oldest registration first
  EXPECT_EQ((*all)[2].version, "m000000000003");
  EXPECT_EQ((*all)[0].registered_at, 100);
  EXPECT_EQ((*all)[0].status_at, 100);
  EXPECT_EQ((*all)[0].status, ModelStatus::kCandidate);
  EXPECT_EQ((*all)[0].path, moved.path);
  EXPECT_EQ((*all)[0].metrics, moved.metrics);
  EXPECT_EQ((*all)[1].metrics, registered("x", 0).metrics);  // the JSON text as given

  // The first champion displaces nobody.
  auto c1 = store_->set_model_status("m000000000001", ModelStatus::kChampion, 1000);
  ASSERT_TRUE(c1.ok()) << c1.error().message();
  ASSERT_EQ(c1->size(), 1u);
  EXPECT_EQ((*c1)[0].version, "m000000000001");
  EXPECT_EQ((*c1)[0].from, ModelStatus::kCandidate);
  EXPECT_EQ((*c1)[0].to, ModelStatus::kChampion);
  // Again: nothing changes.
  auto same = store_->set_model_status("m000000000001", ModelStatus::kChampion, 1001);
  ASSERT_TRUE(same.ok()) << same.error().message();
  EXPECT_TRUE(same->empty());

  // A new champion retires the old one, in the same call.
  auto c2 = store_->set_model_status("m000000000002", ModelStatus::kChampion, 2000);
  ASSERT_TRUE(c2.ok()) << c2.error().message();
  ASSERT_EQ(c2->size(), 2u);
  EXPECT_EQ((*c2)[0].version, "m000000000001");
  EXPECT_EQ((*c2)[0].to, ModelStatus::kRetired);
  EXPECT_EQ((*c2)[1].version, "m000000000002");
  EXPECT_EQ(status_of(*store_, "m000000000001"), "retired");
  EXPECT_EQ(status_of(*store_, "m000000000002"), "champion");
  auto after = store_->registered_models();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(find_model(*after, "m000000000002")->status_at, 2000);
  EXPECT_EQ(find_model(*after, "m000000000001")->status_at, 2000);
  EXPECT_EQ(find_model(*after, "m000000000003")->status_at, 300);

  // Shadows: a new shadow sends the old one back to candidate; the champion is untouched.
  ASSERT_TRUE(store_->set_model_status("m000000000003", ModelStatus::kShadow, 3000).ok());
  auto s2 = store_->set_model_status("m000000000001", ModelStatus::kShadow, 3100);
  ASSERT_TRUE(s2.ok()) << s2.error().message();
  ASSERT_EQ(s2->size(), 2u);
  EXPECT_EQ((*s2)[0].version, "m000000000003");
  EXPECT_EQ((*s2)[0].from, ModelStatus::kShadow);
  EXPECT_EQ((*s2)[0].to, ModelStatus::kCandidate);
  EXPECT_EQ(status_of(*store_, "m000000000001"), "shadow");
  EXPECT_EQ(status_of(*store_, "m000000000002"), "champion");

  // The shadow promoted to champion leaves the shadow role empty and retires the champion.
  auto c3 = store_->set_model_status("m000000000001", ModelStatus::kChampion, 4000);
  ASSERT_TRUE(c3.ok()) << c3.error().message();
  ASSERT_EQ(c3->size(), 2u);
  EXPECT_EQ((*c3)[1].from, ModelStatus::kShadow);
  auto roles = store_->registered_models();
  ASSERT_TRUE(roles.ok());
  int champions = 0, shadows = 0;
  for (const RegisteredModel& m : *roles) {
    champions += m.status == ModelStatus::kChampion ? 1 : 0;
    shadows += m.status == ModelStatus::kShadow ? 1 : 0;
  }
  EXPECT_EQ(champions, 1);
  EXPECT_EQ(shadows, 0);
  // Retiring the champion leaves no champion (the CLI guards this; the store allows it).
  ASSERT_TRUE(store_->set_model_status("m000000000001", ModelStatus::kRetired, 5000).ok());
  EXPECT_EQ(status_of(*store_, "m000000000001"), "retired");
  ASSERT_TRUE(store_->set_model_status("m000000000003", ModelStatus::kCandidate, 5100).ok());

  // Unknown versions and hostile input are refused naming the field; nothing changes.
  auto unknown = store_->set_model_status("m999999999999", ModelStatus::kChampion, 6000);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("m999999999999"), std::string::npos);
  EXPECT_NE(unknown.error().message().find("model list"), std::string::npos);
  auto injected =
      store_->set_model_status("x'; DROP TABLE model_registry; --", ModelStatus::kChampion, 6000);
  ASSERT_FALSE(injected.ok());
  EXPECT_NE(injected.error().message().find("model version"), std::string::npos);
  struct Bad {
    RegisteredModel m;
    std::string message;
  };
  std::vector<Bad> bad;
  bad.push_back({registered("", 1), "model version: is empty"});
  bad.push_back({registered(std::string(65, 'm'), 1), "model version: is 65 bytes"});
  bad.push_back({registered("m 1", 1), "model version: may contain only"});
  RegisteredModel no_path = registered("m-nopath", 1);
  no_path.path.clear();
  bad.push_back({no_path, "model path: is empty"});
  RegisteredModel nul_path = registered("m-nul", 1);
  nul_path.path = std::string("/a\0b", 4);
  bad.push_back({nul_path, "model path: contains a NUL"});
  RegisteredModel long_path = registered("m-long", 1);
  long_path.path = std::string(4097, 'p');
  bad.push_back({long_path, "model path: is 4097 bytes"});
  RegisteredModel not_json = registered("m-json", 1);
  not_json.metrics = "{\"roc_auc\": ";
  bad.push_back({not_json, "model metrics: must be a JSON object"});
  RegisteredModel array = registered("m-array", 1);
  array.metrics = "[1, 2]";
  bad.push_back({array, "model metrics: must be a JSON object"});
  RegisteredModel huge = registered("m-huge", 1);
  huge.metrics = "{\"x\": \"" + std::string(70'000, 'x') + "\"}";
  bad.push_back({huge, "model metrics: is 70009 bytes"});
  for (const Bad& b : bad) {
    auto r = store_->register_model(b.m);
    ASSERT_FALSE(r.ok()) << b.message;
    EXPECT_NE(r.error().message().find(b.message), std::string::npos) << r.error().message();
  }
  auto final_rows = store_->registered_models();
  ASSERT_TRUE(final_rows.ok());
  EXPECT_EQ(final_rows->size(), 3u);
  EXPECT_EQ(status_of(*store_, "m000000000002"), "retired");
  EXPECT_EQ(status_of(*store_, "m000000000003"), "candidate");
}

// Many threads promoting different versions at once: every call succeeds, and at the end there
// is exactly one champion and every replaced one is retired.
TEST_P(StoreContract, ConcurrentActivationsLeaveExactlyOneChampion) {
  const int kVersions = 6;
  for (int i = 0; i < kVersions; ++i) {
    ASSERT_TRUE(store_->register_model(registered("mc" + std::to_string(i), i)).ok());
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < kVersions; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 5; ++round) {
        auto r = store_->set_model_status("mc" + std::to_string((i + round) % kVersions),
                                          ModelStatus::kChampion, 1000 + round);
        if (!r.ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto all = store_->registered_models();
  ASSERT_TRUE(all.ok()) << all.error().message();
  int champions = 0, retired = 0;
  for (const RegisteredModel& m : *all) {
    champions += m.status == ModelStatus::kChampion ? 1 : 0;
    retired += m.status == ModelStatus::kRetired ? 1 : 0;
  }
  EXPECT_EQ(champions, 1);
  EXPECT_EQ(retired, kVersions - 1);  // every version was champion once; all but one replaced
  EXPECT_EQ(failures.load(), 0);
}

// Training history (train --from-store): every transaction in (ts, id) order, page by page,
// whatever order the batches were written in, with every field as written.
TEST_P(StoreContract, ScansTransactionsInTimeOrderPageByPage) {
  const Timestamp day = kMicrosPerDay;
  std::vector<Scored> all;
  // Three days (three PostgreSQL partitions); equal timestamps ordered by id.
  for (int i = 0; i < 23; ++i) {
    const Timestamp ts = 20000 * day + (i % 3) * day + (i % 5) * 1000;
    Scored s = i == 4 ? full_scored("tx-" + std::to_string(100 + i), ts)
                      : minimal_scored("tx-" + std::to_string(100 + i), ts);
    if (i % 4 == 0) s.tx.label = Label::kLegit;
    all.push_back(std::move(s));
  }
  WriteBatch late, early;  // the later days written first
  for (const Scored& s : all) (s.tx.ts >= 20001 * day ? late : early).scored.push_back(s);
  write_ok(late);
  write_ok(early);
  std::vector<Transaction> want;
  for (const Scored& s : all) want.push_back(s.tx);
  std::sort(want.begin(), want.end(), [](const Transaction& a, const Transaction& b) {
    return a.ts != b.ts ? a.ts < b.ts : a.id < b.id;
  });

  std::vector<Transaction> got;
  std::vector<size_t> pages;
  Status st = store_->scan_transactions(0, 5, [&](std::vector<Transaction>& page) {
    pages.push_back(page.size());
    for (Transaction& tx : page) got.push_back(std::move(tx));
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(pages, (std::vector<size_t>{5, 5, 5, 5, 3}));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(want[i].id);
    expect_same_transaction(got[i], want[i]);
  }

  // `before` bounds the scan; on_page returning false stops it.
  std::vector<std::string> first_day;
  st = store_->scan_transactions(20001 * day, 4, [&](std::vector<Transaction>& page) {
    for (const Transaction& tx : page) first_day.push_back(tx.id);
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error().message();
  std::vector<std::string> want_first_day;
  for (const Transaction& tx : want) {
    if (tx.ts < 20001 * day) want_first_day.push_back(tx.id);
  }
  EXPECT_EQ(first_day, want_first_day);
  int calls = 0;
  st = store_->scan_transactions(0, 2, [&](std::vector<Transaction>&) { return ++calls < 2; });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(calls, 2);

  st = store_->scan_transactions(0, 0, [](std::vector<Transaction>&) { return true; });
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().field, "page_size");
}

TEST_P(StoreContract, ScanningAnEmptyStoreCallsNothing) {
  int calls = 0;
  Status st = store_->scan_transactions(0, 10, [&](std::vector<Transaction>&) {
    ++calls;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(calls, 0);
  auto labels = store_->label_events();
  ASSERT_TRUE(labels.ok()) << labels.error().message();
  EXPECT_TRUE(labels->empty());
}

TEST_P(StoreContract, LabelEventsComeInLabelledAtOrderWithEveryField) {
  WriteBatch b;
  b.scored.push_back(minimal_scored("tx-1", 1));
  b.labels = {
      {"tx-2", "acct-2", "m-2", "t-2", 5, 300, Label::kFraud, "chargeback"},
      {"tx-1", "acct-1", "m-1", "t-1", 1, 100, Label::kLegit, "analyst"},
      {"tx-3", "acct-3", "", "", 7, 200, Label::kFraud, "analyst"},
      {"tx-1", "acct-1", "m-1", "t-1", 1, 300, Label::kFraud, "analyst-2"},
  };
  write_ok(b);
  auto got = store_->label_events();
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 4u);
  // labelled_at, then transaction id, then source.
  const std::vector<std::pair<std::string, std::string>> order = {
      {"tx-1", "analyst"}, {"tx-3", "analyst"}, {"tx-1", "analyst-2"}, {"tx-2", "chargeback"}};
  for (size_t i = 0; i < order.size(); ++i) {
    EXPECT_EQ((*got)[i].transaction_id, order[i].first) << i;
    EXPECT_EQ((*got)[i].source, order[i].second) << i;
  }
  const LabelEvent& l = (*got)[3];
  EXPECT_EQ(l.account_id, "acct-2");
  EXPECT_EQ(l.merchant_id, "m-2");
  EXPECT_EQ(l.terminal_id, "t-2");
  EXPECT_EQ(l.transaction_ts, 5);
  EXPECT_EQ(l.labelled_at, 300);
  EXPECT_EQ(l.label, Label::kFraud);
  EXPECT_EQ((*got)[0].label, Label::kLegit);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract, ::testing::Values(kSqlite, kPostgres),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace fw
