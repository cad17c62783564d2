// PgConnection: a thin RAII wrapper over one libpq connection (PGconn) and its results, plus
// the helpers every PostgreSQL user in fraudwatch needs: connecting from a URL or libpq's PG*
// environment variables, errors that name the server (never the password) and say what to do,
// COPY FROM STDIN, and redaction of connection strings for logs.
// Owned by one user at a time (move-only); not thread-safe: libpq connections are not.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace fw {

// The environment variable fraudwatch reads the database URL from (a libpq URI such as
// postgresql://user@host:5432/db?sslmode=verify-full, or key=value conninfo). When it is unset
// and no URL is configured, libpq's own variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
// PGDATABASE, PGSSLMODE, ...) and ~/.pgpass apply.
inline constexpr const char* kDatabaseUrlEnv = "FRAUDWATCH_DATABASE_URL";

// `explicit_url` when non-empty, else $FRAUDWATCH_DATABASE_URL, else "" (libpq's defaults).
std::string database_url(const std::string& explicit_url);

// The URL or conninfo with any password replaced by "***": for logs and error messages.
std::string redact_conninfo(std::string_view conninfo);

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// One query parameter: text (or binary when `binary`), or SQL NULL when `null`.
struct PgParam {
  std::string_view value;
  bool binary = false;
  bool null = false;
};

class PgConnection {
 public:
  // Connects (blocking, connect_timeout 10 s unless the URL sets one). `application_name` shows
  // in pg_stat_activity. Errors name host, port, database and user, classify the failure
  // (unreachable, authentication, missing database) and never contain the password.
  static Result<PgConnection> open(const std::string& url, const std::string& application_name);

  PgConnection() = default;
  PgConnection(PgConnection&&) noexcept = default;
  PgConnection& operator=(PgConnection&&) noexcept = default;

  bool connected() const { return conn_ != nullptr && PQstatus(conn_.get()) == CONNECTION_OK; }
  PGconn* get() const { return conn_.get(); }
  // "host:port/database as user" for messages.
  std::string describe() const;

  // Runs one or more statements without parameters; the last result must be a command or rows.
  Result<PgResult> exec(const std::string& sql);
  // Runs one statement with parameters ($1..$n). `binary_result`: every column comes back in
  // binary form (for bytea without escaping).
  Result<PgResult> exec_params(const std::string& sql, const std::vector<PgParam>& params,
                               bool binary_result = false);
  // Prepares `sql` under `name` on this connection.
  Status prepare(const std::string& name, const std::string& sql);
  Result<PgResult> exec_prepared(const std::string& name, const std::vector<PgParam>& params);
  // COPY ... FROM STDIN with `data` in COPY's text format. Returns the number of rows copied.
  Result<int64_t> copy_in(const std::string& copy_sql, std::string_view data);
  // The same COPY in parts, so the server parses and inserts the first rows while the caller
  // encodes the next: copy_begin(sql), copy_put(data) any number of times, then copy_end(),
  // which returns the number of rows copied or the server's error (a row the server refuses is
  // reported there, not by copy_put). After a failed copy_begin or copy_put, call copy_end to
  // bring the connection out of COPY state (it returns the error).
  Status copy_begin(const std::string& copy_sql);
  Status copy_put(std::string_view data);
  Result<int64_t> copy_end();

  // An Error for the connection's last failure while `doing` something, with advice.
  Error error(std::string_view doing, const PGresult* result = nullptr) const;

 private:
  struct ConnCloser {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  Result<PgResult> check(PGresult* raw, std::string_view doing);
  std::unique_ptr<PGconn, ConnCloser> conn_;
};

// Appends `v` to a COPY text-format row, escaping backslash, tab, newline and carriage return.
void copy_append_text(std::string& out, std::string_view v);

// Appenders for COPY's binary format (FORMAT binary): the caller writes copy_binary_header()
// once, then per row copy_binary_row(field count) followed by exactly that many fields, and
// copy_binary_trailer() at the end. Values go in network byte order with no text conversion,
// which saves the server the parsing of numbers and the scan for delimiters and escapes.
void copy_binary_header(std::string& out);
void copy_binary_trailer(std::string& out);
void copy_binary_row(std::string& out, int16_t fields);
void copy_binary_null(std::string& out);
void copy_binary_int16(std::string& out, int16_t v);          // smallint
void copy_binary_int32(std::string& out, int32_t v);          // integer
void copy_binary_int64(std::string& out, int64_t v);          // bigint
void copy_binary_double(std::string& out, double v);          // double precision
void copy_binary_bool(std::string& out, bool v);              // boolean
void copy_binary_text(std::string& out, std::string_view v);  // text (bytes as they are)
// For a text field written in place: copy_binary_text_begin() reserves the length and returns
// its position; append the bytes to `out`, then copy_binary_text_end(out, position).
size_t copy_binary_text_begin(std::string& out);
void copy_binary_text_end(std::string& out, size_t position);

// Cell accessors for text-format results.
inline std::string pg_text(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
}
inline bool pg_null(const PGresult* r, int row, int col) { return PQgetisnull(r, row, col) != 0; }
int64_t pg_int64(const PGresult* r, int row, int col);
double pg_double(const PGresult* r, int row, int col);

}  // namespace fw
