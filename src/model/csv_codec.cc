#include "model/csv_codec.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "model/number_text.h"

namespace fw {
namespace {

constexpr std::array<std::string_view, kTxFieldCount> kFieldNames = {"id",
                                                                     "ts",
                                                                     "account_id",
                                                                     "amount",
                                                                     "currency",
                                                                     "type",
                                                                     "channel",
                                                                     "merchant_id",
                                                                     "mcc",
                                                                     "terminal_id",
                                                                     "country",
                                                                     "lat",
                                                                     "lon",
                                                                     "utc_offset_minutes",
                                                                     "device_id",
                                                                     "ip",
                                                                     "counterparty",
                                                                     "card_present",
                                                                     "card_token",
                                                                     "label",
                                                                     "fraud_pattern",
                                                                     "card_number"};

constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxIpLength = 45;

// A value quoted for an error message: at most 64 bytes, non-printable bytes as \xHH.
std::string quoted(std::string_view v) {
  std::string out = "'";
  size_t n = std::min<size_t>(v.size(), 64);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* kHex = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (v.size() > n) out += "...";
  out += "'";
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Error field_error(TxField f, std::string reason) {
  return Error{std::string(field_name(f)), std::move(reason)};
}

// Identifiers: 1..max printable ASCII characters.
Status set_ident(const TextRecord& r, TxField f, size_t max, bool required, std::string& out) {
  std::string_view v = r[f];
  if (v.empty()) {
    if (required) return field_error(f, "missing (required)");
    out.clear();
    return Status::Ok();
  }
  if (v.size() > max) {
    return field_error(
        f, "is " + std::to_string(v.size()) + " characters; the limit is " + std::to_string(max));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c >= 0x7f) {
      return field_error(f, quoted(v) + " has a control or non-ASCII byte at offset " +
                                std::to_string(i) + "; use printable ASCII only");
    }
  }
  out.assign(v.data(), v.size());
  return Status::Ok();
}

// A decimal integer within [lo, hi].
bool parse_int(std::string_view v, int64_t lo, int64_t hi, int64_t& out) {
  v = trim(v);
  if (v.empty() || v.size() > 20) return false;
  const char* end = v.data() + v.size();
  const char* begin = v.data();
  if (*begin == '+') ++begin;
  auto res = std::from_chars(begin, end, out);
  return res.ec == std::errc() && res.ptr == end && out >= lo && out <= hi;
}

bool parse_coord(std::string_view v, double limit, double& out) {
  v = trim(v);
  if (v.empty() || v.size() > 64) return false;
  auto res = std::from_chars(v.data(), v.data() + v.size(), out);
  return res.ec == std::errc() && res.ptr == v.data() + v.size() && std::isfinite(out) &&
         out >= -limit && out <= limit;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

std::string joined_names(std::string_view (*name)(int), int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i > 0) out += ", ";
    out += name(i);
  }
  return out;
}

std::string_view tx_type_name(int i) { return to_string(static_cast<TxType>(i)); }
std::string_view channel_name(int i) { return to_string(static_cast<Channel>(i)); }

bool needs_csv_quotes(std::string_view v) {
  for (char c : v) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

}  // namespace

std::string_view field_name(TxField f) { return kFieldNames[static_cast<size_t>(f)]; }

std::optional<TxField> parse_field_name(std::string_view name) {
  for (size_t i = 0; i < kFieldNames.size(); ++i) {
    if (kFieldNames[i] == name) return static_cast<TxField>(i);
  }
  return std::nullopt;
}

std::optional<Label> parse_label_text(std::string_view text) {
  text = trim(text);
  if (text.empty()) return Label::kUnknown;
  if (iequals(text, "fraud") || text == "1" || iequals(text, "true")) return Label::kFraud;
  if (iequals(text, "legit") || text == "0" || iequals(text, "false")) return Label::kLegit;
  return std::nullopt;
}

std::string_view to_string(Label label) {
  switch (label) {
    case Label::kFraud:
      return "fraud";
    case Label::kLegit:
      return "legit";
    case Label::kUnknown:
      break;
  }
  return "";
}

Status decode_text_record(const TextRecord& r, const PanTokenizer* tokenizer, Transaction& out) {
  using F = TxField;
  if (Status s = set_ident(r, F::kId, kMaxIdLength, true, out.id); !s) return s;

  if (r.ts) {
    out.ts = *r.ts;
  } else {
    if (r[F::kTs].empty()) return field_error(F::kTs, "missing (required)");
    auto ts = parse_rfc3339(r[F::kTs]);
    if (!ts) return field_error(F::kTs, ts.error().reason);
    out.ts = *ts;
  }

  if (Status s = set_ident(r, F::kAccountId, kMaxIdLength, true, out.account_id); !s) return s;

  std::string_view cur = trim(r[F::kCurrency]);
  if (cur.empty()) return field_error(F::kCurrency, "missing (required)");
  // Currency::parse scans the ISO table; remember the last code seen on this thread.
  thread_local char last_code[3] = {0, 0, 0};
  thread_local Currency last_currency;
  Result<Currency> currency = last_currency;
  if (!last_currency.valid() || cur.size() != 3 || std::memcmp(cur.data(), last_code, 3) != 0) {
    currency = Currency::parse(cur);
    if (!currency) return field_error(F::kCurrency, currency.error().reason);
    std::memcpy(last_code, cur.data(), 3);
    last_currency = *currency;
  }

  std::string_view amount_text = trim(r[F::kAmount]);
  if (amount_text.empty()) return field_error(F::kAmount, "missing (required)");
  int64_t minor = 0;
  if (r.amount_in_minor_units) {
    if (!parse_int(amount_text, INT64_MIN, INT64_MAX, minor) ||
        amount_text.find_first_not_of("+-0123456789") != std::string_view::npos) {
      return field_error(F::kAmount, quoted(amount_text) +
                                         " is not an integer number of minor units "
                                         "(amount_unit: minor)");
    }
  } else {
    auto parsed = parse_decimal_amount(amount_text, *currency);
    if (!parsed) {
      std::string reason = parsed.error().reason;
      if (reason.rfind("amount ", 0) == 0) reason.erase(0, 7);
      return field_error(F::kAmount, reason);
    }
    minor = *parsed;
  }
  if (minor <= 0) {
    return field_error(F::kAmount,
                       quoted(amount_text) + " must be positive (refunds are not transactions)");
  }
  out.amount = Money{minor, *currency};

  std::string_view type = trim(r[F::kType]);
  if (type.empty()) return field_error(F::kType, "missing (required)");
  auto tx_type = parse_tx_type(type);
  if (!tx_type) {
    return field_error(F::kType, quoted(type) + " is not a transaction type; expected one of " +
                                     joined_names(tx_type_name, kTxTypeCount));
  }
  out.type = *tx_type;

  std::string_view channel = trim(r[F::kChannel]);
  if (channel.empty()) return field_error(F::kChannel, "missing (required)");
  auto ch = parse_channel(channel);
  if (!ch) {
    return field_error(F::kChannel, quoted(channel) + " is not a channel; expected one of " +
                                        joined_names(channel_name, kChannelCount));
  }
  out.channel = *ch;

  if (Status s = set_ident(r, F::kMerchantId, kMaxIdLength, false, out.merchant_id); !s) return s;
  out.mcc = 0;
  if (!r[F::kMcc].empty()) {
    int64_t mcc = 0;
    if (!parse_int(r[F::kMcc], 0, 9999, mcc)) {
      return field_error(F::kMcc, quoted(r[F::kMcc]) + " is not an integer in 0..9999");
    }
    out.mcc = static_cast<uint16_t>(mcc);
  }
  if (Status s = set_ident(r, F::kTerminalId, kMaxIdLength, false, out.terminal_id); !s) return s;

  out.country = Country{};
  if (std::string_view c = trim(r[F::kCountry]); !c.empty()) {
    auto country = Country::parse(c);
    if (!country) {
      return field_error(F::kCountry,
                         quoted(c) + " is not an ISO 3166 alpha-2 code (two upper-case letters)");
    }
    out.country = *country;
  }

  bool has_lat = !trim(r[F::kLat]).empty();
  bool has_lon = !trim(r[F::kLon]).empty();
  if (has_lat != has_lon) {
    return field_error(has_lat ? F::kLon : F::kLat, "missing: lat and lon must be given together");
  }
  out.has_location = has_lat;
  out.lat = 0;
  out.lon = 0;
  if (has_lat) {
    if (!parse_coord(r[F::kLat], 90, out.lat)) {
      return field_error(F::kLat, quoted(r[F::kLat]) + " is not a number in -90..90");
    }
    if (!parse_coord(r[F::kLon], 180, out.lon)) {
      return field_error(F::kLon, quoted(r[F::kLon]) + " is not a number in -180..180");
    }
  }

  out.utc_offset_minutes.reset();
  if (!r[F::kUtcOffsetMinutes].empty()) {
    int64_t off = 0;
    if (!parse_int(r[F::kUtcOffsetMinutes], -840, 840, off)) {
      return field_error(F::kUtcOffsetMinutes,
                         quoted(r[F::kUtcOffsetMinutes]) + " is not an integer in -840..840");
    }
    out.utc_offset_minutes = static_cast<int16_t>(off);
  }

  if (Status s = set_ident(r, F::kDeviceId, kMaxIdLength, false, out.device_id); !s) return s;
  if (Status s = set_ident(r, F::kIp, kMaxIpLength, false, out.ip); !s) return s;
  if (Status s = set_ident(r, F::kCounterparty, kMaxIdLength, false, out.counterparty); !s) {
    return s;
  }

  out.card_present = false;
  if (std::string_view cp = trim(r[F::kCardPresent]); !cp.empty()) {
    if (iequals(cp, "true") || cp == "1") {
      out.card_present = true;
    } else if (!iequals(cp, "false") && cp != "0") {
      return field_error(F::kCardPresent, quoted(cp) + " is not a boolean (true/false/1/0)");
    }
  }

  if (Status s = set_ident(r, F::kCardToken, kMaxIdLength, false, out.card_token); !s) return s;

  auto label = parse_label_text(r[F::kLabel]);
  if (!label) {
    return field_error(
        F::kLabel, quoted(r[F::kLabel]) + " is not a label; expected fraud/legit/1/0/true/false");
  }
  out.label = *label;

  if (Status s = set_ident(r, F::kFraudPattern, kMaxIdLength, false, out.fraud_pattern); !s) {
    return s;
  }

  if (!r[F::kCardNumber].empty()) {
    if (tokenizer == nullptr) {
      return field_error(F::kCardNumber,
                         "refusing a clear card number without a PAN key (set FRAUDWATCH_PAN_KEY "
                         "or FRAUDWATCH_PAN_KEY_FILE)");
    }
    auto token = tokenizer->tokenize(r[F::kCardNumber]);
    if (!token) return field_error(F::kCardNumber, token.error().reason);
    out.card_token = std::move(*token);
  }

  out.finalize_keys();
  return Status::Ok();
}

void append_csv_cell(std::string& out, std::string_view v) {
  if (!needs_csv_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string_view csv_header() {
  static const std::string kHeader = [] {
    std::string h;
    for (size_t i = 0; i < kCanonicalFieldCount; ++i) {
      if (i > 0) h.push_back(',');
      h += kFieldNames[i];
    }
    return h;
  }();
  return kHeader;
}

void append_csv_row(std::string& out, const Transaction& tx) {
  append_csv_cell(out, tx.id);
  out.push_back(',');
  append_rfc3339(out, tx.ts);
  out.push_back(',');
  append_csv_cell(out, tx.account_id);
  out.push_back(',');
  if (tx.amount.currency.valid()) append_decimal_amount(out, tx.amount.minor, tx.amount.currency);
  out.push_back(',');
  out += tx.amount.currency.code();
  out.push_back(',');
  out.append(to_string(tx.type));
  out.push_back(',');
  out.append(to_string(tx.channel));
  out.push_back(',');
  append_csv_cell(out, tx.merchant_id);
  out.push_back(',');
  if (tx.mcc != 0) append_int(out, tx.mcc);
  out.push_back(',');
  append_csv_cell(out, tx.terminal_id);
  out.push_back(',');
  if (tx.country.known()) out += tx.country.code();
  out.push_back(',');
  bool loc = tx.has_location && std::isfinite(tx.lat) && std::isfinite(tx.lon);
  if (loc) append_double(out, tx.lat);
  out.push_back(',');
  if (loc) append_double(out, tx.lon);
  out.push_back(',');
  if (tx.utc_offset_minutes) append_int(out, *tx.utc_offset_minutes);
  out.push_back(',');
  append_csv_cell(out, tx.device_id);
  out.push_back(',');
  append_csv_cell(out, tx.ip);
  out.push_back(',');
  append_csv_cell(out, tx.counterparty);
  out.push_back(',');
  out += tx.card_present ? "true" : "false";
  out.push_back(',');
  append_csv_cell(out, tx.card_token);
  out.push_back(',');
  out.append(to_string(tx.label));
  out.push_back(',');
  append_csv_cell(out, tx.fraud_pattern);
}

Status split_csv_record(std::string_view line, std::vector<std::string>& fields, char delimiter) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t n = 0;
  size_t i = 0;
  while (true) {
    if (n == fields.size()) fields.emplace_back();
    std::string& cell = fields[n++];
    cell.clear();
    if (i < line.size() && line[i] == '"') {
      size_t open = i++;
      while (true) {
        if (i >= line.size()) {
          fields.resize(n);
          return Error{"", "unbalanced quote: the field opened at column " +
                               std::to_string(open + 1) + " is never closed"};
        }
        char c = line[i++];
        if (c == '"') {
          if (i < line.size() && line[i] == '"') {
            cell.push_back('"');
            ++i;
          } else {
            break;
          }
        } else {
          cell.push_back(c);
        }
      }
      if (i < line.size() && line[i] != delimiter) {
        fields.resize(n);
        return Error{"", "unexpected text after the closing quote at column " + std::to_string(i) +
                             "; double a quote inside a quoted field"};
      }
    } else {
      size_t end = line.find(delimiter, i);
      if (end == std::string_view::npos) end = line.size();
      cell.assign(line.substr(i, end - i));
      i = end;
    }
    if (i >= line.size()) break;
    ++i;                     // skip the delimiter
    if (i == line.size()) {  // trailing delimiter: one more, empty field
      if (n == fields.size()) fields.emplace_back();
      fields[n++].clear();
      break;
    }
  }
  fields.resize(n);
  return Status::Ok();
}

}  // namespace fw
