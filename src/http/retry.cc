#include "http/retry.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace arca::http {

bool ShouldRetry(int http_status) {
  switch (http_status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

bool ShouldRetry(const Status& status) {
  return status.code() == StatusCode::kUnavailable ||
         status.code() == StatusCode::kDeadlineExceeded;
}

std::chrono::milliseconds BackoffDelay(const RetryParams& params, int attempt, double unit) {
  const double factor = std::pow(params.multiplier, std::max(0, attempt - 1));
  const double delay_ms = static_cast<double>(params.initial_backoff.count()) * factor;
  const auto max_ms = static_cast<double>(params.max_backoff.count());
  const double jitter = std::clamp(params.jitter, 0.0, 1.0) * std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::min(delay_ms, max_ms) * (1.0 - jitter)));
}

std::chrono::milliseconds BackoffDelay(const RetryParams& params, int attempt) {
  if (params.jitter <= 0) {
    return BackoffDelay(params, attempt, 0.0);
  }
  thread_local std::mt19937_64 rng(std::random_device{}());
  return BackoffDelay(params, attempt, std::uniform_real_distribution<double>(0.0, 1.0)(rng));
}

}  // namespace arca::http
