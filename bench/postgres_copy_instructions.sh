#!/usr/bin/env bash
# Server work per row of the PostgreSQL write path, counted in instructions: the backend's COPY
# of 3 x 16,384 rows shaped like fw_bench_storage's into `decisions` and `transactions` (one day
# partition), run under valgrind's callgrind in a single-user backend (`postgres --single`),
# counting only inside DoCopy (parse, heap and index inserts; not the commit's fsync).
# Instruction counts do not depend on what else the machine runs, so on a shared, busy machine
# they compare schema and format variants where CPU-time figures vary by +-50%. They do not see
# cache misses: confirm a choice with fw_bench_storage's server_cpu_us_per_tx.
#
# Variants (any number, each measured in a fresh database with the schema of every migration in
# src/storage/postgres_store.cc):
#   text | binary            COPY format (binary = what PostgresStore::write() sends)
#   <format>_m2              the schema of migration 2: primary key (id, ts), no account index
#   <format>_m6              the schema of migration 6: hash index on transactions.id,
#                            decisions (decided_at, transaction_id)
#   <format>_noacct          without transactions_account_ts
#   <format>_noda            without decisions_decided_at
# Needs Debian's postgresql and valgrind packages; run as root (the backend runs as postgres).
# Takes ~2 minutes per variant on a quiet 2-core machine.
# Run: bench/postgres_copy_instructions.sh binary_m6 binary
set -euo pipefail
cd "$(dirname "$0")/.."
bindir=${FW_PG_BINDIR:-/usr/lib/postgresql/15/bin}
rows=16384
work=$(mktemp -d /tmp/fw-pgcopy.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
runas=()
if [[ $(id -u) -eq 0 ]]; then
  runas=(runuser -u postgres --)
  chown postgres "$work"
fi
mkdir "$work/files"
chmod 777 "$work/files"
/usr/bin/python3 - "$work/files" "$rows" <<'PY'
import re, sys
work, rows = sys.argv[1], int(sys.argv[2])
src = open('src/storage/postgres_store.cc').read()
migs = re.findall(r'\{\d+, R"sql\((.*?)\)sql"\}', src, re.S)
open(f'{work}/schema.sql', 'w').write(";\n".join(migs))
for it in range(3):
    with open(f'{work}/tx{it}.copy', 'w') as tx, open(f'{work}/dec{it}.copy', 'w') as dec:
        for i in range(rows):
            n = it * rows + i
            ts = 1795442700000000 + n * 1000
            tid = f"tx-42-{n * 7 % 3000000}"
            tx.write(f"{tid}\t{ts}\tacct-{n * 7919 % 100000}\t{1999 + n % 50000}\tEUR\t"
                     f"card_purchase\tecommerce\tmerch-{n % 20000}\t5411\tterm-{n % 50000}\tDE\t"
                     f"52.52\t13.4\t\\N\tdev-{n % 300000}\t10.0.0.1\t\tf\t"
                     f"tok_0123456789abcdef0123\t\\N\t\n")
            action = 'REVIEW' if n % 20 == 0 else 'ALLOW'
            dec.write(f"{tid}\t{ts}\tacct-{n * 7919 % 100000}\t{ts + 40}\t{0.01 * (n % 100)}\t"
                      f"{action}\t"
                      '[{"rule_id":"amount_high","detail":"amount 19.99 EUR above account p99",'
                      f'"score":0.12}}]\trules-v1\t2500\t\\N\n')
PY
chmod 666 "$work"/files/*
F=$work/files
"${runas[@]}" "$bindir/initdb" -D "$work/data" -U fw --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$work/initdb.log"
single() { "${runas[@]}" "$bindir/postgres" --single -j -D "$work/data" "$@" >/dev/null 2>>"$work/err"; }
# The text files' decision columns (the table's order differs: account_id came in migration 7).
deccols="(transaction_id, tx_ts, account_id, decided_at, score, action, reasons, rule_set_version, latency_ns, model)"
part="CREATE TABLE transactions_d PARTITION OF transactions FOR VALUES FROM (0) TO (9000000000000000000)"
# The binary files: the text files loaded, then COPYed out in binary.
printf 'CREATE DATABASE conv;\n\n' | single postgres
{ cat "$F/schema.sql"; printf ';\n\n%s;\n\n' "$part"
  for it in 0 1 2; do
    printf "TRUNCATE transactions, decisions CASCADE;\n\n"
    printf "COPY transactions FROM '%s';\n\nCOPY decisions %s FROM '%s';\n\n" "$F/tx$it.copy" "$deccols" "$F/dec$it.copy"
    printf "COPY (SELECT * FROM transactions) TO '%s' (FORMAT binary);\n\n" "$F/tx$it.bin"
    printf "COPY decisions TO '%s' (FORMAT binary);\n\n" "$F/dec$it.bin"
  done; } | single conv
for variant in "$@"; do
  case $variant in
    binary*) fmt="(FORMAT binary)"; ext=bin ;;
    text*) fmt=""; ext=copy ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
  esac
  ddl="SELECT 1"
  case $variant in
    *_m2) ddl="DROP INDEX transactions_account_ts; ALTER TABLE transactions ADD PRIMARY KEY (id, ts); DROP INDEX decisions_decided_at; CREATE INDEX decisions_decided_at ON decisions (decided_at, transaction_id)" ;;
    *_m6) ddl="CREATE INDEX transactions_id ON transactions USING hash (id); DROP INDEX decisions_decided_at; CREATE INDEX decisions_decided_at ON decisions (decided_at, transaction_id)" ;;
    *_noacct) ddl="DROP INDEX transactions_account_ts" ;;
    *_noda) ddl="DROP INDEX decisions_decided_at" ;;
  esac
  printf 'DROP DATABASE IF EXISTS v;\n\nCREATE DATABASE v;\n\n' | single postgres
  { cat "$F/schema.sql"; printf ';\n\n%s;\n\n%s;\n\n' "$part" "$ddl"; } | single v
  declare -A per_row=()
  for table in decisions transactions; do
    src=dec; [[ $table == transactions ]] && src=tx
    cols=""; [[ $table == decisions && $ext == copy ]] && cols=$deccols
    { for it in 0 1 2; do
        printf "BEGIN;\n\nCOPY %s %s FROM '%s' %s;\n\nCOMMIT;\n\n" "$table" "$cols" "$F/$src$it.$ext" "$fmt"
      done; } |
      "${runas[@]}" valgrind --tool=callgrind --collect-atstart=no --toggle-collect=DoCopy \
        --callgrind-out-file="$work/cg.$table" "$bindir/postgres" --single -j -D "$work/data" v \
        >/dev/null 2>>"$work/err"
    total=$(awk '/^summary:/ {print $2; exit}' "$work/cg.$table")
    per_row[$table]=$((total / (3 * rows)))
  done
  printf '%-18s transactions %6d  decisions %6d  sum %6d instructions per row\n' "$variant" \
    "${per_row[transactions]}" "${per_row[decisions]}" \
    $((per_row[transactions] + per_row[decisions]))
done
