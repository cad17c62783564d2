#include "sources/history_writer.h"

#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "model/csv_codec.h"
#include "model/json_codec.h"

namespace fw {
namespace {

constexpr size_t kBatch = 8192;
constexpr size_t kFlushBytes = 1 << 20;

// A buffered output file: appends go to a string, written with one fwrite per ~1 MiB.
class OutFile {
 public:
  OutFile() { buf_.reserve(kFlushBytes + 64 * 1024); }
  ~OutFile() { (void)close(); }

  Status open(const std::string& path) {
    file_ = std::fopen(path.c_str(), "wb");
    path_ = path;
    if (file_ == nullptr) {
      return make_error("out_dir", "cannot create '" + path + "': " + std::strerror(errno) +
                                       "; check that the directory is writable");
    }
    return Status::Ok();
  }
  bool is_open() const { return file_ != nullptr; }
  std::string& buffer() { return buf_; }
  Status maybe_flush() { return buf_.size() >= kFlushBytes ? flush() : Status::Ok(); }
  Status flush() {
    if (file_ != nullptr && !buf_.empty()) {
      if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) {
        return make_error("out_dir", "cannot write '" + path_ + "': " + std::strerror(errno) +
                                         "; check free disk space");
      }
      bytes_ += buf_.size();
    }
    buf_.clear();
    return Status::Ok();
  }
  Status close() {
    if (file_ == nullptr) return Status::Ok();
    Status s = flush();
    if (std::fclose(file_) != 0 && s.ok()) {
      s = make_error("out_dir", "cannot close '" + path_ + "': " + std::strerror(errno));
    }
    file_ = nullptr;
    return s;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string buf_;
  uint64_t bytes_ = 0;
};

struct Batch {
  std::vector<Transaction> txs;
  std::vector<LabelEvent> labels;
  size_t n = 0;  // transactions of txs inside the range
  bool last = false;
};

int64_t day_of(Timestamp ts) {
  int64_t d = ts / kMicrosPerDay;
  return (ts % kMicrosPerDay != 0 && ts < 0) ? d - 1 : d;
}

}  // namespace

Result<HistoryStats> write_history(const SimulatorConfig& config, const HistoryOptions& options) {
  if (options.to <= options.from) {
    return make_error("to", "the end of the range must be after its start (from " +
                                format_rfc3339(options.from) + ", to " +
                                format_rfc3339(options.to) + ")");
  }
  SimulatorConfig cfg = config;
  cfg.start = options.from;
  auto valid = validate(cfg);
  if (!valid.ok()) return valid.error();
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    return make_error("out_dir",
                      "cannot create directory '" + options.out_dir + "': " + ec.message());
  }
  const std::filesystem::path dir(options.out_dir);

  Simulator sim(valid.value());
  const Timestamp to = options.to;

  // Generation on a helper thread, formatting and writing here; batches go round a ring of
  // three, in order, so the output does not depend on timing.
  std::array<Batch, 3> batches;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<int> free_slots = {0, 1, 2}, full_slots;
  bool cancelled = false;

  std::thread producer([&] {
    for (;;) {
      int i;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return cancelled || !free_slots.empty(); });
        if (cancelled) return;
        i = free_slots.front();
        free_slots.pop_front();
      }
      Batch& b = batches[static_cast<size_t>(i)];
      sim.fill_batch(kBatch, b.txs);
      b.n = 0;
      while (b.n < b.txs.size() && b.txs[b.n].ts < to) ++b.n;
      b.last = b.n < b.txs.size();
      b.labels.clear();
      sim.take_due_labels(b.labels);
      if (b.last) sim.take_all_labels(b.labels);
      // Labels of transactions past the range are not part of this history.
      std::erase_if(b.labels, [&](const LabelEvent& l) { return l.transaction_ts >= to; });
      {
        std::lock_guard lock(mu);
        full_slots.push_back(i);
      }
      cv.notify_all();
      if (b.last) return;
    }
  });

  HistoryStats stats;
  OutFile day_file, label_file;
  Status status = label_file.open((dir / "labels.jsonl").string());
  int64_t current_day = INT64_MIN;
  int64_t last_progress = monotonic_nanos();
  HistoryProgress progress{0, options.from, options.from, options.to};
  std::vector<size_t> pattern_counts(fraud_patterns().size(), 0);

  bool done = !status.ok();
  while (!done) {
    int i;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !full_slots.empty(); });
      i = full_slots.front();
      full_slots.pop_front();
    }
    Batch& b = batches[static_cast<size_t>(i)];
    for (size_t k = 0; k < b.n && status.ok(); ++k) {
      const Transaction& tx = b.txs[k];
      int64_t day = day_of(tx.ts);
      if (day != current_day) {
        status = day_file.close();
        if (!status.ok()) break;
        std::string name = format_date(tx.ts) + (options.csv ? ".csv" : ".jsonl");
        status = day_file.open((dir / name).string());
        if (!status.ok()) break;
        ++stats.files;
        current_day = day;
        if (options.csv) {
          day_file.buffer().append(csv_header());
          day_file.buffer().push_back('\n');
        }
      }
      std::string& out = day_file.buffer();
      if (options.csv) {
        append_csv_row(out, tx);
      } else {
        append_json(out, tx);
      }
      out.push_back('\n');
      if (tx.label == Label::kFraud) {
        ++stats.frauds;
        for (size_t p = 0; p < pattern_counts.size(); ++p) {
          if (fraud_patterns()[p].name == tx.fraud_pattern) {
            ++pattern_counts[p];
            break;
          }
        }
      }
      status = day_file.maybe_flush();
    }
    stats.transactions += b.n;
    for (const LabelEvent& l : b.labels) {
      if (!status.ok()) break;
      append_json(label_file.buffer(), l);
      label_file.buffer().push_back('\n');
      status = label_file.maybe_flush();
    }
    stats.labels += b.labels.size();
    if (b.n > 0) progress.sim_time = b.txs[b.n - 1].ts;
    progress.transactions = stats.transactions;
    done = b.last || !status.ok();
    {
      std::lock_guard lock(mu);
      free_slots.push_back(i);
      if (!status.ok()) cancelled = true;
    }
    cv.notify_all();
    int64_t t = monotonic_nanos();
    if (options.progress && t - last_progress >= 500'000'000) {
      last_progress = t;
      options.progress(progress);
    }
  }
  {
    std::lock_guard lock(mu);
    cancelled = true;  // stops the producer if it is still running (after an error)
  }
  cv.notify_all();
  producer.join();
  if (status.ok()) status = day_file.close();
  if (status.ok()) status = label_file.close();
  if (!status.ok()) return status.error();
  stats.bytes = day_file.bytes() + label_file.bytes();
  for (size_t p = 0; p < pattern_counts.size(); ++p) {
    if (pattern_counts[p] > 0) {
      stats.frauds_by_pattern[std::string(fraud_patterns()[p].name)] = pattern_counts[p];
    }
  }
  progress.sim_time = std::max(progress.sim_time, options.from);
  if (options.progress) options.progress(progress);
  return stats;
}

}  // namespace fw
