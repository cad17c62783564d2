#!/usr/bin/env bash
# End-to-end Kafka figures for BENCHMARKS.md: `fraudwatch serve --embedded-kafka` (librdkafka's
# in-memory mock cluster, NOT a performance reference) fed by `fraudwatch simulate --to kafka`.
# Usage: scripts/bench-kafka.sh BINARY COUNT RATE [PARTITIONS [CONFIG]]  (RATE 0 = as fast as
# possible; CONFIG = a serve config file, e.g. to try other kafka.batch_max_ms)
# Prints serve's closing line (messages/s while busy, produce->decision latency p50/p99) and the
# end-to-end rate. Fails when a transaction was not stored or the mock's retention deleted input
# before serve read it (fraudwatch_kafka_skipped_offsets_total > 0): the mock keeps only about
# 5 MiB or 100,000 message sets per partition, so COUNT must fit in PARTITIONS x ~5 MiB of
# ~330-byte messages unless serve keeps up with RATE (docs/scaling.md, "The mock cluster").
set -euo pipefail
bin=${1:?binary}
count=${2:-100000}
rate=${3:-10000}
partitions=${4:-4}
config=()
[[ -n "${5:-}" ]] && config=(--config "$5")
dir=$(mktemp -d)
pid=
trap '[[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
"$bin" serve "${config[@]}" --embedded-kafka --partitions "$partitions" --port 0 --data-dir "$dir" \
  --log-level warn 2>"$dir/serve.log" &
pid=$!
metric() {  # metric NAME: its value from serve's /metrics, empty if unavailable
  curl -s "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
for _ in $(seq 1 600); do
  grep -q "fraudwatch serve:" "$dir/serve.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log"; exit 1; }
  sleep 0.1
done
brokers=$(grep -o "bootstrap servers [0-9.:,]*" "$dir/serve.log" | awk '{print $3}')
port=$(grep -o "metrics http://[0-9.]*:[0-9]*" "$dir/serve.log" | sed 's/.*://')
# The group's first assignment comes a few seconds after start-up (the coordinator waits for
# more members to join); traffic produced before it would only measure that wait.
for _ in $(seq 1 600); do
  a=$(metric fraudwatch_kafka_assigned_partitions)
  [[ "${a:-0}" -gt 0 ]] && break
  sleep 0.1
done
[[ "${a:-0}" -gt 0 ]] || { echo "serve was never assigned partitions" >&2; exit 1; }
start=$(date +%s.%N)
"$bin" simulate --to kafka --brokers "$brokers" --topic transactions --count "$count" \
  --rate "$rate" --log-level warn
# Wait until every transaction is stored (or known to be lost), then stop serve.
for _ in $(seq 1 6000); do
  n=$(metric fraudwatch_store_stored_total)
  s=$(metric fraudwatch_kafka_skipped_offsets_total)
  [[ $(( ${n:-0} + ${s:-0} )) -ge "$count" ]] && break
  sleep 0.1
done
end=$(date +%s.%N)
skipped=$(metric fraudwatch_kafka_skipped_offsets_total)
kill -TERM "$pid"
wait "$pid" || true
pid=
grep "consumed" "$dir/serve.log"
echo "end to end: $count transactions produced at rate $rate into $partitions partitions," \
  "scored, stored and their decisions delivered in $(echo "$end - $start" | bc) s =" \
  "$(echo "$count / ($end - $start)" | bc) tx/s"
if [[ "${skipped:-0}" != 0 ]]; then
  grep "deleted by the broker" "$dir/serve.log" | head -3 >&2
  echo "INVALID: the mock cluster's retention deleted $skipped input messages before serve" \
    "read them; use fewer messages, more partitions or a lower rate" >&2
  exit 1
fi
