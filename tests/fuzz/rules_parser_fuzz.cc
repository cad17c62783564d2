// libFuzzer target for the rule language and rule-set loader. Build (clang only):
//   cmake --preset fuzz && cmake --build --preset fuzz --target fw_fuzz_rules
//   build/fuzz/tests/fuzz/fw_fuzz_rules -max_total_time=300 -max_len=2048 \
//       build/fuzz/corpus tests/fuzz/regressions/rules
// Crashing inputs go into tests/fuzz/regressions/rules/ (replayed by ctest in every build).
#include "rules_fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fw::fuzz::run_rules_input(data, size);
  return 0;
}
