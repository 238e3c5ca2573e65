// File: cli/backup_cmd.h
//
// `arca backup ...`, shaped like `velero backup ...`:
//   create NAME --standalone --storage URL [filters]  runs the backup engine in-process with the
//       user's kubeconfig, shows progress (a redrawn line on a terminal, plain lines otherwise)
//       and a summary. Exit code 1 unless the backup ends Completed. Without --standalone it
//       fails with a message saying that server mode is not available yet.
//   get [NAMES] --storage URL [-o table|json|yaml]   lists the backups of a store from their
//       velero-backup.json files, with Velero's columns.
//   describe NAME --storage URL [--details]           one backup; --details adds its resource
//       list and its errors and warnings.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/common.h"

namespace arca::cli {

// Adds the `backup` command tree to `app`. Callbacks report through `ctx`.
void AddBackupCommands(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
