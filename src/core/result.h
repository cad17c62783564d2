// Result<T>: a value or an Error naming the field and the reason. Per-transaction problems
// are values, not exceptions (STYLE.md). Value type; not thread-safe to share mutably.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace fw {

// What went wrong with one input: which field, and why. `field` is empty when the input as a
// whole is at fault (for example, it is not JSON at all).
struct Error {
  std::string field;
  std::string reason;

  // "field: reason", or just the reason when no field is named.
  std::string message() const { return field.empty() ? reason : field + ": " + reason; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  // REQUIRES: !ok()
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(std::string field, std::string reason) {
  return Error{std::move(field), std::move(reason)};
}

}  // namespace fw
