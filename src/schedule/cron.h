// File: schedule/cron.h
//
// Cron schedules compatible with Velero's parser (robfig/cron v3, ParseStandard):
//   - five fields: minute hour day-of-month month day-of-week, each with `*`, `?`, lists `a,b`,
//     ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (a to the maximum), and names (JAN-DEC,
//     SUN-SAT, any case);
//   - descriptors @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly, and
//     `@every <Go duration>` (truncated to whole seconds, at least 1s);
//   - an optional `CRON_TZ=<zone> ` or `TZ=<zone> ` prefix; otherwise the default zone (UTC for
//     the server, as Velero's official image runs).
// Next() follows robfig's algorithm step by step, on real time-zone rules from the system's tz
// database, so runs land exactly where Velero's would across DST changes: a run whose local time
// falls in a spring-forward gap is skipped that day, and one in a fall-back overlap runs twice
// (test/compat checks thousands of cases against robfig/cron itself).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace date {
class time_zone;
}  // namespace date

namespace arca::schedule {

using SysSeconds = std::chrono::sys_seconds;

class CronSchedule {
 public:
  // The first activation strictly after `t` (sub-second parts of `t` are ignored), or nullopt when
  // there is none within five years (e.g. "0 0 30 2 *").
  std::optional<SysSeconds> Next(SysSeconds t) const;

  // The zone the fields are evaluated in, e.g. "UTC", "America/New_York".
  std::string ZoneName() const;
  const std::string& spec() const { return spec_; }

 private:
  friend Result<CronSchedule> ParseCron(std::string_view spec, std::string_view default_zone);
  std::string spec_;
  const date::time_zone* zone_ = nullptr;
  uint64_t second_ = 0;
  uint64_t minute_ = 0;
  uint64_t hour_ = 0;
  uint64_t dom_ = 0;
  uint64_t month_ = 0;
  uint64_t dow_ = 0;
  std::chrono::seconds every_{0};  // non-zero for @every
};

// Parses a schedule. kInvalidArgument with the field and value at fault, e.g.
//   "invalid schedule \"0 25 * * *\": hour field: end of range (25) above maximum (23): 25".
Result<CronSchedule> ParseCron(std::string_view spec, std::string_view default_zone = "UTC");

}  // namespace arca::schedule
