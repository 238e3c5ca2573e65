#include "http/retry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace arca::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using ::testing::ElementsAre;

TEST(RetryTest, ShouldRetryReadsTheStatusCode) {
  for (int code : {408, 429, 500, 502, 503, 504}) {
    EXPECT_TRUE(ShouldRetry(code)) << code;
  }
  for (int code : {200, 204, 301, 400, 401, 403, 404, 409, 501}) {
    EXPECT_FALSE(ShouldRetry(code)) << code;
  }
  EXPECT_TRUE(ShouldRetry(UnavailableError("reset")));
  EXPECT_FALSE(ShouldRetry(NotFoundError("x")));
  EXPECT_FALSE(ShouldRetry(PermissionDeniedError("x")));
}

TEST(RetryTest, BackoffGrowsAndIsCapped) {
  RetryParams params;
  params.jitter = 0;
  EXPECT_EQ(BackoffDelay(params, 1), milliseconds(100));
  EXPECT_EQ(BackoffDelay(params, 2), milliseconds(400));
  EXPECT_EQ(BackoffDelay(params, 3), milliseconds(1600));
  EXPECT_EQ(BackoffDelay(params, 4), milliseconds(6400));
  EXPECT_EQ(BackoffDelay(params, 5), milliseconds(10000));
  EXPECT_EQ(BackoffDelay(params, 30), milliseconds(10000));
}

TEST(RetryTest, JitterShortensWaitsByUpToItsFraction) {
  RetryParams params;  // default jitter 0.2
  EXPECT_EQ(BackoffDelay(params, 2, 0.0), milliseconds(400));
  EXPECT_EQ(BackoffDelay(params, 2, 0.5), milliseconds(360));
  EXPECT_EQ(BackoffDelay(params, 5, 0.999999), milliseconds(8000));
  // Drawn at random: always within [base * (1 - jitter), base], and not all the same.
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    const int64_t ms = BackoffDelay(params, 3).count();
    EXPECT_GE(ms, 1280);
    EXPECT_LE(ms, 1600);
    seen.insert(ms);
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(RetryTest, RetriesUnavailableUntilSuccessSleepingOnTheClock) {
  SimulatedClock clock{std::chrono::system_clock::time_point{}};
  int calls = 0;
  RetryParams exact;
  exact.jitter = 0;
  Result<int> r = Retry(exact, clock, [&]() -> Result<int> {
    if (++calls < 3) {
      return UnavailableError("503");
    }
    return 42;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(calls, 3);
  EXPECT_THAT(clock.Sleeps(),
              ElementsAre(nanoseconds(milliseconds(100)), nanoseconds(milliseconds(400))));
}

TEST(RetryTest, StopsAtMaxAttemptsAndReturnsTheLastError) {
  SimulatedClock clock{std::chrono::system_clock::time_point{}};
  RetryParams params;
  params.max_attempts = 3;
  int calls = 0;
  Status s =
      Retry(params, clock, [&] { return UnavailableError("try " + std::to_string(++calls)); });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "try 3");
  EXPECT_EQ(clock.Sleeps().size(), 2u);
}

TEST(RetryTest, DoesNotRetryPermanentErrors) {
  SimulatedClock clock{std::chrono::system_clock::time_point{}};
  int calls = 0;
  Status s = Retry(RetryParams{}, clock, [&] {
    ++calls;
    return PermissionDeniedError("403");
  });
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(clock.Sleeps().empty());
}

}  // namespace
}  // namespace arca::http
