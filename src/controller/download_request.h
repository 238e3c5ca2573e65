// File: controller/download_request.h
//
// The download-request controller (../shared/reference/velero-api.md §1.7). A New
// DownloadRequest is resolved to its backup (through the restore's spec.backupName for Restore*
// kinds), the backup to its BackupStorageLocation, and the target kind to the object's key
// (§2); the request then gets a URL valid for 10 minutes (a pre-signed S3 URL, or a file:// URL
// for a filesystem location), expiration = now + 10m, and phase Processed. Requests past their
// expiration, in any phase, are deleted. A request that cannot be resolved (unknown kind, missing
// backup or location) is retried with backoff until it expires, as in Velero, and logged.
#pragma once

#include <chrono>
#include <string>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/location_stores.h"
#include "controller/log.h"
#include "kube/client.h"

namespace arca::controller {

class DownloadRequestReconciler : public Reconciler {
 public:
  static constexpr std::chrono::minutes kUrlTtl{10};

  DownloadRequestReconciler(kube::Client& client, std::string namespace_name, Clock& clock,
                            Logger& log, LocationStores& stores);

  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  LocationStores& stores_;
};

}  // namespace arca::controller
