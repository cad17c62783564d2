#!/usr/bin/env bash
# Runs every test of the dev build (ASan + UBSan) and prints a closing summary line.
# The tests run under scripts/with-postgres.sh: a private PostgreSQL server for this run only,
# stopped and deleted afterwards, even when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
# The PostgreSQL tests fail instead of skipping if the server's URL ever goes missing.
export FW_REQUIRE_POSTGRES=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec scripts/with-postgres.sh ctest --preset dev -j "$(nproc)" --output-on-failure
