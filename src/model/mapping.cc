#include "model/mapping.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace fw {
namespace {

using F = TxField;

// A loading failure at a place in the YAML text; turned into an Error by the loader.
struct MappingError {
  YAML::Mark mark;
  std::string key;
  std::string reason;
};

[[noreturn]] void fail(const YAML::Node& node, std::string key, std::string reason) {
  throw MappingError{node.Mark(), std::move(key), std::move(reason)};
}

std::string scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) fail(node, key, "expected a single value (a string or number)");
  return node.Scalar();
}

TxField field_of(const YAML::Node& key_node, const std::string& path) {
  std::string name = scalar(key_node, path);
  auto f = parse_field_name(name);
  if (!f) {
    std::string all;
    for (size_t i = 0; i < kTxFieldCount; ++i) {
      if (i > 0) all += ", ";
      all += field_name(static_cast<TxField>(i));
    }
    fail(key_node, path + "." + name,
         "'" + name + "' is not a fraudwatch field; expected one of " + all);
  }
  return *f;
}

int parse_small_int(const YAML::Node& node, const std::string& key, int lo, int hi) {
  std::string s = scalar(node, key);
  try {
    size_t used = 0;
    long v = std::stol(s, &used);
    if (used == s.size() && v >= lo && v <= hi) return static_cast<int>(v);
  } catch (const std::exception&) {
  }
  fail(node, key,
       "'" + s + "' is not an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& key) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) out.push_back(scalar(item, key));
  } else {
    fail(node, key, "expected a list of strings");
  }
  return out;
}

