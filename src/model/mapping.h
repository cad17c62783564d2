// Column mappings: how to read someone else's CSV or JSON-lines history as transactions.
// ColumnMapping is a value loaded once from YAML (docs/column-mapping.md); RecordDecoder binds a
// mapping to one file (its CSV header) and converts records. A RecordDecoder is used by one
// thread at a time; a ColumnMapping is immutable after loading and safe to share.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/money.h"
#include "core/pan.h"
#include "core/result.h"
#include "model/csv_codec.h"
#include "model/json_codec.h"
#include "model/transaction.h"

namespace fw {

enum class RecordFormat : uint8_t { kCsv, kJsonl };

enum class TimestampFormat : uint8_t {
  kIso8601,       // RFC 3339; a timestamp without zone is taken at timezone_offset_minutes
  kEpochSeconds,  // "1700000000" or "1700000000.25"
  kEpochMillis,
  kEpochMicros,
  kPattern,  // strftime-style pattern in timestamp_pattern
};

struct LabelMapping {
  std::string column;                     // source column holding the label
  std::vector<std::string> fraud_values;  // values meaning fraud ("1", "true", "fraud", ...)
  std::vector<std::string> legit_values;  // values meaning legitimate; anything else is an error
};

struct ColumnMapping {
  std::string name;  // the file it came from, for messages
  RecordFormat format = RecordFormat::kCsv;
  char delimiter = ',';
  // Source column (CSV header name or JSON key) for each field; empty = not mapped.
  std::array<std::string, kTxFieldCount> columns;
  TimestampFormat timestamp_format = TimestampFormat::kIso8601;
  std::string timestamp_pattern;    // for kPattern
  int timezone_offset_minutes = 0;  // offset of naive timestamps from UTC
  bool amount_in_minor_units = false;
  // Constant value (in fraudwatch's vocabulary) for a field whose column is absent or empty.
  // default_currency is stored as defaults[kCurrency].
  std::array<std::string, kTxFieldCount> defaults;
  std::optional<LabelMapping> label;
  // Per field: source value -> fraudwatch value. Values not listed pass through unchanged.
  std::array<std::vector<std::pair<std::string, std::string>>, kTxFieldCount> values;

  const std::string& column(TxField f) const { return columns[static_cast<size_t>(f)]; }
  const std::string& default_value(TxField f) const { return defaults[static_cast<size_t>(f)]; }

  // Errors name the place: "<path>:<line>:<column>: <key>: <reason>".
  static Result<ColumnMapping> from_yaml_file(const std::string& path);
  static Result<ColumnMapping> from_yaml_string(std::string_view yaml, std::string_view name);
  // The identity mapping of the canonical format (every field from the column of its own name,
  // RFC 3339 times, major-unit amounts).
  static ColumnMapping canonical(bool csv);
};

// Parses a timestamp as the mapping says (format, pattern, offset of naive times).
Result<Timestamp> parse_mapped_timestamp(const ColumnMapping& mapping, std::string_view text);

// Converts records of one file through a mapping. Holds a copy of the mapping.
class RecordDecoder {
 public:
  // Binds the mapping's CSV column names to positions in `header`. Error if a required field
  // has neither a column in the header nor a default.
  static Result<RecordDecoder> for_csv(const ColumnMapping& mapping,
                                       const std::vector<std::string>& header,
                                       const PanTokenizer* tokenizer);
  static RecordDecoder for_jsonl(const ColumnMapping& mapping, const PanTokenizer* tokenizer);

  RecordDecoder(RecordDecoder&&) noexcept;
  RecordDecoder& operator=(RecordDecoder&&) noexcept;
  ~RecordDecoder();

  // One CSV record (already split). Calls finalize_keys() on success.
  Status decode_csv(const std::vector<std::string>& fields, Transaction& out);
  // One JSON-lines record. Calls finalize_keys() on success.
  Status decode_json(std::string_view line, Transaction& out);

 private:
  RecordDecoder(const ColumnMapping& mapping, const PanTokenizer* tokenizer);
  // Applies defaults, value maps, the label mapping, timestamp and amount rules to the raw
  // source values in raw_, then decodes.
  Status finish(Transaction& out);

  ColumnMapping mapping_;
  const PanTokenizer* tokenizer_;
  std::array<int, kTxFieldCount> index_{};  // CSV: column position per field, -1 if absent
  size_t header_size_ = 0;
  std::array<std::string, kTxFieldCount> raw_;  // source text per field for the current record
  std::unique_ptr<JsonDecoder> json_;
};

}  // namespace fw
