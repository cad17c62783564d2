// Reading a whole, size-limited file into memory: model files, forests, other inputs that are
// parsed at once. A plain function; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"

namespace fw {

// The bytes of the file at `path`. Errors name the path: it cannot be opened or read, or it is
// larger than `max_bytes` (checked before reading, so a hostile file cannot exhaust memory).
Result<std::string> read_file_limited(const std::string& path, uint64_t max_bytes);

}  // namespace fw
