#!/usr/bin/env bash
# End-to-end Kafka figures for BENCHMARKS.md: `fraudwatch serve --embedded-kafka` (librdkafka's
# in-memory mock cluster, NOT a performance reference) fed by `fraudwatch simulate --to kafka`.
# Usage: scripts/bench-kafka.sh BINARY COUNT RATE   (RATE 0 = as fast as possible)
# Prints serve's closing line: messages/s while busy and produce->decision latency p50/p99.
set -euo pipefail
bin=${1:?binary}
count=${2:-200000}
rate=${3:-0}
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" serve --embedded-kafka --partitions 4 --port 0 --data-dir "$dir" --log-level warn \
  2>"$dir/serve.log" &
pid=$!
for _ in $(seq 1 600); do
  grep -q "bootstrap servers" "$dir/serve.log" && grep -q "fraudwatch serve:" "$dir/serve.log" && break
  sleep 0.1
done
brokers=$(grep -o "bootstrap servers [0-9.:,]*" "$dir/serve.log" | awk '{print $3}')
port=$(grep -o "metrics http://[0-9.]*:[0-9]*" "$dir/serve.log" | sed 's/.*://')
start=$(date +%s.%N)
"$bin" simulate --to kafka --brokers "$brokers" --topic transactions --count "$count" \
  --rate "$rate" --log-level warn
# Wait until every transaction is stored, then stop serve and print its summary.
for _ in $(seq 1 6000); do
  n=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^fraudwatch_kafka_messages_in_total/ {print $2}')
  [[ "${n:-0}" -ge "$count" ]] && break
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || true
end=$(date +%s.%N)
grep "consumed" "$dir/serve.log"
echo "end to end: $count transactions produced, scored, stored and their decisions delivered in" \
  "$(echo "$end - $start" | bc) s = $(echo "$count / ($end - $start)" | bc) tx/s"
