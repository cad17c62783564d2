#!/usr/bin/env bash
# Runs a command with a private, throw-away PostgreSQL 15 server: initdb in a fresh temporary
# directory, pg_ctl start on a free loopback port (and a Unix socket in that directory), the
# command, then pg_ctl stop and the directory removed, also when the command fails or is
# interrupted. PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
# user (Debian's postgresql package creates it).
#
# The command sees:
#   FW_TEST_DATABASE_URL  postgresql://fw@127.0.0.1:PORT/postgres (superuser fw, trust auth on
#                         loopback only: the server listens nowhere else)
#   FW_TEST_PGDATA        the data directory, FW_TEST_PG_BINDIR where pg_ctl lives, and
#   FW_TEST_PG_RUNAS      the user to run pg_ctl as ("" when not root); the outage test stops and
#                         restarts the server with these (pg_ctl start needs no options: port
#                         and socket directory are in postgresql.conf).
#   FW_REQUIRE_POSTGRES=1 so the tests' helper fails (not skips) a PostgreSQL test that finds
#                         no FW_TEST_DATABASE_URL (tests/testing/postgres.h).
#
# Usage: scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

bindir=${FW_PG_BINDIR:-}
if [[ -z "$bindir" ]]; then
  for v in 15 16 17; do
    if [[ -x /usr/lib/postgresql/$v/bin/pg_ctl ]]; then bindir=/usr/lib/postgresql/$v/bin; break; fi
  done
fi
if [[ -z "$bindir" || ! -x "$bindir/pg_ctl" ]]; then
  echo "with-postgres: pg_ctl not found; install Debian's postgresql package" \
       "(scripts/install-deps.sh test) or set FW_PG_BINDIR" >&2
  exit 1
fi

runas=()
runas_user=""
if [[ $(id -u) -eq 0 ]]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "with-postgres: running as root but there is no 'postgres' user to run the server" >&2
    exit 1
  fi
  runas=(runuser -u postgres --)
  runas_user=postgres
fi

# As root the directory must be reachable by `postgres`: /tmp is, a private $TMPDIR may not be.
tmp_base=${TMPDIR:-/tmp}
if [[ -n "$runas_user" ]]; then tmp_base=/tmp; fi
dir=$(mktemp -d "$tmp_base/fw-pg.XXXXXX")
chmod 700 "$dir"
if [[ -n "$runas_user" ]]; then chown "$runas_user" "$dir"; fi
pgdata="$dir/data"

cleanup() {
  local rc=$?
  if [[ -f "$pgdata/postmaster.pid" ]]; then
    "${runas[@]}" "$bindir/pg_ctl" -D "$pgdata" stop -m immediate -w >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port: bind to 0 and read what the kernel chose. A tiny race with other processes is
# possible; pg_ctl start then fails loudly and the caller can rerun.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

"${runas[@]}" "$bindir/initdb" -D "$pgdata" -U fw --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$pgdata/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
shared_buffers = 128MB
EOF
"${runas[@]}" "$bindir/pg_ctl" -D "$pgdata" -l "$dir/server.log" -w -t 60 start >/dev/null ||
  { cat "$dir/server.log" >&2; exit 1; }

export FW_TEST_DATABASE_URL="postgresql://fw@127.0.0.1:$port/postgres"
export FW_TEST_PGDATA="$pgdata"
export FW_TEST_PG_BINDIR="$bindir"
export FW_TEST_PG_RUNAS="$runas_user"
export FW_REQUIRE_POSTGRES=1
echo "with-postgres: PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') on port $port" \
     "(data in $pgdata)" >&2
set +e
"$@"
rc=$?
set -e
"${runas[@]}" "$bindir/pg_ctl" -D "$pgdata" stop -m fast -w >/dev/null 2>&1 || true
exit "$rc"
