// Storage throughput: how many scored transactions (plus ~5% alerts) per second the SQLite store
// persists in batches of 4096, the way the demo pipeline's writer thread calls it.
// Run: build/release/bench/fw_bench_storage (a Release build; the database goes to $TMPDIR).
// BM_PostgresWrite writes into the PostgreSQL database named by FW_BENCH_DATABASE_URL (its
// tables are emptied first) and skips without it, for example:
//   scripts/with-postgres.sh sh -c 'FW_BENCH_DATABASE_URL=$FW_TEST_DATABASE_URL
//   build/release/bench/fw_bench_storage'   (one command line)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "storage/pg_connection.h"
#include "storage/postgres_store.h"
#include "storage/sqlite_store.h"

namespace fw {
namespace {

// A realistic transaction: ids and strings of typical lengths, location, one or two reasons.
Scored make_scored(int64_t n) {
  Scored s;
  Transaction& tx = s.tx;
  tx.id = "tx-" + std::to_string(1'000'000'000 + n);
  tx.ts = 1'795'442'700'000'000 + n * 1000;
  tx.account_id = "acct-" + std::to_string(n * 7919 % 1'000'000);
  tx.amount = Money{1999 + n % 50'000, Currency::of("EUR")};
  tx.type = TxType::kCardPurchase;
  tx.channel = Channel::kEcommerce;
  tx.merchant_id = "merch-" + std::to_string(n % 20'000);
  tx.mcc = 5411;
  tx.terminal_id = "term-" + std::to_string(n % 50'000);
  tx.country = *Country::parse("DE");
  tx.has_location = true;
  tx.lat = 52.52;
  tx.lon = 13.40;
  tx.device_id = "dev-" + std::to_string(n % 300'000);
  tx.ip = "10.0.0.1";
  tx.card_token = "tok_0123456789abcdef0123";
  Decision& d = s.decision;
  d.transaction_id = tx.id;
  d.decided_at = tx.ts + 40;
  d.score = 0.01 * static_cast<double>(n % 100);
  d.action = n % 20 == 0 ? Action::kReview : Action::kAllow;
  d.reasons = {{"amount_high", "amount 19.99 EUR above account p99", 0.12}};
  if (d.action != Action::kAllow) {
    d.reasons.push_back({"velocity_1m", "5 transactions in the last 60 s (limit 3)", 0.4});
  }
  d.rule_set_version = "rules-v1";
  d.latency_ns = 2500;
  return s;
}

// Arg 0: synchronous_full (0 = NORMAL, 1 = FULL). Arg 1: transactions per batch.
void BM_SqliteWrite(benchmark::State& state) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("fw_bench_storage_" + std::to_string(getpid()) + ".db"))
                               .string();
  std::filesystem::remove(path);
  auto store =
      open_sqlite_store(SqliteOptions{.path = path, .synchronous_full = state.range(0) != 0});
  if (!store.ok()) {
    state.SkipWithError(store.error().message().c_str());
    return;
  }
  // Batches are built outside the timed region, as the engine hands them over ready-made.
  const int batch_size = static_cast<int>(state.range(1));
  int64_t next = 0;
  WriteBatch batch;
  for (auto _ : state) {
    state.PauseTiming();
    batch.clear();
    for (int i = 0; i < batch_size; ++i) {
      batch.scored.push_back(make_scored(next++));
      const Scored& s = batch.scored.back();
      if (s.decision.action != Action::kAllow) {
        batch.alerts.push_back(Alert{s.tx.id, s.tx.account_id, s.decision.decided_at,
                                     s.decision.action, s.decision.score, "amount_high; velocity",
                                     AlertStatus::kOpen});
      }
    }
    batch.checkpoints = {{"simulator:seed=42", next}};
    state.ResumeTiming();
    Status st = (*store)->write(batch);
    if (!st.ok()) {
      state.SkipWithError(st.error().message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(next);
  state.counters["tx_per_s"] =
      benchmark::Counter(static_cast<double>(next), benchmark::Counter::kIsRate);
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}
// Wall-clock rates: the writer thread waits on the disk too. The database grows through the run
// (~1M transactions), so later batches pay for deeper indexes, as a long demo does.
BENCHMARK(BM_SqliteWrite)
    ->Args({0, 4096})
    ->Args({1, 4096})
    ->Args({0, 16384})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5);

// User + system CPU seconds of a process on this machine (from /proc), or 0.
double process_cpu_seconds(int64_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// PostgreSQL: the same batches through COPY into staging tables and INSERT ... ON CONFLICT.
// Arg 0: transactions per batch.
void BM_PostgresWrite(benchmark::State& state) {
  const char* url = std::getenv("FW_BENCH_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    state.SkipWithError("FW_BENCH_DATABASE_URL is not set");
    return;
  }
  auto store = open_postgres_store(PostgresOptions{.url = url});
  if (!store.ok()) {
    state.SkipWithError(store.error().message().c_str());
    return;
  }
  auto admin = PgConnection::open(url, "bench");
  if (!admin.ok() || !admin
                          ->exec("TRUNCATE transactions, decisions, alerts, checkpoints; "
                                 "UPDATE counters SET value = 0")
                          .ok()) {
    state.SkipWithError("cannot empty the benchmark database");
    return;
  }
  // The writer's server process, to report the server's CPU time per transaction: with the
  // server on the same (shared, busy) machine, CPU time is steadier than wall time.
  int64_t backend_pid = -1;
  auto pid = admin->exec(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'fraudwatch-writer' "
      "AND datname = current_database() ORDER BY backend_start DESC LIMIT 1");
  if (pid.ok() && PQntuples(pid->get()) == 1) backend_pid = pg_int64(pid->get(), 0, 0);
  const double server_cpu_before = process_cpu_seconds(backend_pid);
  const int batch_size = static_cast<int>(state.range(0));
  int64_t next = 0;
  WriteBatch batch;
  for (auto _ : state) {
    state.PauseTiming();
    batch.clear();
    for (int i = 0; i < batch_size; ++i) {
      batch.scored.push_back(make_scored(next++));
      const Scored& s = batch.scored.back();
      if (s.decision.action != Action::kAllow) {
        batch.alerts.push_back(Alert{s.tx.id, s.tx.account_id, s.decision.decided_at,
                                     s.decision.action, s.decision.score, "amount_high; velocity",
                                     AlertStatus::kOpen});
      }
    }
    batch.checkpoints = {{"simulator:seed=42", next}};
    state.ResumeTiming();
    Status st = (*store)->write(batch);
    if (!st.ok()) {
      state.SkipWithError(st.error().message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(next);
  state.counters["tx_per_s"] =
      benchmark::Counter(static_cast<double>(next), benchmark::Counter::kIsRate);
  const double server_cpu = process_cpu_seconds(backend_pid) - server_cpu_before;
  if (backend_pid > 0 && next > 0 && server_cpu > 0) {
    state.counters["server_cpu_us_per_tx"] = server_cpu * 1e6 / static_cast<double>(next);
  }
}
BENCHMARK(BM_PostgresWrite)
    ->Arg(4096)
    ->Arg(32768)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5);

}  // namespace
}  // namespace fw
