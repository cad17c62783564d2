// The built-in default rule set. Keep identical to config/rules.yaml: a test compares them
// byte for byte (tests/rules/rule_set_test.cc). Pure constant.
#pragma once

#include <string_view>

namespace fw::rules {

inline constexpr std::string_view kDefaultRulesYaml =
    R"(# fraudwatch default rule set. Reference: docs/rules.md (the language, the actions, the policy,
# and the rationale of every rule below). Unknown keys are errors; a rule set with any error is
# rejected whole and the running one stays.
name: default

# combined score = 1 - prod(1 - score) over the fired rules (allow rules add nothing).
policy:
  review_at: 0.5   # REVIEW at or above this score
  block_at: 0.9    # BLOCK at or above this score

lists:
  # Merchant category codes with high fraud and cash-out rates: gambling, quasi-cash / crypto,
  # money transfer, jewelry, gift cards.
  high_risk_mccs:
    values: ["7995", "6051", "4829", "5944", "5947"]
  # Accounts an analyst has cleared (allow-list override). Empty by default; add ids here or
  # point `file:` at a list with one id per line.
  trusted_accounts:
    values: []

rules:
  # ---- the first rules (foundation) -----------------------------------------------------
  - id: large_amount
    description: Amount at or above about 10,000 EUR, per currency (exact, in minor units)
    when: |
      amount > 10000 EUR or amount > 10000 USD or amount > 10000 GBP or amount > 10000 CHF
      or amount > 43000 PLN or amount > 113000 SEK or amount > 1500000 JPY
      or amount > 55000 BRL or amount > 900000 INR or amount > 16000000 NGN
      or amount > 170000000 IDR or amount > 185000 MXN or amount > 380000 THB
      or amount > 14000000 KRW
    score: 0.6
    severity: medium
    tags: [amount]

  - id: velocity
    description: More than 3 transactions on the account within 60 seconds
    when: tx_count_1m > 3
    score: 0.5
    severity: medium
    tags: [velocity]

  - id: unusual_hour
    description: Transaction between 01:00 and 04:59 local time
    when: local_hour between 1 and 4
    score: 0.2
    severity: low
    tags: [time]

  - id: impossible_travel
    description: Implied travel speed that no traveller achieves, or a remote payment from another country within the hour
    when: |
      (has_prev_location and distance_from_prev_km >= 50 and speed_from_prev_kmh > 900)
      or (not card_present and seconds_since_other_country >= 0s
          and seconds_since_other_country < 60m)
    score: 0.8
    severity: high
    tags: [geo]

  # ---- the simulator's fraud patterns ---------------------------------------------------
  - id: device_velocity
    description: Three or more distinct devices on the account within 24 hours
    when: distinct_devices_24h >= 3
    score: 0.4
    severity: medium
    tags: [device, velocity]

  - id: structuring
    description: Cash deposit or transfer just under the 10,000 reporting threshold
    when: near_reporting_threshold and type in ["deposit", "transfer"]
    score: 0.5
    severity: high
    tags: [aml, amount]

  - id: micro_then_large
    description: A purchase 100 times the average of 3 or more earlier ones within the hour
    when: |
      type == "card_purchase" and tx_count_1h >= 4
      and major(amount) > 100 * (tx_sum_1h - major(amount)) / (tx_count_1h - 1)
    score: 0.7
    severity: high
    tags: [card_testing]

  - id: new_device_large_transfer
    description: A transfer far above the account's usual amount from a new or second device
    when: type == "transfer" and amount_zscore > 3 and (new_device or distinct_devices_24h >= 2)
    score: 0.6
    severity: high
    tags: [account_takeover, device]

  - id: dormant_reactivation
    description: A transfer or withdrawal after more than 90 days without activity
    when: has_prev and seconds_since_prev > 90d and type in ["transfer", "withdrawal"]
    score: 0.5
    severity: medium
    tags: [dormancy]

  - id: high_risk_mcc
    description: E-commerce payment well above the usual amount at a high-risk merchant category
    when: mcc in list("high_risk_mccs") and channel == "ecommerce" and amount_zscore > 1.5
    score: 0.3
    severity: medium
    tags: [merchant]

  - id: unexpected_international
    description: Card-present use in a country the account has not used before
    when: is_international and new_country and card_present
    score: 0.3
    severity: medium
    tags: [geo]

  - id: round_amount_transfer
    description: A round transfer (multiple of 100) above the usual amount to a new counterparty
    when: type == "transfer" and is_round_amount and amount_zscore > 1 and distinct_counterparties_24h >= 1
    score: 0.3
    severity: low
    tags: [amount, mule]

  # ---- overrides --------------------------------------------------------------------------
  - id: trusted_account
    description: Allow-list override for accounts an analyst has cleared
    when: account_id in list("trusted_accounts")
    action: allow
    severity: low
    tags: [allow_list]
)";

}  // namespace fw::rules
