#include "kube/rate_limiter.h"

#include <algorithm>

namespace arca::kube {

RateLimiter::RateLimiter(double qps, int burst, Clock& clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(clock), tokens_(burst_), last_(clock.Now()) {}

void RateLimiter::Refill(std::chrono::system_clock::time_point now) {
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
}

std::chrono::nanoseconds RateLimiter::WaitTime() {
  if (qps_ <= 0) {
    return std::chrono::nanoseconds(0);
  }
  std::lock_guard<std::mutex> lock(mu_);
  Refill(clock_.Now());
  if (tokens_ >= 1) {
    return std::chrono::nanoseconds(0);
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>((1 - tokens_) / qps_));
}

void RateLimiter::Acquire() {
  if (qps_ <= 0) {
    return;
  }
  std::chrono::nanoseconds wait{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    Refill(clock_.Now());
    // Reserve the token now (the balance may go negative), then wait outside the lock.
    tokens_ -= 1;
    if (tokens_ < 0) {
      wait = std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::duration<double>(-tokens_ / qps_));
    }
  }
  if (wait.count() > 0) {
    clock_.SleepFor(wait);
  }
}

}  // namespace arca::kube
