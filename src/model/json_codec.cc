#include "model/json_codec.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>

#include "model/csv_codec.h"
#include "model/number_text.h"

namespace fw {
namespace {

namespace od = simdjson::ondemand;
using Kind = JsonDecoder::Kind;

// Key -> field, by length first so that each key costs at most three comparisons.
std::optional<TxField> lookup_field(std::string_view k) {
  using F = TxField;
  switch (k.size()) {
    case 2:
      if (k == "id") return F::kId;
      if (k == "ts") return F::kTs;
      if (k == "ip") return F::kIp;
      break;
    case 3:
      if (k == "mcc") return F::kMcc;
      if (k == "lat") return F::kLat;
      if (k == "lon") return F::kLon;
      break;
    case 4:
      if (k == "type") return F::kType;
      break;
    case 5:
      if (k == "label") return F::kLabel;
      break;
    case 6:
      if (k == "amount") return F::kAmount;
      break;
    case 7:
      if (k == "channel") return F::kChannel;
      if (k == "country") return F::kCountry;
      break;
    case 8:
      if (k == "currency") return F::kCurrency;
      break;
    case 9:
      if (k == "device_id") return F::kDeviceId;
      break;
    case 10:
      if (k == "account_id") return F::kAccountId;
      if (k == "card_token") return F::kCardToken;
      break;
    case 11:
      if (k == "merchant_id") return F::kMerchantId;
      if (k == "terminal_id") return F::kTerminalId;
      if (k == "card_number") return F::kCardNumber;
      break;
    case 12:
      if (k == "counterparty") return F::kCounterparty;
      if (k == "card_present") return F::kCardPresent;
      break;
    case 13:
      if (k == "fraud_pattern") return F::kFraudPattern;
      break;
    case 18:
      if (k == "utc_offset_minutes") return F::kUtcOffsetMinutes;
      break;
    default:
      break;
  }
  return std::nullopt;
}

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::kString:
      return "a string";
    case Kind::kNumber:
      return "a number";
    case Kind::kBool:
      return "a boolean";
    case Kind::kNull:
      return "null";
    case Kind::kOther:
      return "an object or array";
  }
  return "?";
}

// Which JSON kinds each field accepts, and how to say so.
bool kind_allowed(TxField f, Kind k, const char*& expected) {
  switch (f) {
    case TxField::kAmount:
      expected = "a decimal string or number";
      return k == Kind::kString || k == Kind::kNumber;
    case TxField::kMcc:
      expected = "an integer 0..9999";
      return k == Kind::kNumber || k == Kind::kString;
    case TxField::kLat:
    case TxField::kLon:
      expected = "a number";
      return k == Kind::kNumber;
    case TxField::kUtcOffsetMinutes:
      expected = "an integer";
      return k == Kind::kNumber;
    case TxField::kCardPresent:
      expected = "a boolean";
      return k == Kind::kBool;
    case TxField::kLabel:
      expected = "\"fraud\", \"legit\", 1, 0, true or false";
      return k == Kind::kString || k == Kind::kNumber || k == Kind::kBool;
    default:
      expected = "a string";
      return k == Kind::kString;
  }
}

Error json_error(simdjson::error_code e) {
  return Error{"", std::string("not valid JSON (") + simdjson::error_message(e) + ")"};
}

Error line_too_long(size_t n) {
  return Error{"", "line is " + std::to_string(n) + " bytes; the limit is " +
                       std::to_string(kMaxJsonLineBytes)};
}

void append_key(std::string& out, const char* key_with_quotes_and_colon, size_t n) {
  out.append(key_with_quotes_and_colon, n);
}

#define FW_KEY(out, lit) append_key(out, lit, sizeof(lit) - 1)

}  // namespace

struct JsonDecoder::Impl {
  od::parser parser;
  std::string buf;  // the line copied with SIMDJSON_PADDING spare bytes
  TextRecord record;
};