void load(const YAML::Node& root, ColumnMapping& m) {
  if (!root.IsMap())
    fail(root, "", "a mapping file must be a YAML map of keys (format, columns, ...)");
  for (const auto& kv : root) {
    std::string key = scalar(kv.first, "");
    const YAML::Node& v = kv.second;
    if (key == "format") {
      std::string f = scalar(v, key);
      if (f == "csv") {
        m.format = RecordFormat::kCsv;
      } else if (f == "jsonl" || f == "ndjson") {
        m.format = RecordFormat::kJsonl;
      } else {
        fail(v, key, "'" + f + "' is not a format; expected csv or jsonl");
      }
    } else if (key == "delimiter") {
      std::string d = scalar(v, key);
      if (d == "tab" || d == "\\t") d = "\t";
      if (d.size() != 1 || d == "\"" || d == "\n" || d == "\r") {
        fail(v, key, "expected one character such as \",\", \";\", \"|\" or \"\\t\"");
      }
      m.delimiter = d[0];
    } else if (key == "columns") {
      if (!v.IsMap()) fail(v, key, "expected a map of fraudwatch field -> source column");
      for (const auto& c : v) {
        TxField f = field_of(c.first, key);
        std::string col = scalar(c.second, key + "." + std::string(field_name(f)));
        m.columns[static_cast<size_t>(f)] = col;
      }
    } else if (key == "timestamp_format") {
      std::string f = scalar(v, key);
      if (f == "iso8601" || f == "rfc3339") {
        m.timestamp_format = TimestampFormat::kIso8601;
      } else if (f == "epoch_s") {
        m.timestamp_format = TimestampFormat::kEpochSeconds;
      } else if (f == "epoch_ms") {
        m.timestamp_format = TimestampFormat::kEpochMillis;
      } else if (f == "epoch_us") {
        m.timestamp_format = TimestampFormat::kEpochMicros;
      } else if (f.find('%') != std::string::npos) {
        m.timestamp_format = TimestampFormat::kPattern;
        m.timestamp_pattern = f;
        for (size_t i = 0; i < f.size(); ++i) {
          if (f[i] != '%') continue;
          char spec = i + 1 < f.size() ? f[i + 1] : '\0';
          if (std::string_view("YymdeHIpMSfzbTF%").find(spec) == std::string_view::npos ||
              spec == '\0') {
            fail(v, key,
                 std::string("unsupported pattern directive %") + spec +
                     " (supported: %Y %y %m %d %e %H %I %p %M %S %f %z %b %T %F %%)");
          }
          ++i;
        }
      } else {
        fail(v, key,
             "'" + f +
                 "' is not a timestamp format; expected iso8601, epoch_s, epoch_ms, "
                 "epoch_us or a strftime-style pattern such as \"%Y-%m-%d %H:%M:%S\"");
      }
    } else if (key == "timezone_offset_minutes") {
      m.timezone_offset_minutes = parse_small_int(v, key, -840, 840);
    } else if (key == "amount_unit") {
      std::string u = scalar(v, key);
      if (u == "major") {
        m.amount_in_minor_units = false;
      } else if (u == "minor") {
        m.amount_in_minor_units = true;
      } else {
        fail(v, key, "'" + u + "' is not an amount unit; expected major (12.50) or minor (1250)");
      }
    } else if (key == "default_currency") {
      std::string c = scalar(v, key);
      auto cur = Currency::parse(c);
      if (!cur) fail(v, key, cur.error().reason);
      m.defaults[static_cast<size_t>(F::kCurrency)] = c;
    } else if (key == "defaults") {
      if (!v.IsMap()) fail(v, key, "expected a map of fraudwatch field -> constant value");
      for (const auto& d : v) {
        TxField f = field_of(d.first, key);
        std::string path = key + "." + std::string(field_name(f));
        if (f == F::kId || f == F::kTs || f == F::kAccountId || f == F::kAmount ||
            f == F::kCardNumber) {
          fail(d.first, path, "cannot have a default: it must come from the data");
        }
        m.defaults[static_cast<size_t>(f)] = scalar(d.second, path);
      }
    } else if (key == "label") {
      LabelMapping lm;
      if (v.IsScalar()) {
        lm.column = v.Scalar();
        lm.fraud_values = {"1", "true", "fraud"};
        lm.legit_values = {"0", "false", "legit"};
      } else if (v.IsMap()) {
        for (const auto& l : v) {
          std::string lk = scalar(l.first, key);
          if (lk == "column") {
            lm.column = scalar(l.second, "label.column");
          } else if (lk == "fraud_values") {
            lm.fraud_values = string_list(l.second, "label.fraud_values");
          } else if (lk == "legit_values") {
            lm.legit_values = string_list(l.second, "label.legit_values");
          } else {
            fail(l.first, "label." + lk,
                 "unknown key; expected column, fraud_values or legit_values");
          }
        }
        if (lm.column.empty()) fail(v, "label.column", "missing: name the label column");
        if (lm.fraud_values.empty()) lm.fraud_values = {"1", "true", "fraud"};
        if (lm.legit_values.empty()) lm.legit_values = {"0", "false", "legit"};
      } else {
        fail(v, key, "expected a column name or {column, fraud_values, legit_values}");
      }
      m.label = std::move(lm);
    } else if (key == "values") {
      if (!v.IsMap()) fail(v, key, "expected a map of fraudwatch field -> {source: value}");
      for (const auto& fv : v) {
        TxField f = field_of(fv.first, key);
        std::string path = key + "." + std::string(field_name(f));
        if (!fv.second.IsMap()) fail(fv.second, path, "expected a map of source value -> value");
        for (const auto& pair : fv.second) {
          m.values[static_cast<size_t>(f)].emplace_back(scalar(pair.first, path),
                                                        scalar(pair.second, path));
        }
      }
    } else if (key == "description" || key == "name") {
      // free text for people
    } else {
      fail(kv.first, key,
           "unknown key; expected one of format, delimiter, columns, timestamp_format, "
           "timezone_offset_minutes, amount_unit, default_currency, defaults, label, values, "
           "description");
    }
  }
  // Every required field needs a source.
  for (TxField f :
       {F::kId, F::kTs, F::kAccountId, F::kAmount, F::kCurrency, F::kType, F::kChannel}) {
    if (m.column(f).empty() && m.default_value(f).empty()) {
      std::string name(field_name(f));
      fail(root, "columns." + name,
           "required field '" + name + "' has no column" +
               (f == F::kCurrency                     ? " and there is no default_currency"
                : (f == F::kType || f == F::kChannel) ? " and no entry under defaults"
                                                      : ""));
    }
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

Error ts_error(std::string_view text, const std::string& why) {
  return Error{"ts", "'" + std::string(text.substr(0, 64)) + "' " + why};
}

// Reads 1..max digits at text[i].
bool read_num(std::string_view text, size_t& i, size_t min_digits, size_t max_digits, int64_t& v) {
  size_t start = i;
  v = 0;
  while (i < text.size() && i - start < max_digits && text[i] >= '0' && text[i] <= '9') {
    v = v * 10 + (text[i] - '0');
    ++i;
  }
  return i - start >= min_digits;
}

// Epoch number with an optional fraction, scaled to microseconds by `unit` (micros per unit).
Result<Timestamp> parse_epoch(std::string_view text, int64_t unit, const char* what) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  int64_t whole = 0;
  size_t start = i;
  if (!read_num(text, i, 1, 16, whole)) {
    return ts_error(text, std::string("is not ") + what);
  }
  (void)start;
  int64_t frac = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int64_t scale = unit;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      scale /= 10;
      frac += (text[i] - '0') * scale;  // digits below a microsecond are dropped
      ++i;
    }
  }
  if (i != text.size()) return ts_error(text, std::string("is not ") + what);
  int64_t v = whole * unit + frac;
  return neg ? -v : v;
}

