#include "schedule/cron.h"

#include <date/date.h>
#include <date/tz.h>

#include <cctype>
#include <exception>
#include <vector>

#include "api/duration.h"

namespace arca::schedule {
namespace {

using std::chrono::days;
using std::chrono::seconds;

constexpr uint64_t kStarBit = uint64_t{1} << 63;

struct Bounds {
  const char* field;
  int min;
  int max;
  const char* const* names;  // names[i] is value min + i... or nullptr
  int names_base;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",  "jul",
                                       "aug", "sep", "oct", "nov", "dec", nullptr};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

constexpr Bounds kMinute{"minute", 0, 59, nullptr, 0};
constexpr Bounds kHour{"hour", 0, 23, nullptr, 0};
constexpr Bounds kDom{"day-of-month", 1, 31, nullptr, 0};
constexpr Bounds kMonth{"month", 1, 12, kMonthNames, 1};
constexpr Bounds kDow{"day-of-week", 0, 6, kDayNames, 0};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) {
      return out;
    }
    start = pos + 1;
  }
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    }
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    }
    if (i > start) {
      out.push_back(s.substr(start, i - start));
    }
  }
  return out;
}

Result<int> ParseInt(std::string_view s) {
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    digits.remove_prefix(1);
  }
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return InvalidArgumentError("failed to parse int from " + std::string(s));
  }
  int v = std::stoi(std::string(digits));
  if (s[0] == '-') {
    return InvalidArgumentError("negative number (-" + std::to_string(v) +
                                ") not allowed: " + std::string(s));
  }
  return v;
}

Result<int> ParseIntOrName(std::string_view s, const Bounds& b) {
  if (b.names != nullptr) {
    std::string lower = Lower(s);
    for (int i = 0; b.names[i] != nullptr; ++i) {
      if (lower == b.names[i]) {
        return b.names_base + i;
      }
    }
  }
  return ParseInt(s);
}

Result<uint64_t> ParseRange(std::string_view expr, const Bounds& b) {
  std::vector<std::string_view> range_and_step = Split(expr, '/');
  std::vector<std::string_view> low_and_high = Split(range_and_step[0], '-');
  bool single = low_and_high.size() == 1;
  int start = 0;
  int end = 0;
  uint64_t extra = 0;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = b.min;
    end = b.max;
    extra = kStarBit;
  } else {
    ASSIGN_OR_RETURN(start, ParseIntOrName(low_and_high[0], b));
    if (low_and_high.size() == 1) {
      end = start;
    } else if (low_and_high.size() == 2) {
      ASSIGN_OR_RETURN(end, ParseIntOrName(low_and_high[1], b));
    } else {
      return InvalidArgumentError("too many hyphens: " + std::string(expr));
    }
  }
  int step = 1;
  if (range_and_step.size() == 2) {
    ASSIGN_OR_RETURN(step, ParseInt(range_and_step[1]));
    if (single) {
      end = b.max;  // "N/step" means N to the maximum
    }
    if (step > 1) {
      extra = 0;
    }
  } else if (range_and_step.size() > 2) {
    return InvalidArgumentError("too many slashes: " + std::string(expr));
  }
  if (start < b.min) {
    return InvalidArgumentError("beginning of range (" + std::to_string(start) +
                                ") below minimum (" + std::to_string(b.min) +
                                "): " + std::string(expr));
  }
  if (end > b.max) {
    return InvalidArgumentError("end of range (" + std::to_string(end) + ") above maximum (" +
                                std::to_string(b.max) + "): " + std::string(expr));
  }
  if (start > end) {
    return InvalidArgumentError("beginning of range (" + std::to_string(start) +
                                ") beyond end of range (" + std::to_string(end) +
                                "): " + std::string(expr));
  }
  if (step == 0) {
    return InvalidArgumentError("step of range should be a positive number: " + std::string(expr));
  }
  uint64_t bits = 0;
  for (int i = start; i <= end; i += step) {
    bits |= uint64_t{1} << i;
  }
  return bits | extra;
}

Result<uint64_t> ParseField(std::string_view field, const Bounds& b) {
  uint64_t bits = 0;
  for (std::string_view expr : Split(field, ',')) {
    Result<uint64_t> r = ParseRange(expr, b);
    if (!r.ok()) {
      return r.status().WithContext(std::string(b.field) + " field");
    }
    bits |= *r;
  }
  return bits;
}

