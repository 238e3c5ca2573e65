// File: controller/backup_deletion.h
//
// The backup-deletion controller (../shared/reference/velero-api.md §8.2) for
// DeleteBackupRequests:
//   1. Requests already InProgress or Processed are left alone, and deleted when older than 24h.
//   2. An empty spec.backupName ends Processed with an error. Other requests for the same backup
//      are deleted.
//   3. Refusals (phase Processed, status.errors): the backup is not found, or still in progress;
//      its location is not found, is ReadOnly ("cannot delete backup because backup storage
//      location X is currently in read-only mode"), or is not Available.
//   4. The request goes InProgress (labels velero.io/backup-name and velero.io/backup-uid added)
//      and the Backup to phase Deleting.
//   5. Every object under backups/<name>/ in the location is deleted.
//   6. Every Restore of this backup: its files under restores/<restore>/ (in the same location)
//      and then the Restore itself (its finalizer restores.velero.io/external-resources-finalizer,
//      whose job is exactly those files, is removed).
//   7. Without errors so far, the Backup is deleted. The request ends Processed with the errors;
//      without errors every request for this backup (name and uid labels) is deleted.
// Volume snapshots and file-system backups are not deleted: Arca makes neither yet.
// Metrics: velero_backup_deletion_{attempt,success,failure}_total by schedule.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/location_stores.h"
#include "controller/log.h"
#include "controller/metrics.h"
#include "kube/client.h"

namespace arca::controller {

class BackupDeletionReconciler : public Reconciler {
 public:
  static constexpr std::chrono::hours kKeepProcessed{24};

  BackupDeletionReconciler(kube::Client& client, std::string namespace_name, Clock& clock,
                           Logger& log, LocationStores& stores, ServerMetrics& metrics);

  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  Status Finish(const std::string& name, const std::vector<std::string>& errors);
  // Deletes every object under `dir` ("backups/b/"); the first error.
  static Status DeleteDir(objstore::ObjectStore& store, const std::string& dir);

  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  LocationStores& stores_;
  ServerMetrics& metrics_;
};

}  // namespace arca::controller
