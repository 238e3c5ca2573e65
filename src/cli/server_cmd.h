// File: cli/server_cmd.h
//
// `arca server`: runs the controllers (controller/server.h) in the foreground, in the cluster
// (in-cluster configuration) or on a laptop against a kubeconfig. Flags follow `velero server`:
//   --namespace velero  --metrics-address :8085  --default-backup-ttl 720h
//   --store-validation-frequency 1m  --log-format text|json  --log-level info
//   --disable-controllers a,b  --client-qps 100 --client-burst 100  --kubeconfig --context
// plus leader election (--leader-elect-lease-name arca-server).
// SIGINT or SIGTERM stops it: the leader lease is released and the process exits 0. Losing the
// lease exits 1 (a supervisor or Deployment restarts it as a candidate).
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace arca::cli {

// Adds the `server` command to `app`. Callbacks report through `ctx`.
void AddServerCommands(CLI::App& app, CommandContext& ctx);

}  // namespace arca::cli
