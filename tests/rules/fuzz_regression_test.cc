// Replays every input in tests/fuzz/regressions/rules/ (fuzzer findings and seeds) through the
// same entry point as the libFuzzer target, so a fixed crash stays fixed in the normal build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../fuzz/rules_fuzz_input.h"
#include "testing/paths.h"

namespace fw {
namespace {

TEST(RulesFuzzRegressions, EveryStoredInputRunsCleanly) {
  const auto dir = testing::source_dir() / "tests/fuzz/regressions/rules";
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().filename().string());
    fuzz::run_rules_input(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++n;
  }
  EXPECT_GE(n, 5u) << "the regression folder lost its seeds";
}

}  // namespace
}  // namespace fw
