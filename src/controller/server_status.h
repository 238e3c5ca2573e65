// File: controller/server_status.h
//
// The server-status-request controller (../shared/reference/velero-api.md §1.8): a New
// ServerStatusRequest gets phase Processed, processedTimestamp and serverVersion (and an empty
// plugin list: Arca has no plugins); a Processed one is deleted once it is a minute old.
#pragma once

#include <chrono>
#include <string>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/log.h"
#include "kube/client.h"

namespace arca::controller {

class ServerStatusReconciler : public Reconciler {
 public:
  static constexpr std::chrono::minutes kTtl{1};

  // `server_version` as `arca version` prints it, e.g. "v0.1.0".
  ServerStatusReconciler(kube::Client& client, std::string namespace_name, Clock& clock,
                         Logger& log, std::string server_version);

  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  const std::string version_;
};

}  // namespace arca::controller
