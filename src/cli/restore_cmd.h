// File: cli/restore_cmd.h
//
// `arca restore ...`, shaped like `velero restore ...`. Two modes.
//
// Server mode (the default, as Velero): the commands work on velero.io/v1 Restore resources in
// -n/--namespace (default $VELERO_NAMESPACE, else velero) that a running `arca server` acts on.
//   create [NAME] --from-backup B | --from-schedule S [filters] [--labels] [--annotations] [-w]
//       checks that the backup exists, creates the Restore and prints `Restore request "NAME"
//       submitted successfully.`; -w/--wait polls it until a final phase with progress from
//       status.progress, exit code 1 with the reasons unless Completed. --from-schedule S:
//       fails unless a Completed backup labelled velero.io/schedule-name=S exists, and sends
//       spec.scheduleName (the server takes the newest Completed one and fills spec.backupName);
//       with --allow-partially-failed the CLI picks the newest Completed or PartiallyFailed one
//       and sends it as spec.backupName alone, as Velero does (the server refuses both names).
//       -o table|json|yaml prints the Restore and submits nothing (needs no cluster, except
//       with --from-schedule --allow-partially-failed).
//   get [NAMES] [-l SEL] [-o table|json|yaml]   Velero's columns NAME BACKUP STATUS STARTED
//       COMPLETED ERRORS WARNINGS CREATED SELECTOR.
//   describe [NAMES] [-l SEL] [--details]   phase, progress, times, validation errors, counts,
//       the backup, filters and mappings; --details adds the results (errors and warnings by
//       namespace) and the resource list, fetched through a DownloadRequest (cli/download.h).
//   logs NAME [--timeout]   the restore log (through a DownloadRequest); only once the restore
//       is Completed, PartiallyFailed or Failed.
//   delete [NAMES] [--all] [-l SEL] [--confirm]   deletes the Restores (the server's finalizer
//       removes restores/NAME/ from object storage); asks for confirmation on stdin otherwise.
//
// Standalone mode (create --standalone, no server):
//   create [NAME] --from-backup B --standalone --storage URL [filters]
//       runs the restore engine (restore/engine.h) in-process with the user's kubeconfig,
//       reading backups/B/B.tar.gz from the store and writing restores/NAME/... there.
//   create [NAME] --from-file backup.tar.gz --standalone [--storage URL]
//       restores a downloaded tarball (Velero issue #1492); results go to --storage when given.
//   Progress is a redrawn line on a terminal and plain lines otherwise; then a summary. The exit
//   code is 1 unless the restore ends Completed.
//
// NAME defaults to "<backup or schedule>-<local YYYYMMDDhhmmss>" as in Velero ("<file name>-..."
// for --from-file).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "cli/cluster.h"
#include "cli/common.h"
#include "common/status.h"

namespace arca::cli {

// Adds the `restore` command tree to `app`. Callbacks report through `ctx`.
void AddRestoreCommands(CLI::App& app, CommandContext& ctx);

// The backup `restore create --from-schedule S` restores: the newest (by status.startTimestamp)
// Completed backup labelled velero.io/schedule-name=S in the client's namespace; PartiallyFailed
// ones count too with `allow_partially_failed`. kNotFound saying what was found otherwise.
Result<std::string> BackupOfSchedule(VeleroClient& client, const std::string& schedule,
                                     bool allow_partially_failed);

// `arca restore get`'s table of Restore objects (JSON as the API server returns them).
void PrintRestoreTable(std::ostream& out, const std::vector<nlohmann::json>& restores);

}  // namespace arca::cli
