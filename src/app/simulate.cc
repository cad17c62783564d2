// `fraudwatch simulate`: simulated transactions to a file or stdout, or day-partitioned history.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "app/commands.h"
#include "app/setup.h"
#include "app/shutdown.h"
#include "engine/bounded_queue.h"
#include "model/csv_codec.h"
#include "model/json_codec.h"
#include "sources/history_writer.h"
#include "sources/simulator.h"

namespace fw {
namespace {

// "2026-01-01" or a full RFC 3339 time.
Result<Timestamp> parse_day_or_time(const std::string& s, const char* field) {
  auto t = parse_rfc3339(s.size() == 10 ? s + "T00:00:00Z" : s);
  if (!t.ok()) return make_error(field, "expected YYYY-MM-DD or an RFC 3339 time, got '" + s + "'");
  return *t;
}

int list_patterns() {
  for (const PatternInfo& p : fraud_patterns()) {
    fmt::print("{:<26} {}\n", p.name, p.summary);
    fmt::print("{:<26} shows as: {}\n\n", "", p.how_it_shows);
  }
  return 0;
}

}  // namespace

int run_simulate(const SimulateOptions& options) {
  if (options.list_patterns) return list_patterns();
  if (options.to == "kafka") return run_simulate_kafka(options);
  const AppConfig& cfg = options.config;
  if (options.format != "jsonl" && options.format != "csv") {
    spdlog::error("--format: must be jsonl or csv, got '{}'", options.format);
    return 2;
  }
  SimulatorConfig sc = simulator_config(cfg);
  sc.patterns = options.patterns;
  if (!options.start.empty()) {
    auto t = parse_day_or_time(options.start, "--start");
    if (!t.ok()) {
      spdlog::error("{}", t.error().message());
      return 2;
    }
    sc.start = *t;
  }
  auto valid = validate(sc);
  if (!valid.ok()) {
    spdlog::error("{}", valid.error().message());
    return 2;
  }
  install_shutdown_handlers();
  const bool tty = isatty(STDERR_FILENO) != 0;

  if (!options.from.empty() || !options.to.empty()) {
    if (options.from.empty() || options.to.empty() || options.out_dir.empty()) {
      spdlog::error("historical mode needs --from, --to and --out-dir together");
      return 2;
    }
    auto from = parse_day_or_time(options.from, "--from");
    auto to = parse_day_or_time(options.to, "--to");
    if (!from.ok() || !to.ok()) {
      spdlog::error("{}", (!from.ok() ? from : to).error().message());
      return 2;
    }
    HistoryOptions ho;
    ho.out_dir = options.out_dir;
    ho.csv = options.format == "csv";
    ho.from = *from;
    ho.to = *to;
    const auto started = std::chrono::steady_clock::now();
    ho.progress = [&](const HistoryProgress& p) {
      double span = static_cast<double>(p.to - p.from);
      double pct = span > 0 ? 100.0 * static_cast<double>(p.sim_time - p.from) / span : 100.0;
      double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::string line = fmt::format("simulate: {:5.1f}%  {}  {} transactions  {:.0f} tx/s",
                                     std::min(pct, 100.0), format_date(p.sim_time), p.transactions,
                                     static_cast<double>(p.transactions) / std::max(secs, 1e-9));
      if (tty) {
        fmt::print(stderr, "\r{}\x1b[K", line);
      } else {
        fmt::print(stderr, "{}\n", line);
      }
    };
    auto stats = write_history(*valid, ho);
    if (tty) fmt::print(stderr, "\n");
    if (!stats.ok()) {
      spdlog::error("{}", stats.error().message());
      return 1;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fmt::print(stderr,
               "wrote {} transactions ({} fraud) and {} labels in {} day files ({:.1f} MB) to {} "
               "in {:.1f} s ({:.0f} tx/s)\n",
               stats->transactions, stats->frauds, stats->labels, stats->files,
               static_cast<double>(stats->bytes) / 1e6, options.out_dir, secs,
               static_cast<double>(stats->transactions) / std::max(secs, 1e-9));
    for (const auto& [name, n] : stats->frauds_by_pattern) {
      fmt::print(stderr, "  {:<26} {}\n", name, n);
    }
    return 0;
  }

  if (options.count == 0 && options.duration_s == 0) {
    spdlog::error(
        "say how much to simulate: --count N, --duration SECONDS, or --from/--to with "
        "--out-dir for history files");
    return 2;
  }
  std::FILE* out = stdout;
  if (options.out != "-") {
    out = std::fopen(options.out.c_str(), "w");
    if (out == nullptr) {
      spdlog::error("cannot write '{}': {}", options.out, std::strerror(errno));
      return 1;
    }
  }
  const bool csv = options.format == "csv";
  const bool show_progress = tty && out != stdout;
  std::string buf;
  buf.reserve(2 << 20);
  if (csv) {
    buf.append(csv_header());
    buf.push_back('\n');
  }
  // Generation runs on its own thread and hands whole batches over a bounded queue, so it
  // overlaps with formatting and writing here; the output is the same as single-threaded.
  Simulator sim(*valid);
  BoundedQueue<std::vector<Transaction>> batches(8);
  BoundedQueue<std::vector<Transaction>> spare(64);  // holds every vector ever made (<= 11)
  std::atomic<uint64_t> produced{0};
  std::atomic<Timestamp> sim_now{0};
  const auto started = std::chrono::steady_clock::now();
  const size_t batch =
      cfg.rate > 0 ? std::max<size_t>(1, static_cast<size_t>(cfg.rate / 20)) : 4096;
  std::thread generator([&] {
    auto next_batch_at = started;
    for (;;) {
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (shutdown_requested()) break;
      if (options.count > 0 && sim.produced() >= options.count) break;
      if (options.duration_s > 0 && elapsed >= options.duration_s) break;
      size_t n = batch;
      if (options.count > 0) n = std::min<uint64_t>(n, options.count - sim.produced());
      std::vector<Transaction> txs;
      if (auto reused = spare.pop_for(std::chrono::seconds(0))) txs = std::move(*reused);
      sim.fill_batch(n, txs);
      produced.store(sim.produced(), std::memory_order_relaxed);
      sim_now.store(sim.now(), std::memory_order_relaxed);
      if (!batches.push(txs)) break;
      if (cfg.rate > 0) {
        next_batch_at += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(static_cast<double>(n) / cfg.rate));
        std::this_thread::sleep_until(next_batch_at);
      }
    }
    batches.close();
  });

  auto next_progress = started + std::chrono::milliseconds(500);
  bool ok = true;
  while (auto txs = batches.pop()) {
    for (const Transaction& tx : *txs) {
      if (csv) {
        append_csv_row(buf, tx);
      } else {
        append_json(buf, tx);
      }
      buf.push_back('\n');
    }
    spare.push(*txs);
    if (ok && (buf.size() >= (1 << 20) || cfg.rate > 0)) {
      if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) {
        ok = false;
        request_shutdown();  // stops the generator; keep draining so it can finish
      }
      if (cfg.rate > 0) std::fflush(out);
      buf.clear();
    }
    auto now = std::chrono::steady_clock::now();
    if (show_progress && now >= next_progress) {
      double elapsed = std::chrono::duration<double>(now - started).count();
      uint64_t n = produced.load(std::memory_order_relaxed);
      fmt::print(stderr, "\rsimulate: {} transactions  {:.0f} tx/s  sim {}\x1b[K", n,
                 static_cast<double>(n) / std::max(elapsed, 1e-9),
                 format_rfc3339(sim_now.load(std::memory_order_relaxed)).substr(0, 16));
      next_progress = now + std::chrono::milliseconds(500);
    }
  }
  generator.join();
  if (ok && !buf.empty() && std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) ok = false;
  if (out != stdout) {
    if (std::fclose(out) != 0) ok = false;
  } else {
    std::fflush(out);
  }
  if (!ok) {
    if (errno == EPIPE) return 0;  // the reader went away (e.g. `| head`): not an error
    spdlog::error("writing '{}' failed: {}", options.out, std::strerror(errno));
    return 1;
  }
  if (show_progress) fmt::print(stderr, "\n");
  if (out != stdout || tty) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    fmt::print(stderr, "simulated {} transactions in {:.2f} s ({:.0f} tx/s)\n", sim.produced(),
               secs, static_cast<double>(sim.produced()) / std::max(secs, 1e-9));
  }
  return 0;
}

}  // namespace fw
