#include "sources/label_schedule.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "model/json_codec.h"
#include "sources/file_reader.h"

namespace fw {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

Result<LabelSchedule> LabelSchedule::load(const std::string& path, const Clock* clock) {
  std::error_code ec;
  const uint64_t bytes = std::filesystem::file_size(path, ec);
  if (ec) return Error{"labels", "cannot open '" + path + "': " + ec.message()};
  if (bytes > kMaxLabelFileBytes) {
    return Error{"labels", "'" + path + "' is " + std::to_string(bytes >> 20) +
                               " MiB; label files are read into memory and the limit is " +
                               std::to_string(kMaxLabelFileBytes >> 20) + " MiB"};
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return Error{"labels", "cannot open '" + path + "': " + std::strerror(errno)};

  LabelSchedule s;
  JsonDecoder decoder;
  auto reject = [&](uint64_t line_no, std::string_view raw, const Error& e) {
    DeadLetter d;
    d.source = "file:" + path + ":" + std::to_string(line_no);
    d.raw.assign(raw.substr(0, kMaxDeadLetterRawBytes));
    d.field = e.field;
    d.reason = e.reason;
    d.received_at = clock != nullptr ? clock->now() : 0;
    s.rejected_.push_back(std::move(d));
  };
  std::string line;
  uint64_t line_no = 0;
  bool too_long = false;
  for (int c = std::fgetc(file.get());; c = std::fgetc(file.get())) {
    if (c != '\n' && c != EOF) {
      if (line.size() < kMaxFileLineBytes) {
        line.push_back(static_cast<char>(c));
      } else {
        too_long = true;
      }
      continue;
    }
    if (c == EOF && line.empty() && !too_long) break;
    ++line_no;
    if (too_long) {
      reject(line_no, line,
             Error{"", "line is longer than the limit of " + std::to_string(kMaxFileLineBytes) +
                           " bytes; skipped"});
    } else if (!is_blank(line)) {
      auto label = decoder.decode_label(line);
      if (label.ok()) {
        s.labels_.push_back(std::move(*label));
      } else {
        reject(line_no, line, label.error());
      }
    }
    line.clear();
    too_long = false;
    if (c == EOF) break;
  }
  if (std::ferror(file.get())) {
    return Error{"labels", "cannot read '" + path + "': " + std::strerror(errno)};
  }
  std::stable_sort(
      s.labels_.begin(), s.labels_.end(),
      [](const LabelEvent& a, const LabelEvent& b) { return a.labelled_at < b.labelled_at; });
  for (const LabelEvent& l : s.labels_) s.final_[l.transaction_id] = l.label;
  return s;
}

LabelSchedule LabelSchedule::from_events(std::vector<LabelEvent> events) {
  LabelSchedule s;
  s.labels_ = std::move(events);
  std::erase_if(s.labels_, [](const LabelEvent& l) { return l.label == Label::kUnknown; });
  std::stable_sort(
      s.labels_.begin(), s.labels_.end(),
      [](const LabelEvent& a, const LabelEvent& b) { return a.labelled_at < b.labelled_at; });
  for (const LabelEvent& l : s.labels_) s.final_[l.transaction_id] = l.label;
  return s;
}

void LabelSchedule::take_due(Timestamp now, std::vector<LabelEvent>& out) {
  while (next_ < labels_.size() && labels_[next_].labelled_at <= now) {
    out.push_back(labels_[next_++]);
  }
}

std::optional<Label> LabelSchedule::final_label(const std::string& transaction_id) const {
  auto it = final_.find(transaction_id);
  if (it == final_.end()) return std::nullopt;
  return it->second;
}

}  // namespace fw
