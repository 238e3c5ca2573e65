// File: cli/cli.h
//
// The `arca` command line. RunCli parses the arguments, runs the chosen command and returns the
// process exit code: 0 on success, 1 when the command failed, 2 on a usage error. Output goes to
// `out`, diagnostics to `err`, so tests can run commands in-process. Velero's verb-first forms
// work too: `arca get backups` is `arca backup get`, likewise for create, delete and describe
// with backup(s), restore(s), schedule(s) and backup-location(s).
#pragma once

#include <ostream>
#include <span>
#include <string>

namespace arca::cli {

int RunCli(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace arca::cli
