// File: cli/install_cmd.h
//
// `arca install` and `arca uninstall` (install/manifests.h says what is installed).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca::cli {

void AddInstallCommands(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