Result<Timestamp> parse_pattern(std::string_view pattern, std::string_view text, int offset_min) {
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, micros = 0;
  int pm = -1;  // -1: no %p, 0: AM, 1: PM
  std::optional<int64_t> zone;
  size_t i = 0;
  auto bad = [&](const std::string& why) {
    return ts_error(text, "does not match \"" + std::string(pattern) + "\": " + why);
  };
  std::string expanded;
  for (size_t p = 0; p < pattern.size(); ++p) {
    if (pattern[p] == '%' && p + 1 < pattern.size() && pattern[p + 1] == 'T') {
      expanded += "%H:%M:%S";
      ++p;
    } else if (pattern[p] == '%' && p + 1 < pattern.size() && pattern[p + 1] == 'F') {
      expanded += "%Y-%m-%d";
      ++p;
    } else {
      expanded.push_back(pattern[p]);
    }
  }
  for (size_t p = 0; p < expanded.size(); ++p) {
    char pc = expanded[p];
    if (pc == ' ') {
      if (i >= text.size() || (text[i] != ' ' && text[i] != 'T')) return bad("expected a space");
      while (i < text.size() && text[i] == ' ') ++i;
      if (i < text.size() && text[i] == 'T') ++i;
      continue;
    }
    if (pc != '%') {
      if (i >= text.size() || text[i] != pc) {
        return bad(std::string("expected '") + pc + "' at offset " + std::to_string(i));
      }
      ++i;
      continue;
    }
    if (++p >= expanded.size()) return Error{"ts", "unsupported pattern: ends with '%'"};
    char spec = expanded[p];
    int64_t v = 0;
    switch (spec) {
      case 'Y':
        if (!read_num(text, i, 4, 4, year)) return bad("expected a 4-digit year (%Y)");
        break;
      case 'y':
        if (!read_num(text, i, 2, 2, v)) return bad("expected a 2-digit year (%y)");
        year = v < 69 ? 2000 + v : 1900 + v;
        break;
      case 'm':
        if (!read_num(text, i, 1, 2, month)) return bad("expected a month (%m)");
        break;
      case 'd':
      case 'e':
        while (spec == 'e' && i < text.size() && text[i] == ' ') ++i;
        if (!read_num(text, i, 1, 2, day)) return bad("expected a day (%d)");
        break;
      case 'H':
      case 'I':
        if (!read_num(text, i, 1, 2, hour)) return bad("expected an hour (%H)");
        break;
      case 'M':
        if (!read_num(text, i, 1, 2, minute)) return bad("expected minutes (%M)");
        break;
      case 'S':
        if (!read_num(text, i, 1, 2, second)) return bad("expected seconds (%S)");
        break;
      case 'f': {
        size_t start = i;
        int64_t digits = 0;
        micros = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
          if (digits < 6) {
            micros = micros * 10 + (text[i] - '0');
            ++digits;
          }
          ++i;
        }
        if (i == start) return bad("expected fractional seconds (%f)");
        for (; digits < 6; ++digits) micros *= 10;
        break;
      }
      case 'p':
        if (i + 2 <= text.size() && iequals(text.substr(i, 2), "AM")) {
          pm = 0;
        } else if (i + 2 <= text.size() && iequals(text.substr(i, 2), "PM")) {
          pm = 1;
        } else {
          return bad("expected AM or PM (%p)");
        }
        i += 2;
        break;
      case 'b': {
        static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                       "jul", "aug", "sep", "oct", "nov", "dec"};
        bool found = false;
        for (int k = 0; k < 12 && i + 3 <= text.size(); ++k) {
          if (iequals(text.substr(i, 3), kMonths[k])) {
            month = k + 1;
            i += 3;
            found = true;
            break;
          }
        }
        if (!found) return bad("expected a month name such as Jan (%b)");
        break;
      }
      case 'z': {
        if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
          zone = 0;
          ++i;
          break;
        }
        if (i >= text.size() || (text[i] != '+' && text[i] != '-')) {
          return bad("expected a zone offset such as +01:00 or Z (%z)");
        }
        bool neg = text[i++] == '-';
        int64_t hh = 0, mm = 0;
        if (!read_num(text, i, 2, 2, hh)) return bad("expected a zone offset (%z)");
        if (i < text.size() && text[i] == ':') ++i;
        if (!read_num(text, i, 2, 2, mm)) return bad("expected a zone offset (%z)");
        if (hh > 14 || mm > 59) return bad("zone offset out of range");
        zone = (neg ? -1 : 1) * (hh * 60 + mm);
        break;
      }
      case '%':
        if (i >= text.size() || text[i] != '%') return bad("expected '%'");
        ++i;
        break;
      default:
        return Error{"ts", std::string("unsupported pattern directive %") + spec +
                               " (supported: %Y %y %m %d %e %H %I %p %M %S %f %z %b %T %F %%)"};
    }
  }
  if (text.empty() && !pattern.empty()) return bad("empty");
  if (i != text.size()) return bad("unexpected text at offset " + std::to_string(i));
  if (pm >= 0) {
    if (hour < 1 || hour > 12) return bad("hour must be 1..12 with AM/PM");
    hour = hour % 12 + (pm == 1 ? 12 : 0);
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysIn[month - 1] || hour > 23 || minute > 59 ||
      second > 60) {
    return bad("a field is out of range");
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return bad("names a day that does not exist");
  if (second == 60) second = 59;
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t local = days * kMicrosPerDay + hour * kMicrosPerHour + minute * kMicrosPerMinute +
                  second * kMicrosPerSecond + micros;
  return local - zone.value_or(offset_min) * kMicrosPerMinute;
}

