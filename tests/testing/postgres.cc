#include "testing/postgres.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace fw::testing {

std::optional<std::string> test_postgres_url() {
  const char* url = std::getenv("FW_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    const char* required = std::getenv("FW_REQUIRE_POSTGRES");
    if (required != nullptr && std::string(required) == "1") {
      ADD_FAILURE() << "FW_TEST_DATABASE_URL is not set but FW_REQUIRE_POSTGRES=1 (make test): "
                       "the PostgreSQL tests must run, not skip; run under "
                       "scripts/with-postgres.sh";
    }
    return std::nullopt;
  }
  return std::string(url);
}

std::string create_test_database() {
  auto url = test_postgres_url();
  if (!url) {
    ADD_FAILURE() << "FW_TEST_DATABASE_URL is not set; run under scripts/with-postgres.sh";
    return "";
  }
  static std::atomic<int> counter{0};
  std::string name = "fw_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(url->c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to the test server: " << PQerrorMessage(c.get());
    return "";
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> r(
      PQexec(c.get(), ("CREATE DATABASE " + name + " TEMPLATE template0").c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    ADD_FAILURE() << "cannot create database " << name << ": " << PQerrorMessage(c.get());
    return "";
  }
  std::string host = PQhost(c.get()), port = PQport(c.get()), user = PQuser(c.get());
  return "host=" + host + " port=" + port + " user=" + user + " dbname=" + name;
}

namespace {
bool pg_ctl(const std::string& action, std::string& detail) {
  const char* data = std::getenv("FW_TEST_PGDATA");
  const char* bindir = std::getenv("FW_TEST_PG_BINDIR");
  const char* runas = std::getenv("FW_TEST_PG_RUNAS");
  if (data == nullptr || bindir == nullptr) {
    detail = "FW_TEST_PGDATA / FW_TEST_PG_BINDIR not set; run under scripts/with-postgres.sh";
    return false;
  }
  std::string cmd;
  if (runas != nullptr && *runas != '\0') cmd = "runuser -u " + std::string(runas) + " -- ";
  cmd += std::string(bindir) + "/pg_ctl -D '" + data + "' -w -t 60 ";
  if (action == "stop") {
    cmd += "stop -m fast";
  } else {
    cmd += "-l '" + std::string(data) + "/../server.log' start";
  }
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    detail = "cannot run " + cmd;
    return false;
  }
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) detail += buf;
  int status = pclose(p);
  return status == 0;
}
}  // namespace

bool stop_test_postgres(std::string& detail) { return pg_ctl("stop", detail); }
bool start_test_postgres(std::string& detail) { return pg_ctl("start", detail); }

}  // namespace fw::testing
