// File: controller/backup_controller.h
//
// The backup controller (../shared/reference/velero-api.md §4.1, §4.2, §4.8) for Backups:
//   - A Backup with phase "" or New is validated: the engine's spec checks (backup/engine.h
//     ValidateBackup) and the location: spec.storageLocation, else the location with
//     spec.default true, else "default" (written back into the spec); it must exist, not be
//     ReadOnly and be Available. Failures end FailedValidation with every reason in
//     status.validationErrors.
//   - Otherwise the Backup gets phase InProgress, startTimestamp, expiration (spec.ttl, else the
//     server's --default-backup-ttl), the label velero.io/storage-location, and the annotations
//     velero.io/source-cluster-k8s-gitversion / -major-version / -minor-version; then the backup
//     engine runs against the location's store, with status.progress patched at most once a
//     second, and the final status (Completed, PartiallyFailed or Failed with failureReason,
//     completionTimestamp, errors, warnings) is patched in.
//   - Crash safety: a Backup found InProgress that this process is not running was left by a
//     previous process (killed mid-backup); it is marked Failed with a failureReason saying so.
//     The engine writes velero-backup.json last, so such a backup never looks whole in the store.
// With `queued` (the server's default), only ReadyToStart backups are started: the backup queue
// (controller/backup_queue.h) moves New ones through Queued to ReadyToStart. Without it (the
// backup-queue controller disabled), New backups start directly. Metrics:
// velero_backup_{attempt,success,partial_failure, failure,validation_failure}_total,
// velero_backup_duration_seconds, last status and items.
#pragma once

#include <chrono>
#include <mutex>
#include <set>
#include <string>

#include "backup/engine.h"
#include "common/clock.h"
#include "controller/controller.h"
#include "controller/location_stores.h"
#include "controller/log.h"
#include "controller/metrics.h"
#include "kube/client.h"

namespace arca::controller {

class BackupReconciler : public Reconciler {
 public:
  static constexpr char kOrphanedReason[] =
      "the server stopped while this backup was in progress (found InProgress when the server "
      "started); create the backup again";

  BackupReconciler(kube::Client& client, std::string namespace_name, Clock& clock, Logger& log,
                   LocationStores& stores, ServerMetrics& metrics,
                   backup::BackupEngineOptions engine_options, bool queued = false);

  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  // The location's name and JSON (nullopt: none found), per Velero's defaulting.
  Result<std::pair<std::string, std::optional<nlohmann::json>>> ResolveLocation(
      const std::string& requested);
  void SourceClusterAnnotations(nlohmann::json& annotations);

  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  LocationStores& stores_;
  ServerMetrics& metrics_;
  const backup::BackupEngineOptions engine_options_;
  const bool queued_;
  std::mutex mu_;
  std::set<std::string> running_;  // GUARDED_BY(mu_)
};

}  // namespace arca::controller
