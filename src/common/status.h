// File: common/status.h
//
// Status and Result<T>: Arca's one error type. Every fallible function returns one of them;
// both are [[nodiscard]], so an ignored error is a compile warning (an error in CI).
//
// The codes follow Abseil's canonical set and are chosen by what the caller should do next:
//   kUnavailable        the same call may succeed if retried (connection reset, 429, 503).
//   kAborted            retry the whole read-modify-write (a Kubernetes 409 conflict on update).
//   kFailedPrecondition do not retry until the state is fixed (a ReadOnly location, say).
//   kInvalidArgument    the input is wrong, whatever the state (malformed YAML, bad cron).
// Prefer the most specific code: kNotFound over kFailedPrecondition, and so on.
//
// Messages are for people: they say what is wrong and, where possible, how to fix it. They never
// contain credentials.
//
// Example:
//   Result<Config> LoadConfig(const std::string& path) {
//     ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     if (text.empty()) return InvalidArgumentError("config " + path + " is empty");
//     return ParseConfig(text);
//   }
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace arca {

enum class StatusCode {
  kOk = 0,
  kCancelled,
  kUnknown,
  kInvalidArgument,
  kDeadlineExceeded,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,
  kFailedPrecondition,
  kAborted,
  kOutOfRange,
  kUnimplemented,
  kInternal,
  kUnavailable,
  kDataLoss,
  kUnauthenticated,
};

// The code's name as written in Abseil, e.g. "NOT_FOUND".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  // REQUIRES: code != kOk, or message is empty.
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
    if (code_ == StatusCode::kOk) {
      message_.clear();
    }
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NOT_FOUND: backup b1 is not in bucket x", or "OK".
  std::string ToString() const;

  // Returns a status with the same code whose message is "context: message". OK stays OK.
  Status WithContext(std::string_view context) const;

  // Explicitly discards the status, for the rare call whose failure does not matter.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status CancelledError(std::string message);
Status UnknownError(std::string message);
Status InvalidArgumentError(std::string message);
Status DeadlineExceededError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status ResourceExhaustedError(std::string message);
Status FailedPreconditionError(std::string message);
Status AbortedError(std::string message);
Status OutOfRangeError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);
Status UnavailableError(std::string message);
Status DataLossError(std::string message);
Status UnauthenticatedError(std::string message);

// A value of type T, or the Status that says why there is none. Never holds an OK status without
// a value.
template <typename T>
class [[nodiscard]] Result {
 public:
  // NOLINTBEGIN(google-explicit-constructor): implicit on purpose, so `return value;` and
  // `return SomeError(...);` both work.
  Result(T value) : state_(std::in_place_index<1>, std::move(value)) {}
  Result(Status status) : state_(std::in_place_index<0>, std::move(status)) {
    if (std::get<0>(state_).ok()) {
      state_.template emplace<0>(StatusCode::kInternal, "Result constructed from an OK status");
    }
  }
  // NOLINTEND(google-explicit-constructor)

  bool ok() const { return state_.index() == 1; }

  // The error, or OK when a value is held. The reference lives as long as this Result.
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<0>(state_);
  }

  // REQUIRES: ok().
  T& value() & {
    assert(ok());
    return std::get<1>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<1>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<1>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The value, or `fallback` when there is none.
  T value_or(T fallback) const& { return ok() ? std::get<1>(state_) : std::move(fallback); }

 private:
  std::variant<Status, T> state_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace arca

#define ARCA_STATUS_CONCAT_INNER_(a, b) a##b
#define ARCA_STATUS_CONCAT_(a, b) ARCA_STATUS_CONCAT_INNER_(a, b)

// Returns the error from the enclosing function if `expr` (a Status or Result) is not OK.
#define RETURN_IF_ERROR(expr)                                                     \
  do {                                                                            \
    if (auto arca_status_ = ::arca::internal::AsStatus(expr); !arca_status_.ok()) \
      return arca_status_;                                                        \
  } while (false)

// `ASSIGN_OR_RETURN(T var, expr)`: evaluates the Result `expr`; on error returns its status from
// the enclosing function, otherwise moves the value into the declaration `T var`.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ARCA_ASSIGN_OR_RETURN_IMPL_(ARCA_STATUS_CONCAT_(arca_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `lhs` is a declaration, not an expression.
#define ARCA_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                \
  if (!result.ok()) return result.status();            \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)
