#include "api/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace arca::api {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

TEST(DurationTest, FormatsLikeGo) {
  // Expected strings are what Go's time.Duration.String() prints.
  EXPECT_EQ(FormatDuration(nanoseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(hours(720)), "720h0m0s");
  EXPECT_EQ(FormatDuration(minutes(10)), "10m0s");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(milliseconds(300)), "300ms");
  EXPECT_EQ(FormatDuration(microseconds(1500)), "1.5ms");
  EXPECT_EQ(FormatDuration(nanoseconds(1500)), "1.5\xC2\xB5s");
  EXPECT_EQ(FormatDuration(nanoseconds(7)), "7ns");
  EXPECT_EQ(FormatDuration(hours(4) + nanoseconds(1)), "4h0m0.000000001s");
  EXPECT_EQ(FormatDuration(-seconds(30)), "-30s");
  EXPECT_EQ(FormatDuration(nanoseconds(INT64_MIN)), "-2562047h47m16.854775808s");
  EXPECT_EQ(FormatDuration(nanoseconds(INT64_MAX)), "2562047h47m16.854775807s");
}

TEST(DurationTest, ParsesGoSyntax) {
  struct Case {
    const char* text;
    nanoseconds want;
  };
  const Case cases[] = {
      {"0", nanoseconds(0)},
      {"0s", nanoseconds(0)},
      {"720h", hours(720)},
      {"720h0m0s", hours(720)},
      {"1h30m", minutes(90)},
      {"1.5s", milliseconds(1500)},
      {".5s", milliseconds(500)},
      {"2.s", seconds(2)},
      {"300ms", milliseconds(300)},
      {"10us", microseconds(10)},
      {"10\xC2\xB5s", microseconds(10)},
      {"5ns", nanoseconds(5)},
      {"-2m", -minutes(2)},
      {"+4h", hours(4)},
      {"1h1m1s1ms1us1ns",
       hours(1) + minutes(1) + seconds(1) + milliseconds(1) + microseconds(1) + nanoseconds(1)},
  };
  for (const Case& c : cases) {
    Result<Duration> d = ParseDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status().ToString();
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(DurationTest, RoundTrips) {
  const nanoseconds cases[] = {nanoseconds(1),          nanoseconds(999), microseconds(1234),
                               milliseconds(1),         seconds(59),      minutes(61),
                               hours(8760) + seconds(1)};
  for (nanoseconds d : cases) {
    Result<Duration> back = ParseDuration(FormatDuration(d));
    ASSERT_TRUE(back.ok()) << FormatDuration(d);
    EXPECT_EQ(*back, d);
  }
}

TEST(DurationTest, RejectsWithAClearMessage) {
  for (const char* bad : {"", "10", "h", "1x", "1.s.", "10 m", "-", "1h-1m", "30days"}) {
    Result<Duration> d = ParseDuration(bad);
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(d.status().message(), HasSubstr("invalid duration")) << bad;
  }
  EXPECT_THAT(ParseDuration("30days").status().message(), HasSubstr("unknown unit \"days\""));
  EXPECT_THAT(ParseDuration("99999999999999h").status().message(), HasSubstr("overflows"));
}

}  // namespace
}  // namespace arca::api
