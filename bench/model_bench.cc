// Micro benchmarks for the transaction wire formats (model/json_codec.h, model/csv_codec.h).
// Run: build/release/bench/fw_bench_model
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "model/csv_codec.h"
#include "model/json_codec.h"

namespace fw {
namespace {

// A realistic ~240-byte card purchase.
constexpr std::string_view kLine =
    R"({"id":"tx-000012345678","ts":"2026-11-23T14:05:00.123Z","account_id":"acc-0004711",)"
    R"("amount":"12.50","currency":"EUR","type":"card_purchase","channel":"pos",)"
    R"("merchant_id":"m-00912","mcc":5411,"terminal_id":"t-0091201","country":"DE",)"
    R"("lat":52.52,"lon":13.405,"card_present":true})";

void BM_DecodeJson(benchmark::State& state) {
  JsonDecoder dec;
  Transaction tx;
  for (auto _ : state) {
    Status s = dec.decode_into(kLine, tx);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(tx.amount.minor);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kLine.size()));
  state.counters["line_bytes"] = static_cast<double>(kLine.size());
}
BENCHMARK(BM_DecodeJson);

Transaction sample() {
  JsonDecoder dec;
  return dec.decode(kLine).value();
}

void BM_AppendJson(benchmark::State& state) {
  Transaction tx = sample();
  std::string out;
  for (auto _ : state) {
    out.clear();
    append_json(out, tx);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_AppendJson);

void BM_AppendCsv(benchmark::State& state) {
  Transaction tx = sample();
  std::string out;
  for (auto _ : state) {
    out.clear();
    append_csv_row(out, tx);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_AppendCsv);

void BM_SplitAndDecodeCsv(benchmark::State& state) {
  Transaction tx = sample();
  std::string row;
  append_csv_row(row, tx);
  std::vector<std::string> fields;
  TextRecord rec;
  for (auto _ : state) {
    Status s = split_csv_record(row, fields);
    for (size_t i = 0; i < kCanonicalFieldCount; ++i) rec.value[i] = fields[i];
    s = decode_text_record(rec, nullptr, tx);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_SplitAndDecodeCsv);

}  // namespace
}  // namespace fw
