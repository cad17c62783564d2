#!/usr/bin/env bash
# What each index costs the PostgreSQL write path: runs the store's move statement (the one
# write() executes after COPY) on 3 x 32,768 staged rows with all indexes, without
# transactions(account_id, ts) and without decisions(decided_at, transaction_id), and prints
# EXPLAIN ANALYZE's execution times. Uses the schema and SQL from src/storage/postgres_store.cc.
# Run: scripts/with-postgres.sh bench/postgres_index_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FW_TEST_DATABASE_URL:?run under scripts/with-postgres.sh}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
src = open('src/storage/postgres_store.cc').read()
mig = re.search(r'\{1, R"sql\((.*?)\)sql"\}', src, re.S).group(1)
stage = re.search(r'kStageSql = R"sql\((.*?)\)sql"', src, re.S).group(1)
move = re.search(r'kMoveSql = R"sql\((.*?)\)sql"', src, re.S).group(1)
open(f'{work}/schema.sql', 'w').write(mig)
out = [stage, "CREATE TABLE transactions_all PARTITION OF transactions "
       "FOR VALUES FROM (0) TO (100000000000000000);"]
for it in range(3):
    base = it * 100000
    out.append(f"""BEGIN;
INSERT INTO fw_stage_tx SELECT 'tx-'||(g+{base}), g*1000, 'acct-'||(g*7919 % 1000000), 1999,
  'EUR', 'card_purchase', 'ecommerce', 'm', 5411, 't', 'DE', 52.5, 13.4, NULL, 'd', 'ip', '',
  true, 'tok', NULL, '', g*1000+40, 0.1, CASE WHEN g%20=0 THEN 'REVIEW' ELSE 'ALLOW' END,
  '[{{"rule_id":"amount_high","detail":"x","score":0.12}}]', 'v1', 2500
  FROM generate_series(1, 32768) g;
INSERT INTO fw_stage_alerts SELECT g, 'tx-'||(g+{base}), 'acct', 1, 'REVIEW', 0.5, 's', 'open'
  FROM generate_series(20, 32768, 20) g;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) {move};
COMMIT;""")
open(f'{work}/move.sql', 'w').write("\n".join(out))
PY
base_url=${FW_TEST_DATABASE_URL%/*}
for variant in all no_account_ts no_decided_at; do
  psql -q "$FW_TEST_DATABASE_URL" -c "CREATE DATABASE idx_$variant TEMPLATE template0"
  url="$base_url/idx_$variant"
  psql -q "$url" -f "$work/schema.sql"
  if [[ $variant == no_account_ts ]]; then psql -q "$url" -c "DROP INDEX transactions_account_ts"; fi
  if [[ $variant == no_decided_at ]]; then psql -q "$url" -c "DROP INDEX decisions_decided_at"; fi
  echo "$variant: $(psql -q "$url" -f "$work/move.sql" | grep 'Execution Time' | awk '{print $3}' | paste -sd' ') ms"
done
