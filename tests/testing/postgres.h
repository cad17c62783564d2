// Access to the throw-away PostgreSQL server that scripts/with-postgres.sh starts for the tests
// (make test runs every test under it). Tests only ever use that server: without
// FW_TEST_DATABASE_URL in the environment, PostgreSQL tests skip themselves, unless
// FW_REQUIRE_POSTGRES=1 (make test sets it): then they fail. Thread-safe.
#pragma once

#include <optional>
#include <string>

namespace fw::testing {

// The server's URL (a superuser on a loopback port), or nullopt when not run under
// scripts/with-postgres.sh. With FW_REQUIRE_POSTGRES=1 a missing URL also fails the current
// test (ADD_FAILURE), so a PostgreSQL test that then skips is reported as failed.
std::optional<std::string> test_postgres_url();

// Creates a fresh, empty database on the test server and returns a conninfo string for it.
// Each call gets its own database, so tests running in parallel never see each other's rows.
// Fails the current test (and returns "") when the server does not answer.
std::string create_test_database();

// Stops (pg_ctl stop -m fast) or starts the test server, waiting until done. For the outage
// test only; returns false (with the output in `detail`) when pg_ctl fails.
bool stop_test_postgres(std::string& detail);
bool start_test_postgres(std::string& detail);

}  // namespace fw::testing
