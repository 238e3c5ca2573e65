#include "child_process.h"

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX

namespace arca::bench {

ChildRun RunChild(const std::vector<std::string>& argv,
                  const std::function<void(std::string_view)>& on_stdout) {
  ChildRun run;
  std::array<int, 2> out{};
  if (argv.empty() || ::pipe(out.data()) != 0) {
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  c_args.reserve(args.size() + 1);
  for (std::string& a : args) {
    c_args.push_back(a.data());
  }
  c_args.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, c_args[0], &actions, nullptr, c_args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return run;
  }
  run.started = true;
  std::array<char, 65536> buf{};
  ssize_t got = 0;
  while ((got = ::read(out[0], buf.data(), buf.size())) > 0) {
    on_stdout(std::string_view(buf.data(), static_cast<size_t>(got)));
  }
  ::close(out[0]);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.max_rss_kib = usage.ru_maxrss;
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  run.cpu_seconds = tv(usage.ru_utime) + tv(usage.ru_stime);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace arca::bench
