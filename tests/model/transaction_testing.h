// Test helpers for Transaction: a fully populated sample and a field-by-field comparison.
// Header-only; used by the model and sources tests.
#pragma once

#include <gtest/gtest.h>

#include "model/transaction.h"

namespace fw::testing {

inline Transaction full_transaction() {
  Transaction tx;
  tx.id = "tx-1";
  tx.ts = 1795442700000000 + 123456;  // 2026-11-23T14:05:00.123456Z
  tx.account_id = "A1";
  tx.amount = Money{1250, Currency::of("EUR")};
  tx.type = TxType::kCardPurchase;
  tx.channel = Channel::kPos;
  tx.merchant_id = "M1";
  tx.mcc = 5411;
  tx.terminal_id = "T1";
  tx.country = *Country::parse("DE");
  tx.has_location = true;
  tx.lat = 52.52;
  tx.lon = 13.405;
  tx.utc_offset_minutes = 60;
  tx.device_id = "D1";
  tx.ip = "10.0.0.1";
  tx.counterparty = "DE89 3704 0044 0532 0130 00";
  tx.card_present = true;
  tx.card_token = "tok_0123456789abcdef0123456789abcdef";
  tx.label = Label::kFraud;
  tx.fraud_pattern = "card_testing";
  tx.finalize_keys();
  return tx;
}

inline void expect_same(const Transaction& a, const Transaction& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.ts, b.ts);
  EXPECT_EQ(a.account_id, b.account_id);
  EXPECT_EQ(a.amount, b.amount);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.channel, b.channel);
  EXPECT_EQ(a.merchant_id, b.merchant_id);
  EXPECT_EQ(a.mcc, b.mcc);
  EXPECT_EQ(a.terminal_id, b.terminal_id);
  EXPECT_EQ(a.country, b.country);
  EXPECT_EQ(a.has_location, b.has_location);
  EXPECT_EQ(a.lat, b.lat);
  EXPECT_EQ(a.lon, b.lon);
  EXPECT_EQ(a.utc_offset_minutes, b.utc_offset_minutes);
  EXPECT_EQ(a.device_id, b.device_id);
  EXPECT_EQ(a.ip, b.ip);
  EXPECT_EQ(a.counterparty, b.counterparty);
  EXPECT_EQ(a.card_present, b.card_present);
  EXPECT_EQ(a.card_token, b.card_token);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.fraud_pattern, b.fraud_pattern);
  EXPECT_EQ(a.account_key, b.account_key);
  EXPECT_EQ(a.merchant_key, b.merchant_key);
  EXPECT_EQ(a.terminal_key, b.terminal_key);
  EXPECT_EQ(a.device_key, b.device_key);
}

}  // namespace fw::testing