Error bind_error(const ColumnMapping& m, TxField f, const std::string& col,
                 const std::vector<std::string>& header) {
  std::string have;
  for (size_t i = 0; i < header.size() && i < 40; ++i) {
    if (i > 0) have += ", ";
    have += header[i];
  }
  return Error{std::string(field_name(f)),
               "column '" + col + "' (mapped to " + std::string(field_name(f)) +
                   ") is not in the CSV header; the header has: " + have +
                   (m.name.empty() ? "" : " (mapping " + m.name + ")")};
}

}  // namespace

Result<ColumnMapping> ColumnMapping::from_yaml_string(std::string_view yaml,
                                                      std::string_view name) {
  ColumnMapping m;
  m.name = std::string(name);
  auto where = [&](const YAML::Mark& mark) {
    if (mark.line < 0) return std::string(name) + ": ";
    return std::string(name) + ":" + std::to_string(mark.line + 1) + ":" +
           std::to_string(mark.column + 1) + ": ";
  };
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    load(root, m);
  } catch (const MappingError& e) {
    return Error{"", where(e.mark) + (e.key.empty() ? "" : e.key + ": ") + e.reason};
  } catch (const YAML::Exception& e) {
    return Error{"", where(e.mark) + "invalid YAML: " + e.msg};
  }
  return m;
}

