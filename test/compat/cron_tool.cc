// cron_tool: Arca's side of the cron compatibility test (see cron_compat_test.sh).
//   cron_tool cases   prints test cases, "spec<TAB>unix-seconds" per line (deterministic)
//   cron_tool eval    reads such lines on stdin; prints the next activation, "none" or "error"
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "schedule/cron.h"

namespace {

void PrintCases() {
  const std::vector<std::string> zones = {"", "CRON_TZ=America/New_York ", "TZ=Europe/Berlin ",
                                          "CRON_TZ=Australia/Lord_Howe ",
                                          "CRON_TZ=Asia/Kathmandu "};
  const std::vector<std::string> specs = {
      "0 0 * * *",
      "30 2 * * *",
      "0 2 * * *",
      "30 1 * * *",
      "0 1 * * *",
      "0 3 * * *",
      "0 0 31 * *",
      "0 0 29 2 *",
      "0 0 30 2 *",
      "*/15 * * * *",
      "0 9-17/2 * * MON-FRI",
      "0 0 1,15 * 3",
      "0 0 * JAN,jul sun",
      "@yearly",
      "@monthly",
      "@weekly",
      "@daily",
      "@hourly",
      "@every 90m",
      "@every 1.5s",
      "5/20 * * * *",
      "0 0 ? * *",
      "0 */7 * * *",
      "59 23 31 12 *",
      "15 2,3 * * *",
      "0 0 L * *",
      "0 25 * * *",
      "* * * *",
      "61 * * * *",
      "0 0 * * 7",
      "a b c d e",
      "1-2-3 * * * *",
      "*/0 * * * *",
      "@fortnightly",
      "5-1 * * * *",
      "0 0 1 13 *",
  };
  // DST transitions in 2026 (UTC): US spring/fall, EU spring/fall, Lord Howe spring/fall.
  const std::vector<int64_t> anchors = {1772953200, 1793512800, 1774746000, 1792890000,
                                        1775314800, 1791041400, 1767225600};
  for (const std::string& z : zones) {
    for (const std::string& s : specs) {
      for (int64_t a : anchors) {
        for (int64_t off = -4 * 3600; off <= 4 * 3600; off += 23 * 60) {
          std::printf("%s%s\t%lld\n", z.c_str(), s.c_str(), static_cast<long long>(a + off));
        }
      }
    }
  }
  // Random valid specs at random times.
  std::mt19937 rng(20261126);
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
  auto field = [&](int lo, int hi) {
    switch (rng() % 6) {
      case 0:
        return std::string("*");
      case 1:
        return std::to_string(pick(lo, hi));
      case 2: {
        int a = pick(lo, hi);
        return std::to_string(a) + "-" + std::to_string(pick(a, hi));
      }
      case 3:
        return "*/" + std::to_string(pick(1, hi - lo + 1));
      case 4: {
        int a = pick(lo, hi);
        return std::to_string(a) + "-" + std::to_string(pick(a, hi)) + "/" +
               std::to_string(pick(1, 5));
      }
      default:
        return std::to_string(pick(lo, hi)) + "," + std::to_string(pick(lo, hi));
    }
  };
  for (int i = 0; i < 600; ++i) {
    std::string spec = zones[rng() % zones.size()] + field(0, 59) + " " + field(0, 23) + " " +
                       field(1, 31) + " " + field(1, 12) + " " + field(0, 6);
    for (int k = 0; k < 4; ++k) {
      int64_t t = 1577836800 + static_cast<int64_t>(rng() % 315360000);  // 2020-2030
      std::printf("%s\t%lld\n", spec.c_str(), static_cast<long long>(t));
    }
  }
}

int Eval() {
  std::string line;
  while (std::getline(std::cin, line)) {
    size_t tab = line.rfind('\t');
    if (tab == std::string::npos) {
      std::cerr << "cron_tool: bad input line: " << line << "\n";
      return 2;
    }
    arca::Result<arca::schedule::CronSchedule> s = arca::schedule::ParseCron(line.substr(0, tab));
    if (!s.ok()) {
      std::puts("error");
      continue;
    }
    auto t = arca::schedule::SysSeconds(std::chrono::seconds(std::stoll(line.substr(tab + 1))));
    std::optional<arca::schedule::SysSeconds> next = s->Next(t);
    if (next) {
      std::printf("%lld\n", static_cast<long long>(next->time_since_epoch().count()));
    } else {
      std::puts("none");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc == 2 ? argv[1] : "";
  if (cmd == "cases") {
    PrintCases();
    return 0;
  }
  if (cmd == "eval") {
    return Eval();
  }
  std::cerr << "usage: cron_tool cases|eval\n";
  return 2;
}
