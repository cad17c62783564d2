// The input the rules fuzzer feeds to the rule language, shared by the libFuzzer target
// (tests/fuzz/rules_parser_fuzz.cc) and the regression test that replays every file in
// tests/fuzz/regressions/rules/ in the normal build (tests/rules/fuzz_regression_test.cc).
// The first byte picks the entry point: even -> one expression (compile + evaluate),
// odd -> a whole YAML rule set (load + evaluate). Must never crash, leak or hang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/compiler.h"
#include "rules/rule_set.h"

namespace fw::fuzz {

inline void run_rules_input(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  Transaction tx;
  tx.account_id = "acc";
  tx.merchant_id = "m-1";
  tx.amount = Money{12345, Currency::of("EUR")};
  tx.finalize_keys();
  FeatureVector f;
  for (size_t i = 0; i < kFeatureCount; ++i) f.values[i] = static_cast<double>(i % 7) - 1;
  if (data[0] % 2 == 0) {
    static const std::vector<rules::NamedList> lists = {{"l", {"m-1", "7995", "DE"}}};
    rules::Program program;
    rules::CompiledExpr expr;
    rules::CompileError error;
    if (rules::compile_expression(text, lists, program, expr, error)) {
      (void)program.run(expr.start, tx, f);
      (void)rules::describe_values(expr, tx, f);
    }
    return;
  }
  auto set = RuleSet::from_yaml_string(text, "fuzz.yaml");
  if (set.ok()) {
    Decision d;
    (*set)->evaluate(tx, f, d);
    (void)(*set)->hits();
  }
}

}  // namespace fw::fuzz
