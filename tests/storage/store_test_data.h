// Builders and comparisons for Store tests: fully populated transactions and decisions, alerts
// for them, and field-by-field equality checks. Header-only; used by every Store test binary.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/decision.h"
#include "model/transaction.h"
#include "storage/store.h"

namespace fw::storage_testing {

// A transaction with every field set to a non-default value, and its decision.
inline Scored full_scored(const std::string& id, Timestamp ts, Action action = Action::kAllow) {
  Scored s;
  Transaction& tx = s.tx;
  tx.id = id;
  tx.ts = ts;
  tx.account_id = "acct-" + id;
  tx.amount = Money{123456, Currency::of("EUR")};
  tx.type = TxType::kTransfer;
  tx.channel = Channel::kMobileApp;
  tx.merchant_id = "merch-7";
  tx.mcc = 5411;
  tx.terminal_id = "term-3";
  tx.country = *Country::parse("DE");
  tx.has_location = true;
  tx.lat = 52.520008;
  tx.lon = -13.404954;
  tx.utc_offset_minutes = -330;
  tx.device_id = "dev-99";
  tx.ip = "2001:db8::1";
  tx.counterparty = "acct-other";
  tx.card_present = true;
  tx.card_token = "tok_abcdef";
  tx.label = Label::kFraud;
  tx.fraud_pattern = "card_testing";
  tx.finalize_keys();
  Decision& d = s.decision;
  d.transaction_id = id;
  d.decided_at = ts + 250;
  d.score = 0.1 + 0.2;  // not exactly representable: must come back bit for bit
  d.action = action;
  d.reasons = {{"velocity_1m", "5 transactions in the last 60 s (limit 3)", 0.25},
               {"odd \"chars\"", "back\\slash\nnew line\ttab \x01 caf\xc3\xa9", 1e-9}};
  d.rule_set_version = "rules-v12";
  d.latency_ns = 4321;
  return s;
}

// A transaction with only the required fields; optional ones unset.
inline Scored minimal_scored(const std::string& id, Timestamp ts, Action action = Action::kAllow) {
  Scored s;
  s.tx.id = id;
  s.tx.ts = ts;
  s.tx.account_id = "a";
  s.tx.amount = Money{7, Currency::of("JPY")};
  s.tx.finalize_keys();
  s.decision.transaction_id = id;
  s.decision.decided_at = ts;
  s.decision.action = action;
  return s;
}

inline Alert alert_for(const Scored& s, Timestamp created_at,
                       AlertStatus status = AlertStatus::kOpen) {
  Alert a;
  a.transaction_id = s.tx.id;
  a.account_id = s.tx.account_id;
  a.created_at = created_at;
  a.action = s.decision.action;
  a.score = s.decision.score;
  a.summary = "summary of " + s.tx.id;
  a.status = status;
  return a;
}

inline void expect_same_transaction(const Transaction& got, const Transaction& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.ts, want.ts);
  EXPECT_EQ(got.account_id, want.account_id);
  EXPECT_EQ(got.amount.minor, want.amount.minor);
  EXPECT_EQ(got.amount.currency.code(), want.amount.currency.code());
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.channel, want.channel);
  EXPECT_EQ(got.merchant_id, want.merchant_id);
  EXPECT_EQ(got.mcc, want.mcc);
  EXPECT_EQ(got.terminal_id, want.terminal_id);
  EXPECT_EQ(got.country.code(), want.country.code());
  EXPECT_EQ(got.has_location, want.has_location);
  EXPECT_EQ(got.lat, want.lat);
  EXPECT_EQ(got.lon, want.lon);
  EXPECT_EQ(got.utc_offset_minutes, want.utc_offset_minutes);
  EXPECT_EQ(got.device_id, want.device_id);
  EXPECT_EQ(got.ip, want.ip);
  EXPECT_EQ(got.counterparty, want.counterparty);
  EXPECT_EQ(got.card_present, want.card_present);
  EXPECT_EQ(got.card_token, want.card_token);
  EXPECT_EQ(got.label, want.label);
  EXPECT_EQ(got.fraud_pattern, want.fraud_pattern);
  EXPECT_EQ(got.account_key, want.account_key);
  EXPECT_EQ(got.merchant_key, want.merchant_key);
  EXPECT_EQ(got.terminal_key, want.terminal_key);
  EXPECT_EQ(got.device_key, want.device_key);
}

inline void expect_same_decision(const Decision& got, const Decision& want) {
  EXPECT_EQ(got.transaction_id, want.transaction_id);
  EXPECT_EQ(got.decided_at, want.decided_at);
  EXPECT_EQ(got.score, want.score);
  EXPECT_EQ(got.action, want.action);
  ASSERT_EQ(got.reasons.size(), want.reasons.size());
  for (size_t i = 0; i < got.reasons.size(); ++i) {
    EXPECT_EQ(got.reasons[i].rule_id, want.reasons[i].rule_id);
    EXPECT_EQ(got.reasons[i].detail, want.reasons[i].detail);
    EXPECT_EQ(got.reasons[i].score, want.reasons[i].score);
  }
  EXPECT_EQ(got.rule_set_version, want.rule_set_version);
  EXPECT_EQ(got.latency_ns, want.latency_ns);
}

inline void expect_same_alert(const Alert& got, const Alert& want) {
  EXPECT_EQ(got.transaction_id, want.transaction_id);
  EXPECT_EQ(got.account_id, want.account_id);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.action, want.action);
  EXPECT_EQ(got.score, want.score);
  EXPECT_EQ(got.summary, want.summary);
  EXPECT_EQ(got.status, want.status);
}

inline void expect_same_counts(const StoreCounts& got, const StoreCounts& want) {
  EXPECT_EQ(got.transactions, want.transactions);
  EXPECT_EQ(got.decisions, want.decisions);
  EXPECT_EQ(got.allow, want.allow);
  EXPECT_EQ(got.review, want.review);
  EXPECT_EQ(got.block, want.block);
  EXPECT_EQ(got.alerts, want.alerts);
  EXPECT_EQ(got.open_alerts, want.open_alerts);
  EXPECT_EQ(got.labels, want.labels);
  EXPECT_EQ(got.dead_letters, want.dead_letters);
}

}  // namespace fw::storage_testing
