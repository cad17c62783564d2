#include "model/transaction.h"

#include <array>

#include "core/hash.h"
#include "model/decision.h"

namespace fw {
namespace {

constexpr std::array<std::string_view, kTxTypeCount> kTxTypeNames = {
    "card_purchase", "transfer", "withdrawal", "deposit", "bill_payment"};
constexpr std::array<std::string_view, kChannelCount> kChannelNames = {
    "pos", "ecommerce", "mobile_app", "atm", "branch", "online_banking"};

}  // namespace

std::string_view to_string(TxType t) { return kTxTypeNames[static_cast<size_t>(t)]; }

std::optional<TxType> parse_tx_type(std::string_view s) {
  for (size_t i = 0; i < kTxTypeNames.size(); ++i) {
    if (kTxTypeNames[i] == s) return static_cast<TxType>(i);
  }
  return std::nullopt;
}

std::string_view to_string(Channel c) { return kChannelNames[static_cast<size_t>(c)]; }

std::optional<Channel> parse_channel(std::string_view s) {
  for (size_t i = 0; i < kChannelNames.size(); ++i) {
    if (kChannelNames[i] == s) return static_cast<Channel>(i);
  }
  return std::nullopt;
}

std::optional<Country> Country::parse(std::string_view code) {
  if (code.size() != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') {
    return std::nullopt;
  }
  return Country{static_cast<uint16_t>(code[0] << 8 | code[1])};
}

std::string Country::code() const {
  if (packed == 0) return "";
  return std::string{static_cast<char>(packed >> 8), static_cast<char>(packed & 0xff)};
}

void Transaction::finalize_keys() {
  account_key = hash_id(account_id);
  merchant_key = merchant_id.empty() ? 0 : hash_id(merchant_id);
  terminal_key = terminal_id.empty() ? 0 : hash_id(terminal_id);
  device_key = device_id.empty() ? 0 : hash_id(device_id);
}

std::string_view to_string(Action a) {
  switch (a) {
    case Action::kAllow:
      return "ALLOW";
    case Action::kReview:
      return "REVIEW";
    case Action::kBlock:
      return "BLOCK";
  }
  return "ALLOW";
}

std::optional<Action> parse_action(std::string_view s) {
  if (s == "ALLOW") return Action::kAllow;
  if (s == "REVIEW") return Action::kReview;
  if (s == "BLOCK") return Action::kBlock;
  return std::nullopt;
}

std::string_view to_string(AlertStatus s) {
  switch (s) {
    case AlertStatus::kOpen:
      return "open";
    case AlertStatus::kInvestigating:
      return "investigating";
    case AlertStatus::kClosed:
      return "closed";
  }
  return "open";
}

std::optional<AlertStatus> parse_alert_status(std::string_view s) {
  if (s == "open") return AlertStatus::kOpen;
  if (s == "investigating") return AlertStatus::kInvestigating;
  if (s == "closed") return AlertStatus::kClosed;
  return std::nullopt;
}

}  // namespace fw