// Civil time in a zone, and Go's time.Date to go back (same normalization and the same choice in
// DST gaps and overlaps).
struct Civil {
  int year;
  int month;  // 1-12
  int day;    // 1-31
  int hour;
  int minute;
  int second;
  int weekday;  // 0 = Sunday
};

Civil ToCivil(const date::time_zone* z, SysSeconds t) {
  date::sys_info info = z->get_info(t);
  SysSeconds local = t + info.offset;
  auto dp = date::floor<days>(local);
  date::year_month_day ymd{dp};
  date::hh_mm_ss<seconds> hms{local - dp};
  return Civil{static_cast<int>(ymd.year()),
               static_cast<int>(static_cast<unsigned>(ymd.month())),
               static_cast<int>(static_cast<unsigned>(ymd.day())),
               static_cast<int>(hms.hours().count()),
               static_cast<int>(hms.minutes().count()),
               static_cast<int>(hms.seconds().count()),
               static_cast<int>(date::weekday{dp}.c_encoding())};
}

SysSeconds GoDate(const date::time_zone* z, int year, int month, int day, int hour, int minute,
                  int second) {
  // Normalize the month into 1-12, carrying into the year; days and clock fields carry through
  // plain arithmetic, as Go's time.Date does.
  int m0 = month - 1;
  year += m0 >= 0 ? m0 / 12 : -((11 - m0) / 12);
  m0 -= (m0 >= 0 ? m0 / 12 : -((11 - m0) / 12)) * 12;
  date::sys_days first = date::year{year} / date::month{static_cast<unsigned>(m0 + 1)} / 1;
  int64_t wall = (first + days{day - 1}).time_since_epoch().count() * 86400 + int64_t{hour} * 3600 +
                 int64_t{minute} * 60 + second;
  // Go: look up the offset treating the wall time as UTC; if the resulting instant falls outside
  // that offset's period, use the offset in force at that instant instead.
  date::sys_info info = z->get_info(SysSeconds{seconds{wall}});
  int64_t offset = info.offset.count();
  if (offset != 0) {
    SysSeconds utc{seconds{wall - offset}};
    if (utc < info.begin || utc >= info.end) {
      offset = z->get_info(utc).offset.count();
    }
  }
  return SysSeconds{seconds{wall - offset}};
}

bool Has(uint64_t bits, int v) { return (bits >> v) & 1; }

}  // namespace

Result<CronSchedule> ParseCron(std::string_view spec, std::string_view default_zone) {
  auto fail = [&](const Status& why) {
    return InvalidArgumentError("invalid schedule \"" + std::string(spec) + "\": " + why.message());
  };
  CronSchedule s;
  s.spec_ = std::string(spec);
  std::string_view rest = spec;
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) {
    rest.remove_prefix(1);
  }
  std::string zone_name(default_zone);
  if (rest.substr(0, 3) == "TZ=" || rest.substr(0, 8) == "CRON_TZ=") {
    size_t eq = rest.find('=');
    size_t space = rest.find_first_of(" \t");
    if (space == std::string_view::npos) {
      return fail(InvalidArgumentError("a time zone prefix must be followed by a schedule"));
    }
    zone_name = std::string(rest.substr(eq + 1, space - eq - 1));
    rest.remove_prefix(space);
  }
  try {
    s.zone_ = date::locate_zone(zone_name);
  } catch (const std::exception&) {
    return fail(InvalidArgumentError("unknown time zone \"" + zone_name +
                                     "\" (use an IANA name such as Europe/Berlin or UTC)"));
  }
  std::vector<std::string_view> fields = Fields(rest);
  if (fields.empty()) {
    return fail(InvalidArgumentError("it is empty (example: \"0 1 * * *\" runs daily at 01:00)"));
  }
  if (fields[0].front() == '@') {
    std::string d = Lower(fields[0]);
    const char* expand = nullptr;
    if (d == "@yearly" || d == "@annually") {
      expand = "0 0 1 1 *";
    } else if (d == "@monthly") {
      expand = "0 0 1 * *";
    } else if (d == "@weekly") {
      expand = "0 0 * * 0";
    } else if (d == "@daily" || d == "@midnight") {
      expand = "0 0 * * *";
    } else if (d == "@hourly") {
      expand = "0 * * * *";
    } else if (d == "@every") {
      if (fields.size() != 2) {
        return fail(InvalidArgumentError("@every takes one duration, e.g. \"@every 1h30m\""));
      }
      Result<api::Duration> every = api::ParseDuration(fields[1]);
      if (!every.ok()) {
        return fail(every.status());
      }
      auto secs = std::chrono::duration_cast<seconds>(*every);
      s.every_ = secs < seconds(1) ? seconds(1) : secs;
      return s;
    } else {
      return fail(InvalidArgumentError("unrecognized descriptor: " + std::string(fields[0])));
    }
    if (fields.size() != 1) {
      return fail(InvalidArgumentError(std::string(fields[0]) + " takes no fields"));
    }
    fields = Fields(expand);
  }
  if (fields.size() != 5) {
    return fail(InvalidArgumentError(
        "expected exactly 5 fields (minute hour day-of-month month day-of-week), found " +
        std::to_string(fields.size())));
  }
  s.second_ = 1;  // second 0
  const Bounds* bounds[] = {&kMinute, &kHour, &kDom, &kMonth, &kDow};
  uint64_t* outs[] = {&s.minute_, &s.hour_, &s.dom_, &s.month_, &s.dow_};
  for (size_t i = 0; i < 5; ++i) {
    Result<uint64_t> bits = ParseField(fields[i], *bounds[i]);
    if (!bits.ok()) {
      return fail(bits.status());
    }
    *outs[i] = *bits;
  }
  return s;
}