Result<ColumnMapping> ColumnMapping::from_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"", path + ": cannot open the mapping file; check the path"};
  std::ostringstream text;
  text << in.rdbuf();
  return from_yaml_string(text.str(), path);
}

ColumnMapping ColumnMapping::canonical(bool csv) {
  ColumnMapping m;
  m.name = csv ? "canonical csv" : "canonical jsonl";
  m.format = csv ? RecordFormat::kCsv : RecordFormat::kJsonl;
  for (size_t i = 0; i < kTxFieldCount; ++i) {
    m.columns[i] = std::string(field_name(static_cast<TxField>(i)));
  }
  return m;
}

Result<Timestamp> parse_mapped_timestamp(const ColumnMapping& m, std::string_view text) {
  switch (m.timestamp_format) {
    case TimestampFormat::kIso8601: {
      // A zone is present if the text ends in Z or has a +/- after the time part.
      bool has_zone = !text.empty() && (text.back() == 'Z' || text.back() == 'z');
      if (!has_zone && text.size() > 19) {
        has_zone = text.find_first_of("+-", 19) != std::string_view::npos;
      }
      if (has_zone) {
        auto ts = parse_rfc3339(text);
        if (!ts) return Error{"ts", ts.error().reason};
        return ts;
      }
      std::string zoned(text);
      zoned += 'Z';
      auto ts = parse_rfc3339(zoned);
      if (!ts) return Error{"ts", ts.error().reason};
      return *ts - static_cast<int64_t>(m.timezone_offset_minutes) * kMicrosPerMinute;
    }
    case TimestampFormat::kEpochSeconds:
      return parse_epoch(text, kMicrosPerSecond, "epoch seconds (timestamp_format: epoch_s)");
    case TimestampFormat::kEpochMillis:
      return parse_epoch(text, 1000, "epoch milliseconds (timestamp_format: epoch_ms)");
    case TimestampFormat::kEpochMicros:
      return parse_epoch(text, 1, "epoch microseconds (timestamp_format: epoch_us)");
    case TimestampFormat::kPattern:
      return parse_pattern(m.timestamp_pattern, text, m.timezone_offset_minutes);
  }
  return Error{"ts", "unknown timestamp format"};
}

RecordDecoder::RecordDecoder(const ColumnMapping& mapping, const PanTokenizer* tokenizer)
    : mapping_(mapping), tokenizer_(tokenizer) {
  index_.fill(-1);
}
RecordDecoder::RecordDecoder(RecordDecoder&&) noexcept = default;
RecordDecoder& RecordDecoder::operator=(RecordDecoder&&) noexcept = default;
RecordDecoder::~RecordDecoder() = default;

Result<RecordDecoder> RecordDecoder::for_csv(const ColumnMapping& mapping,
                                             const std::vector<std::string>& header,
                                             const PanTokenizer* tokenizer) {
  RecordDecoder d(mapping, tokenizer);
  d.header_size_ = header.size();
  auto find = [&](const std::string& col) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      std::string_view h = header[i];
      if (i == 0 && h.size() >= 3 && h.substr(0, 3) == "\xEF\xBB\xBF") h.remove_prefix(3);  // BOM
      if (h == col) return static_cast<int>(i);
    }
    return -1;
  };
  for (size_t f = 0; f < kTxFieldCount; ++f) {
    const std::string& col = mapping.columns[f];
    if (col.empty()) continue;
    d.index_[f] = find(col);
    auto field = static_cast<TxField>(f);
    bool required = field == F::kId || field == F::kTs || field == F::kAccountId ||
                    field == F::kAmount || field == F::kCurrency || field == F::kType ||
                    field == F::kChannel;
    if (d.index_[f] < 0 && required && mapping.defaults[f].empty()) {
      return bind_error(mapping, field, col, header);
    }
  }
  if (mapping.label) {
    if (find(mapping.label->column) < 0) {
      return bind_error(mapping, F::kLabel, mapping.label->column, header);
    }
    d.index_[static_cast<size_t>(F::kLabel)] = find(mapping.label->column);
  }
  return d;
}

