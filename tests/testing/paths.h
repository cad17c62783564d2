// Paths for tests: the source tree, the built binary, and fresh temporary directories.
#pragma once

#include <filesystem>
#include <string>

namespace fw::testing {

inline std::filesystem::path source_dir() { return FW_SOURCE_DIR; }
inline std::filesystem::path fraudwatch_binary() { return FW_BINARY; }

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace fw::testing
