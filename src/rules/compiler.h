// Compiler for the rule expression language: parses one expression, resolves names (transaction
// fields and every feature of features/schema.h), type-checks it (number, bool, string,
// duration, money, list) and appends its flat code to a Program. Errors carry the byte offset in
// the expression and say what is wrong with a suggestion where one exists ("unknown name
// 'amout'; did you mean 'amount'?"). Pure functions over their arguments; not thread-safe on the
// same Program.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "features/schema.h"
#include "model/transaction.h"
#include "rules/program.h"

namespace fw::rules {

enum class Type : uint8_t { kNumber, kBool, kString, kDuration, kMoney, kList };
std::string_view type_name(Type t);

// A named list of values (allow lists, deny lists) that `x in list("name")` refers to.
struct NamedList {
  std::string name;
  std::vector<std::string> values;
};

struct CompileError {
  uint32_t offset = 0;  // byte offset in the expression text
  std::string message;
};

// A name an expression reads, kept to explain a decision ("tx_count_1m=5").
struct NameRef {
  enum class Kind : uint8_t { kFeature, kNumber, kCode, kString, kMoney } kind = Kind::kFeature;
  uint16_t id = 0;
  std::string name;
};

struct CompiledExpr {
  uint32_t start = 0;          // entry point in Program::code
  std::vector<NameRef> names;  // in order of first use, at most kMaxNamesShown
};

inline constexpr size_t kMaxNamesShown = 8;

// Compiles `text` (a boolean expression) into `program`. On error returns false, fills `error`
// and leaves `program` as it was.
bool compile_expression(std::string_view text, const std::vector<NamedList>& lists,
                        Program& program, CompiledExpr& out, CompileError& error);

// "tx_count_1m=5, amount=15000.00 EUR": the values of the names an expression reads.
std::string describe_values(const CompiledExpr& expr, const Transaction& tx,
                            const FeatureVector& f);

// Every name an expression may use (fields, features, functions), for suggestions and docs.
std::vector<std::string> known_names();

// The closest candidate to `word` by edit distance, or "" if none is close enough.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace fw::rules
