// The text form of a transaction: the canonical field list (shared by the JSON and CSV formats
// and by column mappings), the decoder from per-field text values that every input path ends
// in, and the canonical CSV format (header, RFC 4180 rows, record splitting).
// Free functions over value types; thread-safe. The format is described in
// docs/transaction-format.md.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/pan.h"
#include "core/result.h"
#include "model/transaction.h"

namespace fw {

// Canonical fields in wire order: JSON key order and CSV column order. kCardNumber is an
// input-only field: it is tokenized into card_token and never written.
enum class TxField : uint8_t {
  kId,
  kTs,
  kAccountId,
  kAmount,
  kCurrency,
  kType,
  kChannel,
  kMerchantId,
  kMcc,
  kTerminalId,
  kCountry,
  kLat,
  kLon,
  kUtcOffsetMinutes,
  kDeviceId,
  kIp,
  kCounterparty,
  kCardPresent,
  kCardToken,
  kLabel,
  kFraudPattern,
  kCardNumber,
};
inline constexpr size_t kCanonicalFieldCount = 21;  // the written fields (all but card_number)
inline constexpr size_t kTxFieldCount = 22;

std::string_view field_name(TxField f);
std::optional<TxField> parse_field_name(std::string_view name);

// One record as text, by field. An empty view means "not given" (absent, null or "").
// The views must outlive decode_text_record().
struct TextRecord {
  std::array<std::string_view, kTxFieldCount> value{};
  // When set, used as the time instead of parsing value[kTs] as RFC 3339 (column mappings
  // parse their own timestamp formats).
  std::optional<Timestamp> ts;
  // value[kAmount] holds an integer in minor units ("1250") rather than major units ("12.50").
  bool amount_in_minor_units = false;

  std::string_view& operator[](TxField f) { return value[static_cast<size_t>(f)]; }
  std::string_view operator[](TxField f) const { return value[static_cast<size_t>(f)]; }
};

// Validates a record and fills `out` (reusing its string capacity), then calls
// out.finalize_keys(). Every field of `out` is overwritten. On error `out` is unspecified and the
// Error names the field. tokenizer may be null: then a card_number value is an error.
Status decode_text_record(const TextRecord& record, const PanTokenizer* tokenizer,
                          Transaction& out);

// Parses a label as written in files: "fraud" / "1" / "true" -> kFraud, "legit" / "0" /
// "false" -> kLegit, "" -> kUnknown (case-insensitive).
std::optional<Label> parse_label_text(std::string_view text);
std::string_view to_string(Label label);  // "fraud", "legit", "" for kUnknown

// The canonical CSV header: the kCanonicalFieldCount field names in wire order, comma-separated.
std::string_view csv_header();

// Appends one RFC 4180 row (fields quoted only when they contain ',', '"', CR or LF), without
// a line terminator. Amount in major units, ts RFC 3339, empty cells for absent fields.
void append_csv_row(std::string& out, const Transaction& tx);
// Appends one CSV cell, quoted (RFC 4180) only when it holds a comma, quote or line break.
void append_csv_cell(std::string& out, std::string_view v);

// Splits one CSV record into fields (quoted fields, doubled quotes inside them, a trailing
// '\r' is ignored). Reuses the strings in `fields`. Error on an unbalanced quote or on text
// after a closing quote.
Status split_csv_record(std::string_view line, std::vector<std::string>& fields,
                        char delimiter = ',');

}  // namespace fw
