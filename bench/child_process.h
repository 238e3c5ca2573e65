// File: bench/child_process.h
//
// Runs a benchmark's measured command as a child process, so that its peak RSS and CPU time are
// its own: wall time from spawn to exit, user + system CPU and peak RSS from wait4(2), and its
// standard output handed over as it arrives. Used by the benchmark drivers only.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace arca::bench {

struct ChildRun {
  bool started = false;    // false: the command could not be spawned (then nothing else is set)
  double seconds = 0;      // wall time
  double cpu_seconds = 0;  // user + system
  long max_rss_kib = 0;
  int exit_code = -1;  // -1 when killed by a signal
};

// Runs `argv` (argv[0] looked up in PATH) with stdout piped to `on_stdout` and stderr inherited.
ChildRun RunChild(const std::vector<std::string>& argv,
                  const std::function<void(std::string_view)>& on_stdout);

}  // namespace arca::bench
