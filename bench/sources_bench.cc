// Benchmarks of the simulator: generation alone, generation + JSON formatting, and the
// historical writer end to end (JSON lines to files). Items/s = transactions/s.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "model/json_codec.h"
#include "sources/history_writer.h"
#include "sources/simulator.h"

namespace fw {
namespace {

constexpr size_t kBatch = 4096;

void BM_SimulatorNextBatch(benchmark::State& state) {
  SimulatorConfig config;  // defaults: 20,000 customers, 2,000 merchants, 0.5% fraud
  Simulator sim(config);
  std::vector<Transaction> batch;
  for (auto _ : state) {
    sim.fill_batch(kBatch, batch);
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_SimulatorNextBatch);

void BM_SimulatorToJson(benchmark::State& state) {
  SimulatorConfig config;
  Simulator sim(config);
  std::vector<Transaction> batch;
  std::string out;
  out.reserve(2 << 20);
  for (auto _ : state) {
    sim.fill_batch(kBatch, batch);
    out.clear();
    for (const Transaction& tx : batch) {
      append_json(out, tx);
      out.push_back('\n');
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_SimulatorToJson);

// About 2M transactions of history to JSON-lines files: the argument is the number of customers
// (20,000: 28 days; 200,000: 3 days). Wall-clock time, both threads of the writer included.
void BM_WriteHistory(benchmark::State& state) {
  SimulatorConfig config;
  config.customers = static_cast<size_t>(state.range(0));
  config.merchants = config.customers / 10;
  int64_t days = config.customers >= 200000 ? 3 : 28;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "fw_bench_history";
  HistoryOptions opt;
  opt.out_dir = dir.string();
  opt.from = config.start;
  opt.to = config.start + days * kMicrosPerDay;
  uint64_t total = 0, bytes = 0;
  for (auto _ : state) {
    auto stats = write_history(config, opt);
    if (!stats.ok()) {
      state.SkipWithError(stats.error().message().c_str());
      break;
    }
    total += stats->transactions;
    bytes += stats->bytes;
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(total));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_WriteHistory)
    ->Arg(20000)
    ->Arg(200000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace
}  // namespace fw
