#include "sources/file_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fw {
namespace {

namespace fs = std::filesystem;

constexpr size_t kReadChunk = 256 << 10;

enum class Ext { kNone, kCsv, kJsonl };

Ext extension_of(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".csv") return Ext::kCsv;
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") return Ext::kJsonl;
  return Ext::kNone;
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

}  // namespace

FileReader::~FileReader() { close_file(); }

Result<std::unique_ptr<FileReader>> FileReader::open(const std::string& path,
                                                     const ColumnMapping* mapping,
                                                     const PanTokenizer* tokenizer) {
  std::unique_ptr<FileReader> r(new FileReader());
  if (mapping != nullptr) r->mapping_ = *mapping;
  r->tokenizer_ = tokenizer;
  r->json_decoder_ = JsonDecoder(tokenizer);

  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    return Error{"path", "cannot open '" + path + "': " +
                             (ec ? ec.message() : std::string("no such file or directory"))};
  }
  auto wanted = [&](const fs::path& p) {
    Ext e = extension_of(p);
    if (e == Ext::kNone) return false;
    if (!r->mapping_) return true;
    return (e == Ext::kCsv) == (r->mapping_->format == RecordFormat::kCsv);
  };
  if (fs::is_directory(st)) {
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    if (ec) return Error{"path", "cannot list directory '" + path + "': " + ec.message()};
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return Error{"path", "cannot list directory '" + path + "': " + ec.message()};
      const fs::path& p = it->path();
      std::string name = p.filename().string();
      if (!name.empty() && name[0] == '.') {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      if (name == kLabelFileName) {
        r->label_files_.push_back(p.string());
      } else if (wanted(p)) {
        r->files_.push_back(p.string());
      }
    }
    std::sort(r->files_.begin(), r->files_.end());
    std::sort(r->label_files_.begin(), r->label_files_.end());
    if (r->files_.empty()) {
      return Error{"path", "directory '" + path + "' has no " +
                               (r->mapping_ ? std::string(r->mapping_->format == RecordFormat::kCsv
                                                              ? "*.csv"
                                                              : "*.jsonl / *.ndjson / *.json")
                                            : std::string("*.csv or *.jsonl")) +
                               " files"};
    }
  } else {
    if (!r->mapping_ && extension_of(path) == Ext::kNone) {
      return Error{"path", "cannot tell the format of '" + path +
                               "' from its name; use .csv, .jsonl, .ndjson or .json, or a "
                               "column mapping"};
    }
    r->files_.push_back(path);
  }
  for (const auto& f : r->files_) {
    r->total_bytes_ += static_cast<uint64_t>(fs::file_size(f, ec));
    if (ec) ec.clear();
  }
  // Open the first file now, so a missing, unreadable or mis-mapped input fails here.
  if (Status s = r->open_next_file(); !s) return s.error();
  return r;
}

Status FileReader::open_next_file() {
  close_file();
  path_ = files_[next_file_++];
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    return Error{"path", "cannot open '" + path_ + "': " + std::strerror(errno)};
  }
  buf_.resize(kReadChunk);
  buf_pos_ = buf_end_ = 0;
  eof_ = false;
  line_no_ = 0;
  record_decoder_.reset();
  csv_ = mapping_ ? mapping_->format == RecordFormat::kCsv : extension_of(path_) == Ext::kCsv;
  if (!csv_) {
    if (mapping_) record_decoder_.emplace(RecordDecoder::for_jsonl(*mapping_, tokenizer_));
    return Status::Ok();
  }
  // CSV: the first non-blank line is the header.
  while (read_line()) {
    if (is_blank(line_)) continue;
    if (line_too_long_) {
      return Error{"path", path_ + ":" + std::to_string(line_no_) +
                               ": the CSV header line is longer than 1 MiB"};
    }
    char delimiter = mapping_ ? mapping_->delimiter : ',';
    if (Status s = split_csv_record(line_, fields_, delimiter); !s) {
      return Error{"path",
                   path_ + ":" + std::to_string(line_no_) + ": CSV header: " + s.error().reason};
    }
    static const ColumnMapping kCanonicalCsv = ColumnMapping::canonical(true);
    auto dec = RecordDecoder::for_csv(mapping_ ? *mapping_ : kCanonicalCsv, fields_, tokenizer_);
    if (!dec) {
      return Error{"path", path_ + ":" + std::to_string(line_no_) +
                               ": CSV header: " + dec.error().message() +
                               ". CSV files must start with a header row naming the columns"};
    }
    record_decoder_.emplace(std::move(*dec));
    return Status::Ok();
  }
  close_file();  // an empty file: nothing to read
  return Status::Ok();
}

