#include "sources/simulator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/hash.h"

namespace fw {
namespace {

SimulatorConfig small_config(uint64_t seed = 7) {
  SimulatorConfig c;
  c.seed = seed;
  c.customers = 2000;
  c.merchants = 300;
  return c;
}

std::vector<Transaction> generate(const SimulatorConfig& config, size_t n) {
  Simulator sim(config);
  std::vector<Transaction> out;
  sim.next_batch(n, out);
  return out;
}

// Every field that matters for equality; fraud_pattern and label included.
bool same(const Transaction& a, const Transaction& b) {
  return a.id == b.id && a.ts == b.ts && a.account_id == b.account_id && a.amount == b.amount &&
         a.type == b.type && a.channel == b.channel && a.merchant_id == b.merchant_id &&
         a.mcc == b.mcc && a.terminal_id == b.terminal_id && a.country == b.country &&
         a.has_location == b.has_location && a.lat == b.lat && a.lon == b.lon &&
         a.utc_offset_minutes == b.utc_offset_minutes && a.device_id == b.device_id &&
         a.ip == b.ip && a.counterparty == b.counterparty && a.card_present == b.card_present &&
         a.card_token == b.card_token && a.label == b.label && a.fraud_pattern == b.fraud_pattern;
}

// The validation rules of docs/transaction-format.md, checked independently of the codec.
std::string invalid_reason(const Transaction& tx) {
  auto printable = [](const std::string& s) {
    for (char ch : s) {
      if (ch < 0x21 || ch > 0x7e) return false;
    }
    return true;
  };
  if (tx.id.empty() || tx.id.size() > 64 || !printable(tx.id)) return "id";
  if (tx.account_id.empty() || tx.account_id.size() > 64 || !printable(tx.account_id)) {
    return "account_id";
  }
  if (tx.amount.minor <= 0) return "amount";
  if (!tx.amount.currency.valid() || !Currency::parse(tx.amount.currency.code()).ok()) {
    return "currency";
  }
  if (!tx.country.known() || !Country::parse(tx.country.code())) return "country";
  if (tx.has_location && (std::abs(tx.lat) > 90 || std::abs(tx.lon) > 180)) return "location";
  if (tx.mcc > 9999) return "mcc";
  if (!tx.utc_offset_minutes || std::abs(*tx.utc_offset_minutes) > 14 * 60) return "utc_offset";
  if (tx.merchant_id.size() > 64 || tx.terminal_id.size() > 64 || tx.device_id.size() > 64 ||
      tx.counterparty.size() > 64) {
    return "id length";
  }
  if (tx.account_key != hash_id(tx.account_id)) return "keys not finalized";
  if (!tx.merchant_id.empty() && tx.merchant_key != hash_id(tx.merchant_id)) return "merchant_key";
  if (tx.label == Label::kFraud && tx.fraud_pattern.empty()) return "fraud without pattern";
  if (tx.label == Label::kLegit && !tx.fraud_pattern.empty()) return "legit with pattern";
  if (tx.label == Label::kUnknown) return "label";
  if (tx.type == TxType::kTransfer && tx.counterparty.empty()) return "transfer counterparty";
  if (tx.card_present && !tx.has_location) return "card-present without location";
  return "";
}

TEST(Simulator, SameSeedGivesIdenticalOutputWhateverTheBatching) {
  SimulatorConfig c = small_config();
  std::vector<Transaction> a = generate(c, 20000);
  Simulator sim(c);
  std::vector<Transaction> b;
  for (size_t n : {1u, 7u, 1000u, 18992u}) sim.next_batch(n, b);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_TRUE(same(a[i], b[i])) << i;
  // fill_batch reuses the vector and gives the same sequence.
  Simulator sim2(c);
  std::vector<Transaction> chunk;
  for (size_t off = 0; off < a.size(); off += 5000) {
    sim2.fill_batch(5000, chunk);
    for (size_t i = 0; i < chunk.size(); ++i) ASSERT_TRUE(same(a[off + i], chunk[i])) << off + i;
  }
}

TEST(Simulator, DifferentSeedGivesDifferentOutput) {
  std::vector<Transaction> a = generate(small_config(1), 2000);
  std::vector<Transaction> b = generate(small_config(2), 2000);
  size_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ += (a[i].account_id != b[i].account_id);
  EXPECT_GT(differ, a.size() * 9 / 10);
  EXPECT_NE(a[0].id, b[0].id);
}

TEST(Simulator, TimestampsAreNonDecreasingAndIdsUnique) {
  SimulatorConfig c = small_config();
  c.fraud_ratio = 0.05;  // plenty of scheduled scenario events interleaved
  std::vector<Transaction> txs = generate(c, 50000);
  std::set<std::string> ids;
  EXPECT_GE(txs.front().ts, c.start);
  for (size_t i = 0; i < txs.size(); ++i) {
    if (i > 0) {
      ASSERT_LE(txs[i - 1].ts, txs[i].ts) << i;
    }
    ids.insert(txs[i].id);
  }
  EXPECT_EQ(ids.size(), txs.size());
  EXPECT_EQ(txs[5].id, "tx-7-5");
}

TEST(Simulator, EveryTransactionIsValid) {
  SimulatorConfig c = small_config();
  c.fraud_ratio = 0.05;
  for (const Transaction& tx : generate(c, 50000)) {
    ASSERT_EQ(invalid_reason(tx), "") << tx.id << " " << tx.fraud_pattern;
  }
}

TEST(Simulator, FraudRatioIsNearTheTarget) {
  for (double ratio : {0.005, 0.02}) {
    SimulatorConfig c = small_config();
    c.fraud_ratio = ratio;
    size_t frauds = 0;
    std::vector<Transaction> txs = generate(c, 200000);
    for (const Transaction& tx : txs) frauds += tx.label == Label::kFraud;
    double got = static_cast<double>(frauds) / static_cast<double>(txs.size());
    EXPECT_NEAR(got, ratio, ratio * 0.15) << ratio;
  }
  SimulatorConfig none = small_config();
  none.fraud_ratio = 0;
  for (const Transaction& tx : generate(none, 20000)) ASSERT_EQ(tx.label, Label::kLegit);
}

TEST(Simulator, AllPatternsAppearWithTheDefaultMix) {
  SimulatorConfig c = small_config();
  c.fraud_ratio = 0.02;
  std::map<std::string, size_t> seen;
  for (const Transaction& tx : generate(c, 200000)) {
    if (tx.label == Label::kFraud) ++seen[tx.fraud_pattern];
  }
  for (const auto& p : fraud_patterns()) {
    EXPECT_GT(seen[std::string(p.name)], 0u) << p.name;
  }
  EXPECT_EQ(seen.size(), fraud_patterns().size());
}

TEST(Simulator, EachPatternAloneAppearsAndCarriesItsName) {
  ASSERT_GE(fraud_patterns().size(), 15u);
  for (const auto& p : fraud_patterns()) {
    SimulatorConfig c = small_config();
    c.fraud_ratio = 0.05;
    c.patterns = {std::string(p.name)};
    size_t frauds = 0;
    for (const Transaction& tx : generate(c, 20000)) {
      ASSERT_EQ(invalid_reason(tx), "") << p.name;
      if (tx.label == Label::kFraud) {
        ++frauds;
        ASSERT_EQ(tx.fraud_pattern, p.name);
      } else {
        ASSERT_TRUE(tx.fraud_pattern.empty());
      }
    }
    EXPECT_GT(frauds, 100u) << p.name;
  }
}

// Shape checks for patterns whose signature is a simple property of their transactions.
TEST(Simulator, PatternsHaveTheirSignature) {
  // The pattern's frauds, without the scenarios still running when generation stopped.
  auto only = [](std::string_view name) {
    SimulatorConfig c = small_config();
    c.fraud_ratio = 0.05;
    c.patterns = {std::string(name)};
    std::vector<Transaction> txs = generate(c, 60000);
    Timestamp cutoff = txs.back().ts - 2 * kMicrosPerDay;
    std::set<std::string> unfinished;
    for (const Transaction& tx : txs) {
      if (tx.ts > cutoff && tx.label == Label::kFraud) unfinished.insert(tx.account_id);
    }
    std::vector<Transaction> frauds;
    for (Transaction& tx : txs) {
      if (tx.label == Label::kFraud && !unfinished.count(tx.account_id)) {
        frauds.push_back(std::move(tx));
      }
    }
    return frauds;
  };
  for (const Transaction& tx : only("structuring")) {
    int64_t threshold = 10000 * tx.amount.currency.minor_per_major();
    EXPECT_LT(tx.amount.minor, threshold);
    EXPECT_GE(tx.amount.minor, threshold * 89 / 100);
  }
  for (const Transaction& tx : only("high_risk_mcc")) {
    EXPECT_TRUE(std::set<int>({7995, 6051, 4829, 5944, 5947}).count(tx.mcc)) << tx.mcc;
  }
  for (const Transaction& tx : only("round_amount_transfers")) {
    EXPECT_EQ(tx.type, TxType::kTransfer);
    EXPECT_EQ(tx.amount.minor % (100 * tx.amount.currency.minor_per_major()), 0);
  }
  for (const Transaction& tx : only("unusual_hour")) {
    int64_t local = tx.ts + *tx.utc_offset_minutes * kMicrosPerMinute;
    int64_t hour = (local % kMicrosPerDay + kMicrosPerDay) % kMicrosPerDay / kMicrosPerHour;
    EXPECT_GE(hour, 1);
    EXPECT_LE(hour, 5);  // starts before 05:00, a few minutes apart
  }
  // Mule fan-in: deposits into one account from distinct senders, then transfers out.
  std::map<std::string, std::set<std::string>> senders;
  for (const Transaction& tx : only("mule_fan_in")) {
    if (tx.type == TxType::kDeposit) senders[tx.account_id].insert(tx.counterparty);
  }
  ASSERT_FALSE(senders.empty());
  for (const auto& [account, set] : senders) EXPECT_GE(set.size(), 5u) << account;
  // Impossible travel: card-present abroad shortly after a card-present purchase at home.
  size_t foreign = 0;
  std::vector<Transaction> travel = only("impossible_travel");
  for (const Transaction& tx : travel) {
    EXPECT_TRUE(tx.card_present);
    foreign += tx.has_location;
  }
  EXPECT_EQ(foreign, travel.size());
  // Card testing: micro amounts precede the large one on the same card.
  std::map<std::string, std::vector<int64_t>> by_card;
  for (const Transaction& tx : only("card_testing")) {
    by_card[tx.card_token].push_back(tx.amount.minor);
  }
  ASSERT_FALSE(by_card.empty());
  for (const auto& [card, amounts] : by_card) {
    ASSERT_GE(amounts.size(), 4u);
    EXPECT_LT(amounts.front() * 100, amounts.back());  // at most 2.50 first, at least 400 last
  }
}

TEST(Simulator, NormalTrafficLooksLikeNormalTraffic) {
  SimulatorConfig c = small_config();
  c.fraud_ratio = 0;
  std::vector<Transaction> txs = generate(c, 100000);
  std::array<size_t, 24> by_hour{};
  std::map<TxType, size_t> by_type;
  std::map<Channel, size_t> by_channel;
  size_t domestic = 0, with_device = 0, digital = 0;
  std::unordered_map<std::string, std::set<std::string>> devices;
  std::unordered_map<std::string, std::string> home_currency;
  for (const Transaction& tx : txs) {
    int64_t local = tx.ts + *tx.utc_offset_minutes * kMicrosPerMinute;
    ++by_hour[static_cast<size_t>(local % kMicrosPerDay / kMicrosPerHour)];
    ++by_type[tx.type];
    ++by_channel[tx.channel];
    // Customer-initiated digital transactions (incoming deposits have no device).
    if ((tx.channel == Channel::kMobileApp || tx.channel == Channel::kOnlineBanking) &&
        tx.type != TxType::kDeposit) {
      ++digital;
      with_device += !tx.device_id.empty();
      devices[tx.account_id].insert(tx.device_id);
    }
    auto [it, inserted] = home_currency.emplace(tx.account_id, tx.amount.currency.code());
    EXPECT_EQ(it->second, tx.amount.currency.code()) << "one currency per account";
    if (tx.card_present) {
      // Card-present transactions have a location, and it is a real city area.
      EXPECT_TRUE(tx.has_location);
    }
    domestic += tx.channel != Channel::kEcommerce;
  }
  EXPECT_GT(by_hour[12] + by_hour[18], 10 * (by_hour[3] + by_hour[4]));
  EXPECT_EQ(by_type.size(), 5u);
  EXPECT_EQ(by_channel.size(), 6u);
  EXPECT_GT(by_type[TxType::kCardPurchase], txs.size() / 2);
  EXPECT_EQ(with_device, digital);
  size_t stable = 0;
  for (const auto& [account, set] : devices) stable += set.size() <= 3;
  EXPECT_EQ(stable, devices.size()) << "devices stable per customer";
  EXPECT_GT(domestic, txs.size() / 2);
}

TEST(Simulator, LabelsArriveAfterTheirTransactionWithTheConfiguredDelay) {
  SimulatorConfig c = small_config();
  c.fraud_ratio = 0.02;
  c.legit_label_fraction = 0.01;
  c.min_label_delay_us = 2 * kMicrosPerHour;
  c.max_label_delay_us = 5 * kMicrosPerHour;
  Simulator sim(c);
  std::vector<Transaction> batch;
  std::vector<LabelEvent> labels;
  std::unordered_map<std::string, Transaction> txs;
  Timestamp prev_labelled = 0;
  size_t fraud_labels = 0, legit_labels = 0, fraud_txs = 0;
  for (int round = 0; round < 50; ++round) {
    sim.fill_batch(1000, batch);
    for (const Transaction& tx : batch) {
      fraud_txs += tx.label == Label::kFraud;
      txs.emplace(tx.id, tx);
    }
    labels.clear();
    sim.take_due_labels(labels);
    for (const LabelEvent& l : labels) {
      ASSERT_TRUE(txs.count(l.transaction_id)) << l.transaction_id;
      const Transaction& tx = txs.at(l.transaction_id);
      EXPECT_EQ(l.label, tx.label);
      EXPECT_EQ(l.account_id, tx.account_id);
      EXPECT_EQ(l.merchant_id, tx.merchant_id);
      EXPECT_EQ(l.transaction_ts, tx.ts);
      EXPECT_GE(l.labelled_at - tx.ts, c.min_label_delay_us);
      EXPECT_LE(l.labelled_at - tx.ts, c.max_label_delay_us);
      EXPECT_LE(l.labelled_at, sim.now());
      EXPECT_GE(l.labelled_at, prev_labelled);
      prev_labelled = l.labelled_at;
      (l.label == Label::kFraud ? fraud_labels : legit_labels)++;
    }
  }
  labels.clear();
  sim.take_all_labels(labels);
  for (const LabelEvent& l : labels) {
    EXPECT_GT(l.labelled_at, sim.now());
    (l.label == Label::kFraud ? fraud_labels : legit_labels)++;
  }
  EXPECT_EQ(fraud_labels, fraud_txs);
  EXPECT_NEAR(static_cast<double>(legit_labels), 0.01 * (50000.0 - fraud_txs), 150);
}

TEST(Simulator, DefaultLabelDelayIsOneToThirtyDays) {
  SimulatorConfig c = small_config();
  c.fraud_ratio = 0.02;
  Simulator sim(c);
  std::vector<Transaction> batch;
  sim.fill_batch(20000, batch);
  std::vector<LabelEvent> labels;
  sim.take_all_labels(labels);
  ASSERT_FALSE(labels.empty());
  for (const LabelEvent& l : labels) {
    EXPECT_GE(l.labelled_at - l.transaction_ts, kMicrosPerDay);
    EXPECT_LE(l.labelled_at - l.transaction_ts, 30 * kMicrosPerDay);
  }
}

TEST(Simulator, SkipToResumesTheSameSequence) {
  SimulatorConfig c = small_config();
  c.fraud_ratio = 0.05;
  std::vector<Transaction> all = generate(c, 12000);
  for (uint64_t k : {0ull, 1ull, 4321ull, 10000ull}) {
    Simulator sim(c);
    sim.skip_to(k);
    EXPECT_EQ(sim.produced(), k);
    std::vector<Transaction> rest;
    sim.next_batch(2000, rest);
    for (size_t i = 0; i < rest.size(); ++i) ASSERT_TRUE(same(all[k + i], rest[i])) << k + i;
  }
  // Backwards as well.
  Simulator sim(c);
  std::vector<Transaction> scratch;
  sim.next_batch(9000, scratch);
  sim.skip_to(3000);
  std::vector<Transaction> rest;
  sim.next_batch(10, rest);
  EXPECT_TRUE(same(all[3000], rest[0]));
  EXPECT_EQ(sim.now(), all[3009].ts);
}

TEST(Simulator, ValidateRejectsBadConfigsNamingTheField) {
  SimulatorConfig c = small_config();
  c.patterns = {"card_testing", "nope", "card_testing", "also_bad"};
  auto r = validate(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "patterns");
  EXPECT_NE(r.error().reason.find("'nope', 'also_bad'"), std::string::npos) << r.error().reason;
  EXPECT_NE(r.error().reason.find("overdraft_probing"), std::string::npos);

  c.patterns = {"card_testing", "card_testing"};
  auto ok = validate(c);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->patterns.size(), 1u);