RecordDecoder RecordDecoder::for_jsonl(const ColumnMapping& mapping,
                                       const PanTokenizer* tokenizer) {
  RecordDecoder d(mapping, tokenizer);
  if (mapping.label) d.mapping_.columns[static_cast<size_t>(F::kLabel)] = mapping.label->column;
  d.json_ = std::make_unique<JsonDecoder>(tokenizer);
  return d;
}

Status RecordDecoder::decode_csv(const std::vector<std::string>& fields, Transaction& out) {
  if (fields.size() != header_size_) {
    return Error{"", "row has " + std::to_string(fields.size()) + " fields; the header has " +
                         std::to_string(header_size_)};
  }
  for (size_t f = 0; f < kTxFieldCount; ++f) {
    int idx = index_[f];
    if (idx >= 0) {
      raw_[f].assign(fields[static_cast<size_t>(idx)]);
    } else {
      raw_[f].clear();
    }
  }
  return finish(out);
}

Status RecordDecoder::decode_json(std::string_view line, Transaction& out) {
  for (auto& r : raw_) r.clear();
  Status s = json_->for_each_member(
      line, [this](std::string_view key, JsonDecoder::Kind kind, std::string_view text) -> Status {
        for (size_t f = 0; f < kTxFieldCount; ++f) {
          if (mapping_.columns[f] != key) continue;
          if (kind == JsonDecoder::Kind::kOther) {
            return Error{std::string(field_name(static_cast<TxField>(f))),
                         "key '" + std::string(key) +
                             "' holds an object or array; expected a "
                             "single value"};
          }
          raw_[f].assign(text);
        }
        return Status::Ok();
      });
  if (!s) return s;
  return finish(out);
}

Status RecordDecoder::finish(Transaction& out) {
  TextRecord rec;
  for (size_t f = 0; f < kTxFieldCount; ++f) {
    std::string_view v = raw_[f];
    if (v.empty()) {
      v = mapping_.defaults[f];
    } else {
      for (const auto& [from, to] : mapping_.values[f]) {
        if (from == v) {
          v = to;
          break;
        }
      }
    }
    rec.value[f] = v;
  }
  if (mapping_.label) {
    std::string_view v = raw_[static_cast<size_t>(F::kLabel)];
    std::string_view label;
    if (!v.empty()) {
      bool matched = false;
      for (const auto& fv : mapping_.label->fraud_values) {
        if (fv == v) {
          label = "fraud";
          matched = true;
        }
      }
      for (const auto& lv : mapping_.label->legit_values) {
        if (!matched && lv == v) {
          label = "legit";
          matched = true;
        }
      }
      if (!matched) {
        return Error{"label", "'" + std::string(v.substr(0, 64)) + "' in column '" +
                                  mapping_.label->column +
                                  "' is neither a fraud value nor a legit value; list it under "
                                  "label.fraud_values or label.legit_values"};
      }
    }
    rec[F::kLabel] = label;
  }
  std::string_view ts_text = rec[F::kTs];
  if (ts_text.empty()) {
    return Error{"ts", "missing (required; column '" + mapping_.column(F::kTs) + "')"};
  }
  auto ts = parse_mapped_timestamp(mapping_, ts_text);
  if (!ts) return ts.error();
  rec.ts = *ts;
  rec.amount_in_minor_units = mapping_.amount_in_minor_units;
  return decode_text_record(rec, tokenizer_, out);
}

}  // namespace fw
