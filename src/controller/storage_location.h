// File: controller/storage_location.h
//
// The backup-storage-location controller (../shared/reference/velero-api.md §9.1). A location is
// validated when it has never been, when its validation frequency has passed since
// lastValidationTime (spec.validationFrequency, else the server's --store-validation-frequency;
// 0 means only once; negative means the server's default), or when its spec changed since this
// process last validated it. Validation checks the spec, opens the store and checks its top-level
// directories (ValidateStore). Success: phase Available, empty message; failure: Unavailable
// with the message "BackupStorageLocation \"<name>\" is unavailable: <reason>" (reasons never
// hold credentials). lastValidationTime is always set. The metric
// velero_backup_location_status_gauge follows.
//
// It also keeps a single default: when several locations have spec.default true, all but the
// most recently created are set to false.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/location_stores.h"
#include "controller/log.h"
#include "controller/metrics.h"
#include "kube/client.h"

namespace arca::controller {

class StorageLocationReconciler : public Reconciler {
 public:
  StorageLocationReconciler(kube::Client& client, std::string namespace_name, Clock& clock,
                            Logger& log, LocationStores& stores, ServerMetrics& metrics,
                            std::chrono::nanoseconds default_frequency);

  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  Status EnsureSingleDefault(const std::string& name);

  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  LocationStores& stores_;
  ServerMetrics& metrics_;
  const std::chrono::nanoseconds default_frequency_;
  std::mutex mu_;
  std::map<std::string, std::string> validated_spec_;  // GUARDED_BY(mu_): spec JSON
};

}  // namespace arca::controller
