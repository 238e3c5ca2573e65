// File: kube/rate_limiter.h
//
// A token bucket, as client-go's `flowcontrol.NewTokenBucketRateLimiter(qps, burst)`: up to
// `burst` requests go at once, then `qps` per second. Waits go through the injected Clock.
#pragma once

#include <chrono>
#include <mutex>

#include "common/clock.h"

namespace arca::kube {

class RateLimiter {
 public:
  // `qps` <= 0 disables limiting. `burst` is at least 1.
  RateLimiter(double qps, int burst, Clock& clock);

  // Blocks until the caller may send one request. Thread-safe; callers are served in the order
  // they reserved a token.
  void Acquire();

  // How long Acquire would wait now, without taking a token.
  std::chrono::nanoseconds WaitTime();

 private:
  // Adds the tokens earned since last_. REQUIRES: mu_ held.
  void Refill(std::chrono::system_clock::time_point now);

  const double qps_;
  const double burst_;
  Clock& clock_;
  std::mutex mu_;
  double tokens_;
  std::chrono::system_clock::time_point last_;
};

}  // namespace arca::kube
