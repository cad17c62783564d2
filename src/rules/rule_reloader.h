// RuleReloader: keeps a running rule set in step with its YAML file. poll() (called from the
// application's main loop, about once a second; tests call it directly) notices a change of
// the file's inode, size, modification/change time or, for files under 1 MiB, content hash
// (file times tick only every few milliseconds) and reloads; reload() reloads now (the
// CLI/API/SIGHUP path). A file that fails to load is rejected whole: the running rule set stays,
// the error is kept for last_error() and is not retried until the file changes again. On
// success the new set goes to the `apply` callback (e.g. Engine::set_rules, which swaps it
// atomically between batches). With a ListProvider, lists the rule set reads from the store
// (`store: true`) count as part of the file: poll() re-reads them (they are small) and reloads
// when their fingerprint differs from the one the running set loaded, added or removed values
// alike; a rejected list state is not retried until it changes again.
// Owned by the application; every method is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "rules/rule_set.h"

namespace fw {

struct ReloadOutcome {
  enum class Kind : uint8_t { kUnchanged, kReloaded, kRejected };
  Kind kind = Kind::kUnchanged;
  std::string version;  // the running rule set's version after the call
  std::string error;    // kRejected: why, with file:line:column
};

class RuleReloader {
 public:
  using Apply = std::function<void(std::shared_ptr<const RuleSet>)>;

  // `current` is the rule set already running (loaded from `path`); its file state is taken as
  // the baseline, so the first poll() reports kUnchanged unless the file changed since.
  RuleReloader(std::string path, std::shared_ptr<const RuleSet> current, Apply apply,
               ListProvider store_lists = {});

  ReloadOutcome poll();
  ReloadOutcome reload();

  std::string last_error() const;
  std::string version() const;
  uint64_t reloads() const;
  uint64_t rejections() const;
  const std::string& path() const { return path_; }

 private:
  struct FileState {
    bool exists = false;
    uint64_t inode = 0;  // an atomic replace (write + rename) gives a new inode
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    friend bool operator==(const FileState&, const FileState&) = default;
  };
  FileState stat_file() const;
  // REQUIRES: mutex_ held.
  ReloadOutcome load_locked(bool forced);

  const std::string path_;
  const Apply apply_;
  const ListProvider store_lists_;
  mutable std::mutex mutex_;
  FileState seen_;                          // guarded by mutex_
  uint64_t seen_hash_ = 0;                  // guarded by mutex_: content hash last looked at
  std::shared_ptr<const RuleSet> current_;  // guarded by mutex_
  std::string last_error_;                  // guarded by mutex_
  uint64_t reloads_ = 0;                    // guarded by mutex_
  uint64_t rejections_ = 0;                 // guarded by mutex_
  // guarded by mutex_: the store-list fingerprint of the last rejected load (not retried).
  std::optional<uint64_t> rejected_lists_hash_;
};

}  // namespace fw