JsonDecoder::JsonDecoder(const PanTokenizer* tokenizer)
    : impl_(std::make_unique<Impl>()), tokenizer_(tokenizer) {}
JsonDecoder::~JsonDecoder() = default;
JsonDecoder::JsonDecoder(JsonDecoder&&) noexcept = default;
JsonDecoder& JsonDecoder::operator=(JsonDecoder&&) noexcept = default;

Status JsonDecoder::for_each_member_impl(std::string_view line, void* ctx, VisitFn fn) {
  if (line.size() > kMaxJsonLineBytes) return line_too_long(line.size());
  std::string& buf = impl_->buf;
  if (buf.size() < line.size() + simdjson::SIMDJSON_PADDING) {
    buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
  }
  std::memcpy(buf.data(), line.data(), line.size());
  std::memset(buf.data() + line.size(), 0, simdjson::SIMDJSON_PADDING);

  od::document doc;
  if (auto e = impl_->parser.iterate(buf.data(), line.size(), buf.size()).get(doc)) {
    return json_error(e);
  }
  od::object obj;
  if (auto e = doc.get_object().get(obj)) {
    if (e == simdjson::INCORRECT_TYPE) return Error{"", "not a JSON object"};
    return json_error(e);
  }
  for (auto member : obj) {
    od::field field;
    if (auto e = std::move(member).get(field)) return json_error(e);
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return json_error(e);
    od::value v = field.value();
    od::json_type type;
    if (auto e = v.type().get(type)) return json_error(e);
    Kind kind = Kind::kOther;
    std::string_view text;
    switch (type) {
      case od::json_type::string:
        kind = Kind::kString;
        if (auto e = v.get_string().get(text)) return json_error(e);
        break;
      case od::json_type::number: {
        kind = Kind::kNumber;
        text = v.raw_json_token();
        while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                                 text.back() == '\r')) {
          text.remove_suffix(1);
        }
        break;
      }
      case od::json_type::boolean: {
        kind = Kind::kBool;
        bool b = false;
        if (auto e = v.get_bool().get(b)) return json_error(e);
        text = b ? "true" : "false";
        break;
      }
      case od::json_type::null: {
        kind = Kind::kNull;
        bool is_null = false;
        if (auto e = v.is_null().get(is_null)) return json_error(e);
        if (!is_null) return json_error(simdjson::N_ATOM_ERROR);
        break;
      }
      case od::json_type::array:
      case od::json_type::object:
        kind = Kind::kOther;  // skipped by the iterator
        break;
    }
    if (Status s = fn(ctx, key, kind, text); !s) return s;
  }
  auto end = doc.current_location();
  if (end.error() != simdjson::OUT_OF_BOUNDS) {
    if (end.error() == simdjson::SUCCESS) {
      return Error{"", "unexpected content after the JSON object; put one object per line"};
    }
    return json_error(end.error());
  }
  return Status::Ok();
}

Status JsonDecoder::decode_into(std::string_view line, Transaction& out) {
  TextRecord& rec = impl_->record;
  rec.value.fill(std::string_view());
  uint32_t seen = 0;
  Status s = for_each_member(
      line, [&rec, &seen](std::string_view key, Kind kind, std::string_view text) -> Status {
        auto f = lookup_field(key);
        if (!f) return Status::Ok();  // unknown fields are ignored (forward compatibility)
        uint32_t bit = 1u << static_cast<unsigned>(*f);
        if (seen & bit) {
          return Error{std::string(key), "appears twice; give each field once"};
        }
        seen |= bit;
        if (kind == Kind::kNull) return Status::Ok();
        const char* expected = "";
        if (!kind_allowed(*f, kind, expected)) {
          return Error{std::string(key), std::string("expected ") + expected + ", got " +
                                             std::string(kind_name(kind))};
        }
        rec[*f] = text;
        return Status::Ok();
      });
  if (!s) return s;
  return decode_text_record(rec, tokenizer_, out);
}

