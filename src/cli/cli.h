// File: cli/cli.h
//
// The `arca` command line. RunCli parses the arguments, runs the chosen command and returns the
// process exit code: 0 on success, 1 when the command failed, 2 on a usage error. Output goes to
// `out`, diagnostics to `err`, so tests can run commands in-process.
#pragma once

#include <ostream>
#include <span>
#include <string>

namespace arca::cli {

int RunCli(std::span<const std::string> args, std::ostream& out, std::ostream& err);

}  // namespace arca::cli
