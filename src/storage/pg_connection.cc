#include "storage/pg_connection.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace fw {

std::string database_url(const std::string& explicit_url) {
  if (!explicit_url.empty()) return explicit_url;
  const char* env = std::getenv(kDatabaseUrlEnv);
  return env != nullptr ? std::string(env) : std::string();
}

std::string redact_conninfo(std::string_view conninfo) {
  std::string s(conninfo);
  // URI form: scheme://user:password@host...
  size_t scheme = s.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t at = s.find('@', start);
    size_t slash = s.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      size_t colon = s.find(':', start);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... as a conninfo keyword or a URI query parameter (possibly quoted).
  for (size_t pos = 0; (pos = s.find("password", pos)) != std::string::npos;) {
    size_t i = pos + 8;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || s[i] != '=') {
      pos = i;
      continue;
    }
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
    size_t end = i;
    if (end < s.size() && s[end] == '\'') {
      ++end;
      while (end < s.size() && s[end] != '\'') end += (s[end] == '\\' ? 2 : 1);
      end = std::min(end + 1, s.size());
    } else {
      while (end < s.size() && s[end] != ' ' && s[end] != '&') ++end;
    }
    s.replace(i, end - i, "***");
    pos = i + 3;
  }
  return s;
}

Result<PgConnection> PgConnection::open(const std::string& url,
                                        const std::string& application_name) {
  // Later keywords override earlier ones, and the expanded URL overrides both defaults.
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", application_name.c_str(), url.c_str(), nullptr};
  PgConnection c;
  c.conn_.reset(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (c.conn_ == nullptr) return make_error("database", "out of memory creating a connection");
  if (PQstatus(c.conn_.get()) != CONNECTION_OK) return c.error("cannot connect to PostgreSQL");
  return c;
}

std::string PgConnection::describe() const {
  if (conn_ == nullptr) return "PostgreSQL";
  auto str = [](const char* p) { return std::string(p != nullptr ? p : ""); };
  std::string host = str(PQhost(conn_.get()));
  if (host.empty()) host = "localhost";
  std::string out = host;
  if (host.front() != '/') out += ":" + str(PQport(conn_.get()));
  out += "/" + str(PQdb(conn_.get())) + " as " + str(PQuser(conn_.get()));
  return out;
}

Error PgConnection::error(std::string_view doing, const PGresult* result) const {
  std::string msg;
  if (result != nullptr) msg = PQresultErrorMessage(result);
  if (msg.empty() && conn_ != nullptr) msg = PQerrorMessage(conn_.get());
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  for (char& ch : msg) {
    if (ch == '\n' || ch == '\t') ch = ' ';
  }
  std::string advice;
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view sqlstate = state != nullptr ? state : "";
  if (msg.find("password authentication failed") != std::string::npos ||
      msg.find("no password supplied") != std::string::npos ||
      msg.find("pg_hba.conf") != std::string::npos ||
      (msg.find("role \"") != std::string::npos &&
       msg.find("does not exist") != std::string::npos) ||
      sqlstate == "28P01" || sqlstate == "28000") {
    advice = "authentication failed: check the user and password (in " +
             std::string(kDatabaseUrlEnv) + ", PGPASSWORD or ~/.pgpass) and pg_hba.conf";
  } else if (msg.find("does not exist") != std::string::npos && sqlstate.empty() &&
             msg.find("database") != std::string::npos) {
    advice = "create the database first (createdb), or point the URL at an existing one";
  } else if (conn_ == nullptr || PQstatus(conn_.get()) != CONNECTION_OK) {
    advice =
        "the server is unreachable or closed the connection: check that PostgreSQL is "
        "running and reachable (host, port, sslmode in the URL or PG* variables)";
  } else if (sqlstate.substr(0, 2) == "53") {
    advice = "the server is out of resources (disk, memory or connections)";
  }
  std::string reason = std::string(doing) + " (" + describe() + "): " + msg;
  if (!advice.empty()) reason += "; " + advice;
  // The server's error code, which callers use to tell a duplicate key or a bad value (never
  // helped by retrying) from a lost connection or a deadlock (worth retrying).
  if (!sqlstate.empty()) reason += " [SQLSTATE " + std::string(sqlstate) + "]";
  Error e = make_error("database", std::move(reason));
  return e;
}

Result<PgResult> PgConnection::check(PGresult* raw, std::string_view doing) {
  PgResult r(raw);
  ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  return error(doing, r.get());
}

Result<PgResult> PgConnection::exec(const std::string& sql) {
  if (conn_ == nullptr) return error("not connected");
  return check(PQexec(conn_.get(), sql.c_str()), "query failed");
}

namespace {
struct ParamArrays {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  explicit ParamArrays(const std::vector<PgParam>& params) {
    for (const PgParam& p : params) {
      values.push_back(p.null ? nullptr : p.value.data());
      lengths.push_back(static_cast<int>(p.value.size()));
      formats.push_back(p.binary ? 1 : 0);
    }
  }
};
// Text parameters must be NUL-terminated for libpq; copies them when they are views.
std::vector<std::string> own_text(const std::vector<PgParam>& params, std::vector<PgParam>& out) {
  std::vector<std::string> owned;
  owned.reserve(params.size());
  out = params;
  for (PgParam& p : out) {
    if (p.null || p.binary) continue;
    owned.emplace_back(p.value);
    p.value = owned.back();
  }
  return owned;
}
}  // namespace

Result<PgResult> PgConnection::exec_params(const std::string& sql,
                                           const std::vector<PgParam>& params, bool binary_result) {
  if (conn_ == nullptr) return error("not connected");
  std::vector<PgParam> p;
  auto owned = own_text(params, p);
  ParamArrays a(p);
  return check(
      PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(p.size()), nullptr, a.values.data(),
                   a.lengths.data(), a.formats.data(), binary_result ? 1 : 0),
      "query failed");
}