Result<Transaction> JsonDecoder::decode(std::string_view line) {
  Transaction tx;
  if (Status s = decode_into(line, tx); !s) return s.error();
  return tx;
}

Result<LabelEvent> JsonDecoder::decode_label(std::string_view line) {
  LabelEvent ev;
  std::string_view transaction_ts, labelled_at, label;
  bool have_label = false;
  Status s =
      for_each_member(line, [&](std::string_view key, Kind kind, std::string_view text) -> Status {
        std::string* target = nullptr;
        std::string_view* view = nullptr;
        if (key == "transaction_id") {
          target = &ev.transaction_id;
        } else if (key == "account_id") {
          target = &ev.account_id;
        } else if (key == "merchant_id") {
          target = &ev.merchant_id;
        } else if (key == "terminal_id") {
          target = &ev.terminal_id;
        } else if (key == "source") {
          target = &ev.source;
        } else if (key == "transaction_ts") {
          view = &transaction_ts;
        } else if (key == "labelled_at") {
          view = &labelled_at;
        } else if (key == "label") {
          if (kind != Kind::kNull && kind != Kind::kOther) {
            label = text;
            have_label = true;
            return Status::Ok();
          }
        } else {
          return Status::Ok();
        }
        if (kind == Kind::kNull) return Status::Ok();
        if (kind != Kind::kString) {
          return Error{std::string(key), "expected a string, got " + std::string(kind_name(kind))};
        }
        if (view != nullptr) {
          *view = text;
          return Status::Ok();
        }
        if (text.size() > 64) {
          return Error{std::string(key),
                       "is " + std::to_string(text.size()) + " characters; the limit is 64"};
        }
        for (char c : text) {
          if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return Error{std::string(key), "has a control or non-ASCII byte; use printable ASCII"};
          }
        }
        target->assign(text);
        return Status::Ok();
      });
  if (!s) return s.error();
  if (ev.transaction_id.empty()) return Error{"transaction_id", "missing (required)"};
  if (ev.account_id.empty()) return Error{"account_id", "missing (required)"};
  if (transaction_ts.empty()) return Error{"transaction_ts", "missing (required)"};
  auto tts = parse_rfc3339(transaction_ts);
  if (!tts) return Error{"transaction_ts", tts.error().reason};
  ev.transaction_ts = *tts;
  if (labelled_at.empty()) return Error{"labelled_at", "missing (required)"};
  auto lts = parse_rfc3339(labelled_at);
  if (!lts) return Error{"labelled_at", lts.error().reason};
  ev.labelled_at = *lts;
  auto parsed = have_label ? parse_label_text(label) : std::optional<Label>(Label::kUnknown);
  if (!parsed || *parsed == Label::kUnknown) {
    return Error{"label", "must be \"fraud\" or \"legit\" (or 1/0/true/false)"};
  }
  ev.label = *parsed;
  return ev;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        static const char* kHex = "0123456789abcdef";
        char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(esc, 6);
      }
    }
  }
  out.append(s.data() + start, s.size() - start);
  out.push_back('"');
}

