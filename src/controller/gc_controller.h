// File: controller/gc_controller.h
//
// The garbage-collection controller "gc" (../shared/reference/velero-api.md §8.1). It looks at
// every Backup when it appears and again every --garbage-collection-frequency (the controller's
// resync). A Backup is expired when status.expiration is set and not after now. For an expired
// Backup it reads the location named by spec.storageLocation:
//   - missing                    -> label velero.io/gc-failure=BSLNotFound, nothing deleted;
//   - cannot be read             -> label velero.io/gc-failure=BSLCannotGet, nothing deleted;
//   - not Available              -> kUnavailable (the controller retries), no label;
//   - accessMode ReadOnly        -> label velero.io/gc-failure=BSLReadOnly, nothing deleted;
//   - otherwise the label is removed and a DeleteBackupRequest is created (generateName
//     "<backup>-", labels velero.io/backup-name and velero.io/backup-uid), unless one for this
//     backup (same labels) is already in phase "", New or InProgress.
// The backup-deletion controller then deletes the stored data, the Restores and the Backup.
#pragma once

#include <string>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/log.h"
#include "kube/client.h"

namespace arca::controller {

class GcReconciler : public Reconciler {
 public:
  GcReconciler(kube::Client& client, std::string namespace_name, Clock& clock, Logger& log);

  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  // Sets (or, with an empty reason, removes) the velero.io/gc-failure label when it differs.
  Status SetFailureLabel(const nlohmann::json& backup, const std::string& reason);
  // Whether a DeleteBackupRequest labelled with this backup's name and uid is "", New or
  // InProgress.
  Result<bool> DeletionInFlight(const std::string& backup, const std::string& uid);

  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
};

}  // namespace arca::controller
