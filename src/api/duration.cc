#include "api/duration.h"

#include <cstdint>
#include <limits>

namespace arca::api {
namespace {

struct Unit {
  std::string_view name;
  int64_t nanos;
};
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1000},  // U+03BC Greek mu
    {"ms", int64_t{1000} * 1000},
    {"s", int64_t{1000} * 1000 * 1000},
    {"m", int64_t{60} * 1000 * 1000 * 1000},
    {"h", int64_t{3600} * 1000 * 1000 * 1000},
};

Status Invalid(std::string_view text, std::string_view why) {
  return InvalidArgumentError("invalid duration \"" + std::string(text) + "\": " +
                              std::string(why) + " (examples: 720h, 1h30m, 10m0s, 45s, 500ms)");
}

// Appends the fraction v / 10^prec (dropping trailing zeros) as ".ddd" before the unit.
void AppendFraction(std::string& out, uint64_t v, int prec) {
  std::string digits;
  bool printed = false;
  for (int i = 0; i < prec; ++i) {
    uint64_t digit = v % 10;
    printed = printed || digit != 0;
    if (printed) {
      digits.insert(digits.begin(), static_cast<char>('0' + digit));
    }
    v /= 10;
  }
  if (printed) {
    out += '.';
    out += digits;
  }
  out.insert(0, std::to_string(v));  // integer part goes in front
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    return Duration(0);
  }
  if (s.empty()) {
    return Invalid(text, "it is empty");
  }
  // Accumulate in unsigned nanoseconds with overflow checks.
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t total = 0;
  while (!s.empty()) {
    uint64_t whole = 0;
    size_t i = 0;
    bool any_digits = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (whole > (kMax - 9) / 10) {
        return Invalid(text, "it overflows");
      }
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
      any_digits = true;
    }
    uint64_t frac = 0;
    uint64_t scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        any_digits = true;
        if (scale < 1000000000000000000ull) {  // further digits cannot matter
          frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!any_digits) {
      return Invalid(text, "expected a number at \"" + std::string(s) + "\"");
    }
    s.remove_prefix(i);
    size_t unit_len = 0;
    while (unit_len < s.size() && s[unit_len] != '.' && (s[unit_len] < '0' || s[unit_len] > '9')) {
      ++unit_len;
    }
    std::string_view unit_name = s.substr(0, unit_len);
    if (unit_name.empty()) {
      return Invalid(text, "a number has no unit (ns, us, ms, s, m or h)");
    }
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit_name) {
        unit = &u;
      }
    }
    if (unit == nullptr) {
      return Invalid(text, "unknown unit \"" + std::string(unit_name) + "\"");
    }
    s.remove_prefix(unit_len);
    uint64_t per = static_cast<uint64_t>(unit->nanos);
    if (whole > kMax / per) {
      return Invalid(text, "it overflows");
    }
    uint64_t v = whole * per;
    // The fractional part, rounded down as Go does.
    v += static_cast<uint64_t>(static_cast<long double>(frac) * static_cast<long double>(per) /
                               static_cast<long double>(scale));
    if (v > kMax || total > kMax - v) {
      return Invalid(text, "it overflows");
    }
    total += v;
  }
  auto signed_total = static_cast<int64_t>(total);
  return Duration(negative ? -signed_total : signed_total);
}

std::string FormatDuration(Duration d) {
  int64_t n = d.count();
  if (n == 0) {
    return "0s";
  }
  bool negative = n < 0;
  // Work in unsigned to handle the most negative value.
  uint64_t u = negative ? static_cast<uint64_t>(-(n + 1)) + 1 : static_cast<uint64_t>(n);
  std::string out;
  if (u < 1000000000ull) {
    // Less than a second: ns, µs or ms with a fraction.
    int prec = 0;
    std::string unit;
    if (u < 1000) {
      unit = "ns";
    } else if (u < 1000000) {
      prec = 3;
      unit = "\xC2\xB5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    AppendFraction(out, u, prec);
    out += unit;
  } else {
    uint64_t secs_frac = u % 1000000000ull;
    uint64_t secs = u / 1000000000ull;
    std::string s;
    AppendFraction(s, (secs % 60) * 1000000000ull + secs_frac, 9);
    s += 's';
    uint64_t mins = secs / 60;
    if (mins > 0) {
      s.insert(0, std::to_string(mins % 60) + "m");
      uint64_t hours = mins / 60;
      if (hours > 0) {
        s.insert(0, std::to_string(hours) + "h");
      }
    }
    out = s;
  }
  if (negative) {
    out.insert(0, "-");
  }
  return out;
}

}  // namespace arca::api
