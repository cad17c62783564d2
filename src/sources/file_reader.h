// FileReader: reads transaction history from a CSV or JSON-lines file, or from a directory of
// them, in batches, through an optional column mapping. Bad records become dead letters; the
// reader never stops at one. Owned by the one thread that replays the history; not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/pan.h"
#include "core/result.h"
#include "core/time.h"
#include "model/json_codec.h"
#include "model/mapping.h"
#include "model/transaction.h"

namespace fw {

// Physical lines longer than this are not buffered: they become dead letters.
inline constexpr size_t kMaxFileLineBytes = 1 << 20;
// Dead letters keep at most this much of the raw text.
inline constexpr size_t kMaxDeadLetterRawBytes = 64 << 10;
// In a directory, files of this name hold late labels (sources/label_schedule.h), not
// transactions: the simulator's history mode writes one beside the day files.
inline constexpr std::string_view kLabelFileName = "labels.jsonl";

class FileReader {
 public:
  // path: a .csv, .jsonl/.ndjson/.json file, or a directory (its *.csv / *.jsonl / *.ndjson /
  // *.json files, recursively, in path order; hidden files are skipped; files named
  // labels.jsonl are not read as transactions but listed in label_files()). mapping may be null
  // (the canonical format, chosen per file by extension); a mapping fixes the format, and in a
  // directory only files of that format are read. mapping and tokenizer are not owned and must
  // outlive the reader; the mapping is copied. Errors name the path: missing, unreadable, no
  // data files, or a first CSV file whose header does not fit the mapping.
  static Result<std::unique_ptr<FileReader>> open(const std::string& path,
                                                  const ColumnMapping* mapping,
                                                  const PanTokenizer* tokenizer);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // Appends up to `max` valid transactions to out, in file order; each bad record goes to
  // dead_letters (source "file:<path>:<line>", raw text truncated to 64 KiB, field, reason);
  // at most `max` dead letters per call as well. Blank lines are skipped. Returns false when
  // the input is exhausted and nothing was appended.
  bool next_batch(std::vector<Transaction>& out, std::vector<DeadLetter>& dead_letters, size_t max);

  uint64_t records_read() const { return records_read_; }  // good + bad
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t total_bytes() const { return total_bytes_; }
  const std::vector<std::string>& files() const { return files_; }
  // The labels.jsonl files found in a directory input, in path order.
  const std::vector<std::string>& label_files() const { return label_files_; }

  // Stamps DeadLetter::received_at; without a clock it stays 0. Not owned.
  void set_clock(const Clock* clock) { clock_ = clock; }

 private:
  FileReader() = default;
  // Opens files_[next_file_] and, for CSV, reads and binds its header.
  Status open_next_file();
  void close_file();
  // Reads the next physical line into line_ (without the '\n'). Returns false at end of file.
  // line_too_long_ is set when the line exceeded kMaxFileLineBytes (line_ holds its start).
  bool read_line();
  void add_dead_letter(std::vector<DeadLetter>& dead, uint64_t line_no, std::string_view raw,
                       const Error& error);

  std::optional<ColumnMapping> mapping_;  // null: canonical
  const PanTokenizer* tokenizer_ = nullptr;
  const Clock* clock_ = nullptr;
  std::vector<std::string> files_;
  std::vector<std::string> label_files_;
  size_t next_file_ = 0;

  // Current file.
  std::FILE* file_ = nullptr;
  std::string path_;
  bool csv_ = false;
  uint64_t line_no_ = 0;
  std::optional<RecordDecoder> record_decoder_;  // CSV, or mapped JSON lines
  JsonDecoder json_decoder_;                     // canonical JSON lines
  std::vector<char> buf_;
  size_t buf_pos_ = 0;
  size_t buf_end_ = 0;
  bool eof_ = false;
  std::string line_;
  uint64_t line_bytes_ = 0;
  bool line_too_long_ = false;
  std::vector<std::string> fields_;

  uint64_t records_read_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace fw