std::string CronSchedule::ZoneName() const { return std::string(zone_->name()); }

std::optional<SysSeconds> CronSchedule::Next(SysSeconds t) const {
  if (every_.count() > 0) {
    return t + every_;
  }
  const date::time_zone* z = zone_;
  t += seconds(1);
  bool added = false;
  Civil c = ToCivil(z, t);
  const int year_limit = c.year + 5;

  auto day_matches = [&](const Civil& cv) {
    bool dom_match = Has(dom_, cv.day);
    bool dow_match = Has(dow_, cv.weekday);
    if ((dom_ & kStarBit) || (dow_ & kStarBit)) {
      return dom_match && dow_match;
    }
    return dom_match || dow_match;
  };

wrap:
  c = ToCivil(z, t);
  if (c.year > year_limit) {
    return std::nullopt;
  }
  while (!Has(month_, c.month)) {
    if (!added) {
      added = true;
      t = GoDate(z, c.year, c.month, 1, 0, 0, 0);
      c = ToCivil(z, t);
    }
    t = GoDate(z, c.year, c.month + 1, c.day, c.hour, c.minute, c.second);  // AddDate(0, 1, 0)
    c = ToCivil(z, t);
    if (c.month == 1) {
      goto wrap;
    }
  }
  while (!day_matches(c)) {
    if (!added) {
      added = true;
      t = GoDate(z, c.year, c.month, c.day, 0, 0, 0);
      c = ToCivil(z, t);
    }
    t = GoDate(z, c.year, c.month, c.day + 1, c.hour, c.minute, c.second);  // AddDate(0, 0, 1)
    c = ToCivil(z, t);
    // If DST moved the clock off midnight, move back to it: forward from 23h, back from 1h.
    if (c.hour != 0) {
      t += c.hour > 12 ? std::chrono::hours(24 - c.hour) : -std::chrono::hours(c.hour);
      c = ToCivil(z, t);
    }
    if (c.day == 1) {
      goto wrap;
    }
  }
  while (!Has(hour_, c.hour)) {
    if (!added) {
      added = true;
      t = GoDate(z, c.year, c.month, c.day, c.hour, 0, 0);
      c = ToCivil(z, t);
    }
    t += std::chrono::hours(1);
    c = ToCivil(z, t);
    if (c.hour == 0) {
      goto wrap;
    }
  }
  while (!Has(minute_, c.minute)) {
    if (!added) {
      added = true;
      t = date::floor<std::chrono::minutes>(t);
      c = ToCivil(z, t);
    }
    t += std::chrono::minutes(1);
    c = ToCivil(z, t);
    if (c.minute == 0) {
      goto wrap;
    }
  }
  while (!Has(second_, c.second)) {
    if (!added) {
      added = true;  // t is already whole seconds
    }
    t += seconds(1);
    c = ToCivil(z, t);
    if (c.second == 0) {
      goto wrap;
    }
  }
  return t;
}

}  // namespace arca::schedule
