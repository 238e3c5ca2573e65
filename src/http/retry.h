// File: http/retry.h
//
// The retry policy shared by Arca's HTTP clients: which failures are worth another try, how long
// to wait between tries, and a loop that applies both. Waits go through the injected Clock, so
// unit tests with a SimulatedClock run instantly.
//
// Only retry idempotent calls, or calls whose body can be sent again.
//
// Example:
//   RetryParams params;  // the defaults below
//   Result<Response> r = Retry(params, clock, [&]() -> Result<Response> { ... });
#pragma once

#include <algorithm>
#include <chrono>
#include <type_traits>

#include "common/clock.h"
#include "common/status.h"

namespace arca::http {

struct RetryParams {
  static constexpr int kDefaultMaxAttempts = 5;
  static constexpr std::chrono::milliseconds kDefaultInitialBackoff{100};
  static constexpr double kDefaultMultiplier = 4.0;
  static constexpr std::chrono::milliseconds kDefaultMaxBackoff{10'000};
  static constexpr double kDefaultJitter = 0.2;

  // Attempts in all, the first included. 1 means no retries.
  int max_attempts = kDefaultMaxAttempts;
  // The wait after the first failure; each later wait is `multiplier` times longer, up to
  // `max_backoff`.
  std::chrono::milliseconds initial_backoff = kDefaultInitialBackoff;
  double multiplier = kDefaultMultiplier;
  std::chrono::milliseconds max_backoff = kDefaultMaxBackoff;
  // Each wait is shortened by a random fraction in [0, jitter), so that clients which failed
  // together do not all retry at the same moment. 0 gives exact waits (for tests).
  double jitter = kDefaultJitter;
};

// True for HTTP statuses that mean "the same request may work later": 408, 429, 500, 502, 503,
// 504.
bool ShouldRetry(int http_status);

// True for errors the caller may retry: kUnavailable (and kDeadlineExceeded from a timed-out
// attempt).
bool ShouldRetry(const Status& status);

// The wait before attempt `attempt` + 1, where `attempt` counts from 1, with the jitter drawn
// from a per-thread random generator.
std::chrono::milliseconds BackoffDelay(const RetryParams& params, int attempt);
// The same with the random fraction given: `unit` in [0, 1).
std::chrono::milliseconds BackoffDelay(const RetryParams& params, int attempt, double unit);

// Calls `fn` (returning Status or Result<T>) until it succeeds, fails with an error ShouldRetry
// rejects, or `params.max_attempts` calls have been made; sleeps on `clock` between calls.
// Returns the last outcome.
template <typename Fn>
auto Retry(const RetryParams& params, Clock& clock, Fn&& fn) -> std::invoke_result_t<Fn&> {
  const int attempts = std::max(1, params.max_attempts);
  for (int attempt = 1;; ++attempt) {
    auto outcome = fn();
    if (outcome.ok() || attempt >= attempts || !ShouldRetry(internal::AsStatus(outcome))) {
      return outcome;
    }
    clock.SleepFor(BackoffDelay(params, attempt));
  }
}

}  // namespace arca::http
