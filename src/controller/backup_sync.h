// File: controller/backup_sync.h
//
// The backup-sync controller "backup-sync" (../shared/reference/velero-api.md §9.2, §2.4): object
// storage is the source of truth. Each BackupStorageLocation is looked at every minute (sooner
// when its period is shorter) and synced when it is Available and lastSyncedTime + period has
// passed (period: spec.backupSyncPeriod, else --backup-sync-period; 0 never syncs; negative means
// the server's). A sync:
//   - lists backups/<name>/ in the store; for each name with no Backup of that name in the
//     server namespace, reads backups/<name>/velero-backup.json (skipped when missing or not a
//     velero.io/v1 Backup) and creates it: namespace = the server's, resourceVersion/uid/
//     creationTimestamp cleared, spec.storageLocation and label velero.io/storage-location set to
//     this location, Schedule ownerReferences dropped unless that Schedule exists with that uid.
//     A backup still in WaitingForPluginOperations* / Finalizing* is skipped until it expires,
//     then created as PartiallyFailed;
//   - deletes the Backups labelled with this location in phase Completed or PartiallyFailed
//     whose name is not in the store (their data is gone);
//   - patches status.lastSyncedTime.
// Nothing in the store is modified, so ReadOnly locations are synced too. PodVolumeBackups are
// not synced (Arca has no file-system backup).
#pragma once

#include <chrono>
#include <string>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/location_stores.h"
#include "controller/log.h"
#include "kube/client.h"

namespace arca::controller {

class BackupSyncReconciler : public Reconciler {
 public:
  static constexpr std::chrono::minutes kResync{1};

  // `default_period`: the server's --backup-sync-period.
  BackupSyncReconciler(kube::Client& client, std::string namespace_name, Clock& clock, Logger& log,
                       LocationStores& stores, std::chrono::nanoseconds default_period);

  // `name` is a BackupStorageLocation.
  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  // Makes the cluster's Backup from the stored velero-backup.json; nullopt when it is skipped.
  Result<std::optional<nlohmann::json>> FromStore(const std::string& location,
                                                  nlohmann::json stored);

  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  LocationStores& stores_;
  const std::chrono::nanoseconds default_period_;
};

}  // namespace arca::controller
