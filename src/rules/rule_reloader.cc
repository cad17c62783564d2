#include "rules/rule_reloader.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

namespace fw {
namespace {

constexpr uint64_t kHashAlwaysBelow = 1u << 20;

uint64_t content_hash(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  if (!ok) return 0;
  std::ostringstream text;
  text << in.rdbuf();
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : text.str()) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

RuleReloader::RuleReloader(std::string path, std::shared_ptr<const RuleSet> current, Apply apply,
                           ListProvider store_lists)
    : path_(std::move(path)),
      apply_(std::move(apply)),
      store_lists_(std::move(store_lists)),
      current_(std::move(current)) {
  seen_ = stat_file();
  bool ok = false;
  seen_hash_ = content_hash(path_, ok);
}

RuleReloader::FileState RuleReloader::stat_file() const {
  FileState s;
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return s;
  s.exists = true;
  s.inode = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<uint64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return s;
}

ReloadOutcome RuleReloader::poll() {
  std::lock_guard<std::mutex> lock(mutex_);
  const FileState now = stat_file();
  if (now == seen_) {
    // Same metadata can still hide an in-place rewrite within one file-time tick; small files
    // are cheap to hash, so check their content too.
    bool readable = false;
    if (!now.exists || now.size >= kHashAlwaysBelow ||
        content_hash(path_, readable) == seen_hash_ || !readable) {
      if (!store_lists_ || current_->store_lists().empty()) {
        return ReloadOutcome{ReloadOutcome::Kind::kUnchanged, current_->version(), ""};
      }
      // The file is as it was; the store lists the running set read may not be.
      const uint64_t lists = rules::store_lists_fingerprint(current_->store_lists(), store_lists_);
      if (lists == current_->store_lists_hash() || lists == rejected_lists_hash_) {
        return ReloadOutcome{ReloadOutcome::Kind::kUnchanged, current_->version(), ""};
      }
      ReloadOutcome out = load_locked(true);
      if (out.kind == ReloadOutcome::Kind::kRejected) rejected_lists_hash_ = lists;
      return out;
    }
  }
  return load_locked(false);
}

ReloadOutcome RuleReloader::reload() {
  std::lock_guard<std::mutex> lock(mutex_);
  return load_locked(true);
}

ReloadOutcome RuleReloader::load_locked(bool forced) {
  seen_ = stat_file();
  bool readable = false;
  const uint64_t hash = content_hash(path_, readable);
  // A touch, or an editor rewriting identical bytes, is not a change.
  if (!forced && readable && hash == seen_hash_) {
    return ReloadOutcome{ReloadOutcome::Kind::kUnchanged, current_->version(), ""};
  }
  seen_hash_ = hash;
  auto loaded = RuleSet::from_file(path_, store_lists_);
  if (!loaded.ok()) {
    last_error_ = loaded.error().message();
    ++rejections_;
    return ReloadOutcome{ReloadOutcome::Kind::kRejected, current_->version(), last_error_};
  }
  current_ = *loaded;
  last_error_.clear();
  rejected_lists_hash_.reset();
  ++reloads_;
  apply_(current_);
  return ReloadOutcome{ReloadOutcome::Kind::kReloaded, current_->version(), ""};
}

std::string RuleReloader::last_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

std::string RuleReloader::version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_->version();
}

uint64_t RuleReloader::reloads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reloads_;
}

uint64_t RuleReloader::rejections() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rejections_;
}

}  // namespace fw
