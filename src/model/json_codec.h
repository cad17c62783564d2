// The canonical JSON-lines form of Transaction and LabelEvent (docs/transaction-format.md).
// JsonDecoder owns a simdjson parser and its buffers: make one per thread and reuse it; it is
// not thread-safe. The append_json / to_json writers are free functions, thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/pan.h"
#include "core/result.h"
#include "model/transaction.h"

namespace fw {

// Longest JSON line accepted by the decoder, in bytes.
inline constexpr size_t kMaxJsonLineBytes = 65536;

class JsonDecoder {
 public:
  // tokenizer: not owned, may be null (then a "card_number" field is an error); must outlive
  // the decoder.
  explicit JsonDecoder(const PanTokenizer* tokenizer = nullptr);
  ~JsonDecoder();
  JsonDecoder(JsonDecoder&&) noexcept;
  JsonDecoder& operator=(JsonDecoder&&) noexcept;

  // Decodes and validates one line (one JSON object; surrounding whitespace and a trailing
  // '\r' are allowed). Unknown fields are ignored. Calls finalize_keys() on success.
  Result<Transaction> decode(std::string_view line);
  // As decode(), into `out`, reusing its strings' capacity. Every field is overwritten; on
  // error `out` is unspecified.
  Status decode_into(std::string_view line, Transaction& out);
  // {"transaction_id","account_id","merchant_id","terminal_id","transaction_ts","labelled_at",
  //  "label","source"}; transaction_id, account_id, transaction_ts, labelled_at and a known label
  // are required.
  Result<LabelEvent> decode_label(std::string_view line);

  // Low level, for other JSON-lines readers (column mappings): parses `line` and calls
  // visit(key, kind, text) for each member of the top-level object, where text is the unescaped
  // string, the raw number token, "true"/"false", or "" for null. Nested objects and arrays
  // are reported with kind kOther and empty text. visit returns a Status; a failure stops and is
  // returned. Views are valid only during the call.
  enum class Kind { kString, kNumber, kBool, kNull, kOther };
  template <typename Visit>
  Status for_each_member(std::string_view line, Visit&& visit) {
    return for_each_member_impl(
        line, &visit,
        [](void* ctx, std::string_view k, Kind kind, std::string_view text) -> Status {
          return (*static_cast<Visit*>(ctx))(k, kind, text);
        });
  }

 private:
  using VisitFn = Status (*)(void*, std::string_view, Kind, std::string_view);
  Status for_each_member_impl(std::string_view line, void* ctx, VisitFn fn);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  const PanTokenizer* tokenizer_;
};

// Appends the transaction as one JSON object, keys in canonical order, without a newline.
// Empty optional fields are omitted (so are mcc 0, an absent location or offset, an unknown
// label); card_present is always written.
void append_json(std::string& out, const Transaction& tx);
void append_json(std::string& out, const LabelEvent& label);
std::string to_json(const Transaction& tx);
std::string to_json(const LabelEvent& label);

// Appends `s` as a JSON string literal (quotes included), escaping '"', '\\' and control
// characters. Bytes >= 0x80 are copied as they are.
void append_json_string(std::string& out, std::string_view s);

}  // namespace fw
