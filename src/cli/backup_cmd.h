// File: cli/backup_cmd.h
//
// `arca backup ...`: create, get and describe (standalone mode reads and writes a store directly).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca::cli {

// Adds the `backup` command tree to `app`. Callbacks report through `ctx`.
void AddBackupCommands(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
