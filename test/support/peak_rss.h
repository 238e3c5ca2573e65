// File: test/support/peak_rss.h
//
// The process's peak resident set size, for tests and benchmarks that prove bounded memory.
// ResetPeakRss() restarts the high-water mark (Linux clear_refs), so a phase can be measured on
// its own; PeakRssKiB() reads it from /proc/self/status (VmHWM).
#pragma once

#include <fstream>
#include <string>

namespace arca::test_support {

inline long PeakRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

inline void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

}  // namespace arca::test_support