Status PgConnection::prepare(const std::string& name, const std::string& sql) {
  if (conn_ == nullptr) return error("not connected");
  auto r = check(PQprepare(conn_.get(), name.c_str(), sql.c_str(), 0, nullptr),
                 "cannot prepare a statement");
  if (!r.ok()) return r.error();
  return Status::Ok();
}

Result<PgResult> PgConnection::exec_prepared(const std::string& name,
                                             const std::vector<PgParam>& params) {
  if (conn_ == nullptr) return error("not connected");
  std::vector<PgParam> p;
  auto owned = own_text(params, p);
  ParamArrays a(p);
  return check(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(p.size()),
                              a.values.data(), a.lengths.data(), a.formats.data(), 0),
               "query failed");
}

Result<int64_t> PgConnection::copy_in(const std::string& copy_sql, std::string_view data) {
  if (Status st = copy_begin(copy_sql); !st.ok()) return st.error();
  constexpr size_t kChunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    if (Status st = copy_put(data.substr(off, kChunk)); !st.ok()) {
      (void)copy_end();
      return st.error();
    }
  }
  return copy_end();
}

Status PgConnection::copy_begin(const std::string& copy_sql) {
  if (conn_ == nullptr) return error("not connected");
  PgResult start(PQexec(conn_.get(), copy_sql.c_str()));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
    return error("cannot start COPY", start.get());
  }
  return Status::Ok();
}

Status PgConnection::copy_put(std::string_view data) {
  if (conn_ == nullptr) return error("not connected");
  if (data.empty()) return Status::Ok();
  if (PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) != 1) {
    return error("COPY failed while sending rows");
  }
  return Status::Ok();
}

Result<int64_t> PgConnection::copy_end() {
  if (conn_ == nullptr) return error("not connected");
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) return error("COPY failed at its end");
  PgResult last;
  Result<PgResult> outcome = PgResult();
  while (PGresult* r = PQgetResult(conn_.get())) {
    PgResult owned(r);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) outcome = error("COPY failed", r);
    last = std::move(owned);
  }
  if (!outcome.ok()) return outcome.error();
  if (!last) return error("COPY failed");
  const char* tuples = PQcmdTuples(last.get());
  return static_cast<int64_t>(std::strtoll(tuples, nullptr, 10));
}

void copy_append_text(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
}

namespace {

template <typename U>
void append_be(std::string& out, U v) {
  char bytes[sizeof(U)];
  for (size_t i = 0; i < sizeof(U); ++i) {
    bytes[i] = static_cast<char>(static_cast<uint8_t>(v >> (8 * (sizeof(U) - 1 - i))));
  }
  out.append(bytes, sizeof(U));
}

void append_field(std::string& out, int32_t length) {
  append_be(out, static_cast<uint32_t>(length));
}

}  // namespace

void copy_binary_header(std::string& out) {
  // Signature "PGCOPY\n\377\r\n\0", flags (no OIDs), header extension length 0.
  static constexpr char kSignature[] = {'P',  'G',    'C',  'O',  'P', 'Y',
                                        '\n', '\377', '\r', '\n', '\0'};
  out.append(kSignature, sizeof kSignature);
  append_be(out, uint32_t{0});
  append_be(out, uint32_t{0});
}

void copy_binary_trailer(std::string& out) { append_be(out, static_cast<uint16_t>(0xFFFF)); }

void copy_binary_row(std::string& out, int16_t fields) {
  append_be(out, static_cast<uint16_t>(fields));
}

void copy_binary_null(std::string& out) { append_field(out, -1); }

void copy_binary_int16(std::string& out, int16_t v) {
  append_field(out, 2);
  append_be(out, static_cast<uint16_t>(v));
}

void copy_binary_int32(std::string& out, int32_t v) {
  append_field(out, 4);
  append_be(out, static_cast<uint32_t>(v));
}

void copy_binary_int64(std::string& out, int64_t v) {
  append_field(out, 8);
  append_be(out, static_cast<uint64_t>(v));
}

void copy_binary_double(std::string& out, double v) {
  uint64_t bits = 0;
  static_assert(sizeof bits == sizeof v);
  std::memcpy(&bits, &v, sizeof bits);
  append_field(out, 8);
  append_be(out, bits);
}

void copy_binary_bool(std::string& out, bool v) {
  append_field(out, 1);
  out.push_back(v ? '\1' : '\0');
}

void copy_binary_text(std::string& out, std::string_view v) {
  append_field(out, static_cast<int32_t>(v.size()));
  out.append(v);
}

size_t copy_binary_text_begin(std::string& out) {
  size_t position = out.size();
  append_field(out, 0);
  return position;
}

void copy_binary_text_end(std::string& out, size_t position) {
  const auto length = static_cast<uint32_t>(out.size() - position - 4);
  for (size_t i = 0; i < 4; ++i) {
    out[position + i] = static_cast<char>(static_cast<uint8_t>(length >> (8 * (3 - i))));
  }
}

int64_t pg_int64(const PGresult* r, int row, int col) {
  return std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
}

double pg_double(const PGresult* r, int row, int col) {
  return std::strtod(PQgetvalue(r, row, col), nullptr);
}

}  // namespace fw
