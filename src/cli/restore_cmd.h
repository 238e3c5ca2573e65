// File: cli/restore_cmd.h
//
// `arca restore ...`, shaped like `velero restore ...`:
//   create [NAME] --from-backup B --standalone --storage URL [filters]
//       runs the restore engine (restore/engine.h) in-process with the user's kubeconfig,
//       reading backups/B/B.tar.gz from the store and writing restores/NAME/... there.
//   create [NAME] --from-file backup.tar.gz --standalone [--storage URL]
//       restores a downloaded tarball (Velero issue #1492); results go to --storage when given.
// NAME defaults to "<backup>-<local YYYYMMDDhhmmss>" as in Velero ("<file name>-..." for
// --from-file). Progress is a redrawn line on a terminal and plain lines otherwise; then a
// summary. The exit code is 1 unless the restore ends Completed. Without --standalone the
// command fails with a message saying that server mode is not available yet.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca::cli {

// Adds the `restore` command tree to `app`. Callbacks report through `ctx`.
void AddRestoreCommands(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