void FileReader::close_file() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

bool FileReader::read_line() {
  line_.clear();
  line_bytes_ = 0;
  line_too_long_ = false;
  bool any = false;
  while (true) {
    if (buf_pos_ == buf_end_) {
      if (eof_) break;
      size_t n = std::fread(buf_.data(), 1, buf_.size(), file_);
      bytes_read_ += n;
      buf_pos_ = 0;
      buf_end_ = n;
      if (n < buf_.size()) eof_ = true;
      if (n == 0) break;
    }
    any = true;
    const char* start = buf_.data() + buf_pos_;
    size_t avail = buf_end_ - buf_pos_;
    const void* nl = std::memchr(start, '\n', avail);
    size_t take = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : avail;
    line_bytes_ += take;
    if (line_.size() < kMaxFileLineBytes) {
      line_.append(start, std::min(take, kMaxFileLineBytes - line_.size()));
    }
    if (line_bytes_ > kMaxFileLineBytes) line_too_long_ = true;
    buf_pos_ += take;
    if (nl) {
      ++buf_pos_;
      break;
    }
  }
  if (!any) return false;
  ++line_no_;
  return true;
}

void FileReader::add_dead_letter(std::vector<DeadLetter>& dead, uint64_t line_no,
                                 std::string_view raw, const Error& error) {
  DeadLetter d;
  d.source = "file:" + path_ + ":" + std::to_string(line_no);
  d.raw.assign(raw.substr(0, kMaxDeadLetterRawBytes));
  d.field = error.field;
  d.reason = error.reason;
  d.received_at = clock_ ? clock_->now() : 0;
  dead.push_back(std::move(d));
}

bool FileReader::next_batch(std::vector<Transaction>& out, std::vector<DeadLetter>& dead_letters,
                            size_t max) {
  size_t added = 0;
  size_t dead = 0;
  while (added < max && dead < max) {
    if (file_ == nullptr) {
      close_file();
      if (next_file_ >= files_.size()) break;
      if (Status s = open_next_file(); !s) {
        // A later file that cannot be opened or whose header does not fit: one dead letter,
        // and the file is skipped.
        add_dead_letter(dead_letters, 1, "", s.error());
        ++dead;
        ++records_read_;
        close_file();
        continue;
      }
      continue;
    }
    if (!read_line()) {
      close_file();
      continue;
    }
    if (line_too_long_) {
      ++records_read_;
      add_dead_letter(dead_letters, line_no_, line_,
                      Error{"", "line is " + std::to_string(line_bytes_) + " bytes; the limit is " +
                                    std::to_string(kMaxFileLineBytes) + "; skipped"});
      ++dead;
      continue;
    }
    if (is_blank(line_)) continue;
    ++records_read_;
    out.emplace_back();
    Status s;
    if (csv_) {
      s = split_csv_record(line_, fields_, mapping_ ? mapping_->delimiter : ',');
      if (s) s = record_decoder_->decode_csv(fields_, out.back());
    } else if (record_decoder_) {
      s = record_decoder_->decode_json(line_, out.back());
    } else {
      s = json_decoder_.decode_into(line_, out.back());
    }
    if (s) {
      ++added;
    } else {
      out.pop_back();
      add_dead_letter(dead_letters, line_no_, line_, s.error());
      ++dead;
    }
  }
  return added > 0 || dead > 0 || (max == 0 && (file_ != nullptr || next_file_ < files_.size()));
}

}  // namespace fw
