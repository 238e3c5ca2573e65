// File: cli/schedule_cmd.h
//
// `arca schedule create|get|describe|pause|unpause|delete`, shaped like `velero schedule ...`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca::cli {

// Adds the `schedule` command tree to `app`. Callbacks report through `ctx`.
void AddScheduleCommands(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
