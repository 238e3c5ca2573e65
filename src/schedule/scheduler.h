// File: schedule/scheduler.h
//
// What the Schedule controller does with one Schedule at one instant, as a pure function
// (../shared/reference/velero-api.md §7), so the rules are tested without a cluster or a clock:
//   1. A paused schedule is left alone.
//   2. spec.skipImmediately unset takes the server's default; when true, the run due now is
//      skipped: status.lastSkipped = now and skipImmediately is reset to false.
//   3. The cron expression is validated: phase Enabled, or FailedValidation with the reasons.
//   4. The schedule is due when now is after the first run following the reference time
//      (lastBackup, else creationTimestamp, replaced by lastSkipped when that is later). Missed
//      runs are not caught up one by one: a schedule that was down for a day makes one backup.
//   5. When due, and no Backup of this schedule is still New or InProgress, a Backup is made
//      from spec.template: named <schedule>-<YYYYMMDDhhmmss> (UTC), labelled
//      velero.io/schedule-name, with the template's labels (else the schedule's), the schedule's
//      annotations, and an owner reference when useOwnerReferencesInBackup is true; and
//      status.lastBackup = now.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "api/backup.h"
#include "api/schedule.h"
#include "schedule/cron.h"

namespace arca::schedule {

struct ScheduleActions {
  // False for a paused schedule: nothing else is set.
  bool reconciled = false;
  // spec.skipImmediately to write, when it must change.
  std::optional<bool> set_skip_immediately;
  // The status to write (phase, validationErrors, lastBackup, lastSkipped), complete.
  api::ScheduleStatus status;
  // The Backup to create, if any.
  std::optional<api::Backup> backup;
  // The next run after this reconcile (for `describe` and to requeue); nullopt when invalid.
  std::optional<SysSeconds> next_run;
};

// `backup_in_flight`: a Backup labelled with this schedule is in phase "", New or InProgress.
ScheduleActions ReconcileSchedule(const api::Schedule& schedule, SysSeconds now,
                                  bool backup_in_flight, bool default_skip_immediately);

// The Backup a schedule makes at `now` (step 5 above), also used by
// `arca backup create --from-schedule`.
api::Backup BackupFromSchedule(const api::Schedule& schedule, SysSeconds now);

// The validation errors of a schedule's cron expression, as Velero words them.
std::vector<std::string> ValidateSchedule(const api::Schedule& schedule);

// The backup `restore create --from-schedule` uses: the most recent (by status.startTimestamp)
// Completed backup labelled velero.io/schedule-name=<schedule>; with `allow_partially_failed`,
// PartiallyFailed ones count too. kNotFound naming the schedule when there is none.
Result<api::Backup> LatestScheduledBackup(const std::vector<api::Backup>& backups,
                                          const std::string& schedule, bool allow_partially_failed);

}  // namespace arca::schedule
