// File: controller/server.h
//
// Server: `arca server`'s body. It serves /metrics, /healthz and /readyz on the metrics address
// at once, campaigns for the leader lease (controller/leader_election.h), and only while leader
// runs the enabled controllers:
//   server-status-request  ServerStatusRequests (controller/server_status.h)
//   backup-storage-location  BSL validation (controller/storage_location.h)
//   download-request       DownloadRequests (controller/download_request.h)
//   backup-deletion        DeleteBackupRequests (controller/backup_deletion.h)
//   backup                 Backups through the backup engine (controller/backup_controller.h)
//   restore                Restores through the restore engine (controller/restore_controller.h)
// and refreshes velero_backup_total / velero_restore_total every minute. /readyz answers 200 once
// this process leads and its controllers' informers have synced, 503 before (a follower is
// healthy but not ready); /healthz answers 200 while the process runs.
//
// Run returns OK when `stop` becomes true (the lease is released first, so another server takes
// over at once), and kAborted when the lease is lost: the caller should exit, as client-go
// leaders do, and let the process be restarted.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/controller.h"
#include "controller/leader_election.h"
#include "controller/location_stores.h"
#include "controller/log.h"
#include "controller/metrics.h"
#include "kube/client.h"
#include "kube/exec.h"
#include "restore/priorities.h"

namespace arca::controller {

// The controllers `--disable-controllers` may name (Velero's names; those Arca does not run yet
// are accepted and ignored).
const std::vector<std::string>& KnownControllers();

struct ServerOptions {
  std::string namespace_name = "velero";
  std::string metrics_address = ":8085";
  std::chrono::nanoseconds default_backup_ttl = std::chrono::hours(720);
  std::chrono::nanoseconds store_validation_frequency = std::chrono::minutes(1);
  // --schedule-skip-immediately: a Schedule that does not set spec.skipImmediately skips the run
  // due when it is created or unpaused.
  bool schedule_skip_immediately = false;
  // --garbage-collection-frequency: how often the gc controller looks at every Backup again.
  std::chrono::nanoseconds garbage_collection_frequency = std::chrono::hours(1);
  // --backup-sync-period: how often each location's backups are synced into the cluster; 0 off.
  std::chrono::nanoseconds backup_sync_period = std::chrono::minutes(1);
  // --concurrent-backups: backups running at once (their namespaces must not overlap).
  int concurrent_backups = 1;
  // --concurrent-restores: restores running at once (their target namespaces must not overlap).
  int concurrent_restores = 1;
  std::set<std::string> disabled_controllers;
  std::string server_version;  // "v0.1.0"
  LeaderElectionConfig leader_election;
  // Informer watch requests end after this long, bounding how long a stop waits for them.
  int64_t watch_timeout_seconds = 30;
  // Runs exec hooks in pods (kube::ExecClient) for the backup and restore controllers; null:
  // they are not run. Must outlive the server.
  kube::PodExecutor* pod_executor = nullptr;
  // --restore-resource-priorities: the restore order (restore/priorities.h).
  restore::Priorities restore_priorities = restore::DefaultPriorities();
};

// Checks every name is a known controller; kInvalidArgument listing the valid names otherwise.
Status CheckControllerNames(const std::set<std::string>& names);

class Server {
 public:
  // Every reference must outlive the server.
  Server(kube::Client& client, Clock& clock, Logger& log, LocationStores& stores,
         ServerOptions options);
  ~Server();

  // Serves until `stop` (OK) or the lease is lost (kAborted). Errors at start (a bad metrics
  // address, a port in use) are returned before anything runs.
  Status Run(const std::atomic<bool>& stop);

  ServerMetrics& metrics() { return metrics_; }

 private:
  void StartControllers();
  void StopControllers();
  void RefreshTotals();
  bool Ready();

  kube::Client& client_;
  Clock& clock_;
  Logger& log_;
  LocationStores& stores_;
  const ServerOptions options_;
  ServerMetrics metrics_;
  std::atomic<bool> leading_{false};
  std::vector<std::unique_ptr<Reconciler>> reconcilers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
};

}  // namespace arca::controller
