#include "core/file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace fw {

Result<std::string> read_file_limited(const std::string& path, uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, fmt::format("cannot open: {}", std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return make_error(path, "cannot read");
  if (static_cast<uint64_t>(size) > max_bytes) {
    return make_error(path, fmt::format("larger than {} bytes", max_bytes));
  }
  in.seekg(0);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), size)) return make_error(path, "cannot read");
  return text;
}

}  // namespace fw
