// File: cli/restore_cmd.h
//
// `arca restore ...`: create (standalone mode restores from a store or a tarball file directly).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca::cli {

// Adds the `restore` command tree to `app`. Callbacks report through `ctx`.
void AddRestoreCommands(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
