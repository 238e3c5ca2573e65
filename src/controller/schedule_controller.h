// File: controller/schedule_controller.h
//
// The schedule controller (../shared/reference/velero-api.md §7): applies the decisions of
// schedule/scheduler.h to the cluster. For a Schedule that is not paused it writes
// spec.skipImmediately when it must change, creates the Backup that is due (skipped while a Backup
// of the schedule is still New or InProgress), and writes the status (phase, validationErrors,
// lastBackup, lastSkipped). It comes back every minute, or at the next run when that is sooner.
#pragma once

#include <chrono>
#include <string>

#include "common/clock.h"
#include "controller/controller.h"
#include "controller/log.h"
#include "kube/client.h"

namespace arca::controller {

class ScheduleReconciler : public Reconciler {
 public:
  static constexpr std::chrono::minutes kResync{1};

  // `default_skip_immediately`: the server's --schedule-skip-immediately.
  ScheduleReconciler(kube::Client& client, std::string namespace_name, Clock& clock, Logger& log,
                     bool default_skip_immediately);

  Result<ReconcileResult> Reconcile(const std::string& name) override;

 private:
  // Whether a Backup labelled with this schedule is in phase "", New, Queued, ReadyToStart or
  // InProgress.
  Result<bool> BackupInFlight(const std::string& schedule);

  kube::Client& client_;
  const std::string namespace_;
  Clock& clock_;
  Logger& log_;
  const bool default_skip_immediately_;
};

}  // namespace arca::controller