void append_json(std::string& out, const Transaction& tx) {
  FW_KEY(out, "{\"id\":");
  append_json_string(out, tx.id);
  FW_KEY(out, ",\"ts\":\"");
  append_rfc3339(out, tx.ts);
  FW_KEY(out, "\",\"account_id\":");
  append_json_string(out, tx.account_id);
  FW_KEY(out, ",\"amount\":\"");
  if (tx.amount.currency.valid()) append_decimal_amount(out, tx.amount.minor, tx.amount.currency);
  FW_KEY(out, "\",\"currency\":\"");
  if (tx.amount.currency.valid()) {
    uint32_t p = tx.amount.currency.packed();
    char code[3] = {static_cast<char>(p >> 16), static_cast<char>((p >> 8) & 0xff),
                    static_cast<char>(p & 0xff)};
    out.append(code, 3);
  }
  FW_KEY(out, "\",\"type\":\"");
  out.append(to_string(tx.type));
  FW_KEY(out, "\",\"channel\":\"");
  out.append(to_string(tx.channel));
  out.push_back('"');
  if (!tx.merchant_id.empty()) {
    FW_KEY(out, ",\"merchant_id\":");
    append_json_string(out, tx.merchant_id);
  }
  if (tx.mcc != 0) {
    FW_KEY(out, ",\"mcc\":");
    append_int(out, tx.mcc);
  }
  if (!tx.terminal_id.empty()) {
    FW_KEY(out, ",\"terminal_id\":");
    append_json_string(out, tx.terminal_id);
  }
  if (tx.country.known()) {
    FW_KEY(out, ",\"country\":\"");
    out.push_back(static_cast<char>(tx.country.packed >> 8));
    out.push_back(static_cast<char>(tx.country.packed & 0xff));
    out.push_back('"');
  }
  if (tx.has_location && std::isfinite(tx.lat) && std::isfinite(tx.lon)) {
    FW_KEY(out, ",\"lat\":");
    append_double(out, tx.lat);
    FW_KEY(out, ",\"lon\":");
    append_double(out, tx.lon);
  }
  if (tx.utc_offset_minutes) {
    FW_KEY(out, ",\"utc_offset_minutes\":");
    append_int(out, *tx.utc_offset_minutes);
  }
  if (!tx.device_id.empty()) {
    FW_KEY(out, ",\"device_id\":");
    append_json_string(out, tx.device_id);
  }
  if (!tx.ip.empty()) {
    FW_KEY(out, ",\"ip\":");
    append_json_string(out, tx.ip);
  }
  if (!tx.counterparty.empty()) {
    FW_KEY(out, ",\"counterparty\":");
    append_json_string(out, tx.counterparty);
  }
  if (tx.card_present) {
    FW_KEY(out, ",\"card_present\":true");
  } else {
    FW_KEY(out, ",\"card_present\":false");
  }
  if (!tx.card_token.empty()) {
    FW_KEY(out, ",\"card_token\":");
    append_json_string(out, tx.card_token);
  }
  if (tx.label != Label::kUnknown) {
    FW_KEY(out, ",\"label\":\"");
    out.append(to_string(tx.label));
    out.push_back('"');
  }
  if (!tx.fraud_pattern.empty()) {
    FW_KEY(out, ",\"fraud_pattern\":");
    append_json_string(out, tx.fraud_pattern);
  }
  out.push_back('}');
}

void append_json(std::string& out, const LabelEvent& ev) {
  FW_KEY(out, "{\"transaction_id\":");
  append_json_string(out, ev.transaction_id);
  FW_KEY(out, ",\"account_id\":");
  append_json_string(out, ev.account_id);
  if (!ev.merchant_id.empty()) {
    FW_KEY(out, ",\"merchant_id\":");
    append_json_string(out, ev.merchant_id);
  }
  if (!ev.terminal_id.empty()) {
    FW_KEY(out, ",\"terminal_id\":");
    append_json_string(out, ev.terminal_id);
  }
  FW_KEY(out, ",\"transaction_ts\":\"");
  append_rfc3339(out, ev.transaction_ts);
  FW_KEY(out, "\",\"labelled_at\":\"");
  append_rfc3339(out, ev.labelled_at);
  out.push_back('"');
  if (ev.label != Label::kUnknown) {
    FW_KEY(out, ",\"label\":\"");
    out.append(to_string(ev.label));
    out.push_back('"');
  }
  if (!ev.source.empty()) {
    FW_KEY(out, ",\"source\":");
    append_json_string(out, ev.source);
  }
  out.push_back('}');
}

std::string to_json(const Transaction& tx) {
  std::string out;
  out.reserve(320);
  append_json(out, tx);
  return out;
}

std::string to_json(const LabelEvent& label) {
  std::string out;
  append_json(out, label);
  return out;
}

}  // namespace fw
