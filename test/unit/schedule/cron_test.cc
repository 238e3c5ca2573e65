#include "schedule/cron.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>

namespace arca::schedule {
namespace {

using ::testing::HasSubstr;

// "2026-03-07T17:00:00Z" -> time point.
SysSeconds At(const char* utc) {
  std::tm tm{};
  strptime(utc, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return SysSeconds(std::chrono::seconds(timegm(&tm)));
}

std::string Iso(SysSeconds t) {
  std::time_t tt = t.time_since_epoch().count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string NextAfter(const char* spec, const char* from) {
  Result<CronSchedule> s = ParseCron(spec);
  EXPECT_TRUE(s.ok()) << spec << ": " << s.status().ToString();
  if (!s.ok()) {
    return "parse error";
  }
  std::optional<SysSeconds> n = s->Next(At(from));
  return n ? Iso(*n) : "none";
}

// Expected values were produced by robfig/cron v3.0.1 (Velero's parser).
TEST(CronTest, NextRunTable) {
  struct Case {
    const char* spec;
    const char* from;
    const char* next;
  };
  const Case cases[] = {
      {"0 0 * * *", "2026-11-26T12:00:00Z", "2026-11-27T00:00:00Z"},
      {"0 0 * * *", "2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z"},  // strictly after
      {"*/15 * * * *", "2026-11-26T12:07:30Z", "2026-11-26T12:15:00Z"},
      {"0 9-17/2 * * MON-FRI", "2026-11-27T18:00:00Z", "2026-11-30T09:00:00Z"},
      // The 31st: months without one are skipped.
      {"0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
      {"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"0 0 30 2 *", "2026-01-01T00:00:00Z", "none"},
      // Day-of-month and day-of-week both restricted: either matches.
      {"0 0 13 * 5", "2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z"},
      {"@every 90m", "2026-04-01T00:00:00Z", "2026-04-01T01:30:00Z"},
      {"@every 1.5s", "2026-04-01T00:00:00Z", "2026-04-01T00:00:01Z"},
      {"@weekly", "2026-11-26T00:00:00Z", "2026-11-29T00:00:00Z"},
      {"@yearly", "2026-11-26T00:00:00Z", "2027-01-01T00:00:00Z"},
      // New York, spring forward on 2026-03-08: 02:30 does not exist that day and is skipped.
      {"CRON_TZ=America/New_York 30 2 * * *", "2026-03-07T17:00:00Z", "2026-03-09T06:30:00Z"},
      {"CRON_TZ=America/New_York 0 3 * * *", "2026-03-07T17:00:00Z", "2026-03-08T07:00:00Z"},
      // New York, fall back on 2026-11-01: 01:30 happens twice, and so does the run.
      {"CRON_TZ=America/New_York 30 1 * * *", "2026-10-31T16:00:00Z", "2026-11-01T05:30:00Z"},
      {"CRON_TZ=America/New_York 30 1 * * *", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"},
      // Berlin, spring forward on 2026-03-29.
      {"TZ=Europe/Berlin 30 2 * * *", "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z"},
      {"TZ=Europe/Berlin 0 0 * * *", "2026-03-28T12:00:00Z", "2026-03-28T23:00:00Z"},
      {"TZ=Europe/Berlin 0 0 * * *", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(NextAfter(c.spec, c.from), c.next) << c.spec << " after " << c.from;
  }
}

TEST(CronTest, ZoneAndNames) {
  Result<CronSchedule> s = ParseCron("CRON_TZ=Asia/Kathmandu 0 0 * JAN,jul sun");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->ZoneName(), "Asia/Kathmandu");
  EXPECT_EQ(ParseCron("0 0 * * *")->ZoneName(), "UTC");
  EXPECT_EQ(ParseCron("0 0 * * *", "Europe/Berlin")->ZoneName(), "Europe/Berlin");
}

TEST(CronTest, MalformedExpressionsSayWhichFieldAndValue) {
  struct Case {
    const char* spec;
    const char* message;
  };
  const Case cases[] = {
      {"0 25 * * *", "hour field: end of range (25) above maximum (23): 25"},
      {"61 * * * *", "minute field: end of range (61) above maximum (59): 61"},
      {"0 0 0 * *", "day-of-month field: beginning of range (0) below minimum (1): 0"},
      {"0 0 * 13 *", "month field: end of range (13) above maximum (12): 13"},
      {"0 0 * * 7", "day-of-week field: end of range (7) above maximum (6): 7"},
      {"0 0 * * MON-FOO", "day-of-week field: failed to parse int from FOO"},
      {"5-1 * * * *", "minute field: beginning of range (5) beyond end of range (1): 5-1"},
      {"*/0 * * * *", "minute field: step of range should be a positive number: */0"},
      {"*/-2 * * * *", "minute field: negative number (-2) not allowed"},
      {"1-2-3 * * * *", "minute field: too many hyphens: 1-2-3"},
      {"1/2/3 * * * *", "minute field: too many slashes: 1/2/3"},
      {"1,,2 * * * *", "minute field: failed to parse int from "},
      {"* * * *", "expected exactly 5 fields"},
      {"0 0 0 * * *",
       "expected exactly 5 fields (minute hour day-of-month month day-of-week), found 6"},
      {"", "it is empty"},
      {"@fortnightly", "unrecognized descriptor: @fortnightly"},
      {"@every", "@every takes one duration"},
      {"@every 1 day", "@every takes one duration"},
      {"@every 10x", "unknown unit \"x\""},
      {"CRON_TZ=Mars/Olympus 0 0 * * *", "unknown time zone \"Mars/Olympus\""},
      {"TZ=UTC", "a time zone prefix must be followed by a schedule"},
  };
  for (const Case& c : cases) {
    Result<CronSchedule> s = ParseCron(c.spec);
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << c.spec;
    EXPECT_THAT(s.status().message(), HasSubstr(c.message)) << c.spec;
    EXPECT_THAT(s.status().message(), HasSubstr(std::string("invalid schedule \"") + c.spec))
        << c.spec;
  }
}

}  // namespace
}  // namespace arca::schedule