  SimulatorConfig bad = small_config();
  bad.fraud_ratio = 1.5;
  EXPECT_EQ(validate(bad).error().field, "fraud_ratio");
  bad = small_config();
  bad.customers = 1;
  EXPECT_EQ(validate(bad).error().field, "customers");
  bad = small_config();
  bad.min_label_delay_us = 10;
  bad.max_label_delay_us = 5;
  EXPECT_EQ(validate(bad).error().field, "label_delay");
  EXPECT_THROW(Simulator{bad}, std::invalid_argument);
}

TEST(Simulator, PatternCatalogueIsComplete) {
  std::set<std::string_view> names;
  for (const auto& p : fraud_patterns()) {
    names.insert(p.name);
    EXPECT_FALSE(p.summary.empty());
    EXPECT_FALSE(p.how_it_shows.empty());
  }
  for (const char* required :
       {"card_testing", "burst_velocity", "account_takeover", "impossible_travel", "unusual_hour",
        "high_risk_mcc", "unexpected_international", "compromised_terminal", "leaked_card",
        "mule_fan_in", "mule_fan_out", "structuring", "dormant_reactivation", "new_account_fraud",
        "round_amount_transfers", "overdraft_probing"}) {
    EXPECT_TRUE(names.count(required)) << required;
  }
}

}  // namespace
}  // namespace fw
