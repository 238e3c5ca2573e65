// File: cli/version.h
//
// `arca version`: prints the client's version, git commit and build date, in Velero's layout, and
// then the server's version, asked through a ServerStatusRequest in the server's namespace
// (-n/--namespace, else $VELERO_NAMESPACE, else velero) and awaited for --timeout (5s), as
// `velero version` does. --client-only skips the server. A server that does not answer is
// reported on the Server line, not as a failure of the command.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <ostream>
#include <string>

#include "cli/common.h"
#include "common/build_info.h"
#include "common/status.h"
#include "kube/client.h"

namespace arca::cli {

void PrintVersion(const BuildInfo& info, std::ostream& out);

// Creates a ServerStatusRequest in `namespace_name` and waits (polling every 100 ms on `clock`)
// until the server has processed it; returns status.serverVersion. kDeadlineExceeded after
// `timeout`; the API's errors (kNotFound when the CRDs are not installed, ...).
Result<std::string> AskServerVersion(kube::Client& client, const std::string& namespace_name,
                                     Clock& clock, std::chrono::milliseconds timeout);

// Adds the `version` command to `app`.
void AddVersionCommand(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
