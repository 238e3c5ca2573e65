// File: cli/backup_cmd.h
//
// `arca backup ...`, shaped like `velero backup ...` (../shared/reference/velero-api.md §10).
// Two modes.
//
// Server mode (the default): the commands work on the velero.io/v1 resources of the namespace
// -n/--namespace (default $VELERO_NAMESPACE, else velero) that a running `arca server` acts on.
//   create NAME [filters] [--labels] [--annotations] [-w]  creates a Backup and prints Velero's
//       `Backup request "NAME" submitted successfully.`; -w/--wait polls until a terminal phase
//       with a progress display (status.progress), exit code 1 with the reasons unless it ends
//       Completed. --from-schedule S builds it from the Schedule's template instead (filters
//       ignored; the name defaults to S-<UTC YYYYMMDDhhmmss>). -o json|yaml prints the Backup
//       and submits nothing.
//   get [NAMES] [-l SELECTOR] [-o table|json|yaml]  Velero's columns NAME STATUS ERRORS WARNINGS
//       CREATED EXPIRES STORAGE LOCATION QUEUE POSITION (while Queued) SELECTOR.
//   describe [NAMES] [-l SELECTOR] [--details]      every backup when no name is given; --details
//       adds the resource list and the errors and warnings, fetched through cli/download.h.
//   logs NAME [--timeout 1m]                        the backup's log, gunzipped, to stdout; only
//       once the backup is Completed, PartiallyFailed or Failed.
//   download NAME [-o FILE] [--force] [--timeout]   the contents tarball to FILE (default
//       NAME-data.tar.gz); an existing file is kept unless --force.
//   delete [NAMES] [--all | -l SELECTOR] [--confirm]  one DeleteBackupRequest per backup
//       (generateName NAME-, labels velero.io/backup-name and velero.io/backup-uid), after
//       Velero's "Are you sure you want to continue (Y/N)? " unless --confirm.
//   logs, download and describe --details take --timeout, --cacert and
//   --insecure-skip-tls-verify; when the server does not answer in time or its URL cannot be
//   fetched they read the backup storage location directly (cli/download.h).
//
// Standalone mode (--standalone / --storage URL), no server and no custom resources:
//   create NAME --standalone --storage URL [filters]  runs the backup engine in-process with the
//       user's kubeconfig, shows progress (a redrawn line on a terminal, plain lines otherwise)
//       and a summary. Exit code 1 unless the backup ends Completed.
//   get [NAMES] --storage URL [-l] [-o table|json|yaml]  lists the backups of a store from their
//       velero-backup.json files, with Velero's columns.
//   describe NAME... --storage URL [--details]           from the store; --details adds the
//       resource list and the errors and warnings.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <istream>
#include <string>

#include "cli/cluster.h"
#include "cli/common.h"
#include "cli/download.h"
#include "common/clock.h"

namespace arca::cli {

// How the server-mode commands reach the world; tests replace the parts they need.
struct BackupCommandEnv {
  // Connects to the cluster the flags name. Empty: VeleroClient::Connect.
  std::function<Result<VeleroClient>(const ClusterFlags&, Clock&)> connect;
  // Null: RealClock().
  Clock* clock = nullptr;
  // The confirmation prompt's input. Null: std::cin.
  std::istream* in = nullptr;
  // How often `create --wait` polls the Backup.
  std::chrono::milliseconds wait_poll{500};
  // Applied to the options of every download (test seams: stores, transport, poll interval).
  std::function<void(DownloadOptions&)> tune_download;
};

// Adds the `backup` command tree to `app`. Callbacks report through `ctx`.
void AddBackupCommands(CLI::App& app, CommandContext& ctx);
void AddBackupCommands(CLI::App& app, CommandContext& ctx, BackupCommandEnv env);

}  // namespace arca::cli
