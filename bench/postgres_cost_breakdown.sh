#!/usr/bin/env bash
# Where the PostgreSQL write path spends server CPU: COPYs 3 x 65,536 rows shaped like
# fw_bench_storage's into `transactions` (one day partition) and `decisions`, as write() does on
# its direct path, with the schema of src/storage/postgres_store.cc cut down step by step:
# unlogged without indexes (parsing + heap only), logged without indexes (+ WAL), with each
# table's primary key, and with all indexes. Prints the backend's CPU time (utime + stime from
# /proc/<pid>/stat) per row for each step: CPU time, unlike wall time, stays meaningful on a
# busy shared machine. Must run on the server's host.
# Run: scripts/with-postgres.sh bench/postgres_cost_breakdown.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FW_TEST_DATABASE_URL:?run under scripts/with-postgres.sh}"
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
rows=65536
/usr/bin/python3 - "$work" "$rows" <<'PY'
import re, sys
work, rows = sys.argv[1], int(sys.argv[2])
src = open('src/storage/postgres_store.cc').read()
open(f'{work}/schema.sql', 'w').write(re.search(r'\{1, R"sql\((.*?)\)sql"\}', src, re.S).group(1))
for it in range(3):
    with open(f'{work}/tx{it}.copy', 'w') as tx, open(f'{work}/dec{it}.copy', 'w') as dec:
        for i in range(rows):
            n = it * rows + i
            ts = 1795442700000000 + n * 1000
            tx.write(f"tx-{1000000000+n}\t{ts}\tacct-{n*7919 % 1000000}\t{1999 + n % 50000}\tEUR\t"
                     f"card_purchase\tecommerce\tmerch-{n % 20000}\t5411\tterm-{n % 50000}\tDE\t"
                     f"52.52\t13.4\t\\N\tdev-{n % 300000}\t10.0.0.1\t\tf\t"
                     f"tok_0123456789abcdef0123\t\\N\t\n")
            action = 'REVIEW' if n % 20 == 0 else 'ALLOW'
            dec.write(f"tx-{1000000000+n}\t{ts}\t{ts+40}\t{0.01*(n%100)}\t{action}\t"
                      '[{"rule_id":"amount_high","detail":"amount 19.99 EUR above account p99",'
                      f'"score":0.12}}]\trules-v1\t2500\n')
PY
chmod 644 "$work"/*
base_url=${FW_TEST_DATABASE_URL%/*}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)
for variant in unlogged_noindex logged_noindex primary_keys all_indexes; do
  db="cost_$variant"
  psql -q "$FW_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db TEMPLATE template0"
  url="$base_url/$db"
  psql -q "$url" -f "$work/schema.sql" -c \
    "CREATE TABLE transactions_d PARTITION OF transactions FOR VALUES FROM (0) TO (9000000000000000000)"
  case $variant in
    unlogged_noindex|logged_noindex)
      psql -q "$url" -c "ALTER TABLE alerts DROP CONSTRAINT alerts_transaction_id_fkey" \
        -c "ALTER TABLE transactions DROP CONSTRAINT transactions_pkey" \
        -c "DROP INDEX transactions_account_ts" -c "ALTER TABLE decisions DROP CONSTRAINT decisions_pkey" \
        -c "DROP INDEX decisions_decided_at"
      if [[ $variant == unlogged_noindex ]]; then
        psql -q "$url" -c "ALTER TABLE transactions_d SET UNLOGGED" -c "ALTER TABLE decisions SET UNLOGGED"
      fi ;;
    primary_keys)
      psql -q "$url" -c "DROP INDEX transactions_account_ts" -c "DROP INDEX decisions_decided_at" ;;
  esac
  coproc PSQL { psql -qAt "$url"; }
  echo "SELECT pg_backend_pid();" >&"${PSQL[1]}"
  read -r pid <&"${PSQL[0]}"
  tx_ticks=0; dec_ticks=0
  for it in 0 1 2; do
    for table in decisions transactions; do
      file=$work/dec$it.copy; [[ $table == transactions ]] && file=$work/tx$it.copy
      before=$(cpu "$pid")
      printf 'BEGIN;\nCOPY %s FROM %s;\nCOMMIT;\nSELECT 1;\n' "$table" "'$file'" >&"${PSQL[1]}"
      read -r _ <&"${PSQL[0]}"
      spent=$(( $(cpu "$pid") - before ))
      if [[ $table == transactions ]]; then tx_ticks=$((tx_ticks + spent)); else dec_ticks=$((dec_ticks + spent)); fi
    done
  done
  echo '\q' >&"${PSQL[1]}"
  wait "$PSQL_PID" 2>/dev/null || true
  awk -v v="$variant" -v t="$tx_ticks" -v d="$dec_ticks" -v hz="$tick" -v n=$((3 * rows)) \
    'BEGIN { printf "%-17s transactions %5.1f us/row   decisions %5.1f us/row   sum %5.1f us/row\n",
             v, t / hz / n * 1e6, d / hz / n * 1e6, (t + d) / hz / n * 1e6 }'
  psql -q "$FW_TEST_DATABASE_URL" -c "DROP DATABASE $db"
done
