// Transaction: one payment event as the engine sees it, after decoding and validation.
// Value type, owned by whoever holds it; moved through the pipeline in batches.
// The wire formats (JSON, CSV) are documented in docs/transaction-format.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/money.h"
#include "core/time.h"

namespace fw {

enum class TxType : uint8_t { kCardPurchase, kTransfer, kWithdrawal, kDeposit, kBillPayment };
inline constexpr int kTxTypeCount = 5;

enum class Channel : uint8_t { kPos, kEcommerce, kMobileApp, kAtm, kBranch, kOnlineBanking };
inline constexpr int kChannelCount = 6;

// Wire names: "card_purchase", "transfer", "withdrawal", "deposit", "bill_payment".
std::string_view to_string(TxType t);
std::optional<TxType> parse_tx_type(std::string_view s);
// Wire names: "pos", "ecommerce", "mobile_app", "atm", "branch", "online_banking".
std::string_view to_string(Channel c);
std::optional<Channel> parse_channel(std::string_view s);

// ISO 3166-1 alpha-2 country code packed into 16 bits; 0 means unknown.
struct Country {
  uint16_t packed = 0;

  static std::optional<Country> parse(std::string_view code);  // two upper-case letters
  bool known() const { return packed != 0; }
  std::string code() const;
  friend bool operator==(Country, Country) = default;
};

// Fraud label: unknown (not yet labelled), legitimate, or fraud.
enum class Label : int8_t { kUnknown = -1, kLegit = 0, kFraud = 1 };

struct Transaction {
  std::string id;          // unique transaction id, 1..64 printable ASCII characters
  Timestamp ts = 0;        // when it happened, UTC microseconds
  std::string account_id;  // the customer account, 1..64 characters
  Money amount;            // positive, integer minor units + ISO 4217 currency
  TxType type = TxType::kCardPurchase;
  Channel channel = Channel::kPos;
  std::string merchant_id;  // empty for non-merchant transactions
  uint16_t mcc = 0;         // ISO 18245 merchant category code; 0 = none
  std::string terminal_id;  // POS terminal or ATM id; may be empty
  Country country;          // where it happened
  bool has_location = false;
  double lat = 0;  // degrees, valid when has_location
  double lon = 0;
  // Local time offset from UTC in minutes when the source knows it; otherwise the engine
  // estimates local time from longitude (see docs/features.md).
  std::optional<int16_t> utc_offset_minutes;
  std::string device_id;     // device fingerprint for digital channels; may be empty
  std::string ip;            // client IP for digital channels; may be empty
  std::string counterparty;  // receiving account for transfers; may be empty
  bool card_present = false;
  std::string card_token;  // keyed token of the card number (core/pan.h); never the clear PAN
  Label label = Label::kUnknown;  // optional ground truth carried by historical files
  std::string fraud_pattern;      // simulator only: the named pattern that produced it

  // Precomputed routing/state keys (hash_id of the ids); filled by finalize_keys().
  uint64_t account_key = 0;
  uint64_t merchant_key = 0;
  uint64_t terminal_key = 0;
  uint64_t device_key = 0;

  // The source partition it was read from (a Kafka partition), -1 when the source has none.
  // Runtime routing information only: not stored and not part of any codec. The engine tags
  // the account's state with it, so a partition's accounts can be snapshotted and moved.
  int32_t partition = -1;

  void finalize_keys();
};

// A label that arrives after the transaction (an analyst verdict, a chargeback).
// It carries the transaction's account, merchant, terminal and time so the engine can update
// the right state without a store lookup.
struct LabelEvent {
  std::string transaction_id;
  std::string account_id;
  std::string merchant_id;
  std::string terminal_id;
  Timestamp transaction_ts = 0;
  Timestamp labelled_at = 0;
  Label label = Label::kUnknown;
  std::string source;  // "simulator", "analyst", "chargeback", ...
};

// An input that could not be accepted: the raw text and why. Stored, never dropped.
struct DeadLetter {
  std::string source;  // where it came from: "file:history.csv:17", "http", "kafka:p3@42"
  std::string raw;     // the input as received (truncated to 64 KiB)
  std::string field;   // the field at fault, empty if the whole input is
  std::string reason;
  Timestamp received_at = 0;
};

}  // namespace fw
