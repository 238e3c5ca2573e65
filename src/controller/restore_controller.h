// File: controller/restore_controller.h
//
// The restore controller (../shared/reference/velero-api.md §5.1) for Restores:
//   - phase "" or New: the spec is validated (restore/engine.h ValidateRestoreSpec); with
//     spec.scheduleName the most recent Completed backup of that schedule is chosen and written
//     into spec.backupName; the backup must exist and its location must exist and be Available
//     (ReadOnly locations serve restores). Failures end FailedValidation with every reason.
//   - Otherwise the Restore gets the finalizer restores.velero.io/external-resources-finalizer,
//     phase InProgress and startTimestamp; the restore engine runs against the backup's
//     location (writing restores/<name>/ there), with status.progress patched at most once a
//     second; the final status is patched in.
//   - A Restore being deleted: its files under restores/<name>/ are deleted from the location
//     (when the backup and location still exist), then the finalizer is removed.
//   - Crash safety: a Restore found InProgress that this process is not running is marked
//     Failed with a failureReason saying the server stopped during it.
//   - Up to `concurrent` restores run at once (the server's --concurrent-restores, default 1 as
//     in Velero), never two whose target namespaces overlap (RestoreTargetsOf): a New restore
//     that would overlap a running one waits (it is looked at again every second).
// Metrics: velero_restore_{attempt,success,partial_failure,failed,validation_failed}_total.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/location_stores.h"
#include "controller/log.h"
#include "controller/metrics.h"
#include "kube/client.h"
#include "restore/engine.h"

namespace arca::controller {

// The namespaces a restore may write to, after its namespace mapping. `all` when the include
// list is empty, "*" or uses globs (the backup's contents would be needed to know more).
// Cluster-scoped objects are not considered.
struct RestoreTargets {
  bool all = false;
  std::set<std::string> namespaces;
};
RestoreTargets RestoreTargetsOf(const api::RestoreSpec& spec);
bool TargetsOverlap(const RestoreTargets& a, const RestoreTargets& b);

class RestoreReconciler : public Reconciler {
 public:
  static constexpr char kFinalizer[] = "restores.velero.io/external-resources-finalizer";
  static constexpr char kOrphanedReason[] =
      "the server stopped while this restore was in progress (found InProgress when the server "
      "started); create the restore again";

  RestoreReconciler(kube::Client& client, std::string namespace_name, Clock& clock, Logger& log,
                    LocationStores& stores, ServerMetrics& metrics,
                    restore::RestoreOptions engine_options);

  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  // The backup's location as an open store, or the reason there is none.
  Result<objstore::ObjectStorePtr> StoreOfBackup(const std::string& backup_name,
                                                 std::vector<std::string>* errors);
  Status Finalize(const std::string& name, const nlohmann::json& restore);

  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  LocationStores& stores_;
  ServerMetrics& metrics_;
  const restore::RestoreOptions engine_options_;
  std::mutex mu_;
  std::map<std::string, RestoreTargets> running_;  // GUARDED_BY(mu_)
};

}  // namespace arca::controller
