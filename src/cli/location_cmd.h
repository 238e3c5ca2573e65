// File: cli/location_cmd.h
//
// `arca backup-location create|get|set|delete`, shaped like `velero backup-location ...`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca::cli {

// Adds the `backup-location` command tree to `app`. Callbacks report through `ctx`.
void AddLocationCommands(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
