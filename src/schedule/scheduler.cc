#include "schedule/scheduler.h"

#include <date/date.h>

#include "api/names.h"
#include "kube/encoding.h"

namespace arca::schedule {
namespace {

constexpr char kScheduleNameLabel[] = "velero.io/schedule-name";

std::optional<SysSeconds> ParseTime(const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  auto t = kube::ParseRfc3339(text);
  if (!t.ok()) {
    return std::nullopt;
  }
  return std::chrono::time_point_cast<std::chrono::seconds>(*t);
}

std::string FormatTime(SysSeconds t) { return kube::FormatRfc3339(t); }

}  // namespace

std::vector<std::string> ValidateSchedule(const api::Schedule& schedule) {
  if (schedule.spec.schedule.empty()) {
    return {"Schedule must be a non-empty valid Cron expression"};
  }
  auto cron = ParseCron(schedule.spec.schedule);
  if (!cron.ok()) {
    return {"invalid schedule: " + cron.status().message()};
  }
  return {};
}

api::Backup BackupFromSchedule(const api::Schedule& schedule, SysSeconds now) {
  api::Backup backup;
  backup.spec = schedule.spec.template_;
  backup.metadata.namespace_ = schedule.metadata.namespace_;
  backup.metadata.name = schedule.metadata.name + "-" + date::format("%Y%m%d%H%M%S", now);
  backup.metadata.labels = schedule.spec.template_.template_labels.empty()
                               ? schedule.metadata.labels
                               : schedule.spec.template_.template_labels;
  backup.metadata.labels[kScheduleNameLabel] = api::GetValidName(schedule.metadata.name);
  backup.metadata.annotations = schedule.metadata.annotations;
  backup.spec.template_labels.clear();
  if (schedule.spec.use_owner_references_in_backup.value_or(false)) {
    backup.metadata.owner_references = nlohmann::json::array({{
        {"apiVersion", api::kVeleroApiVersion},
        {"kind", "Schedule"},
        {"name", schedule.metadata.name},
        {"uid", schedule.metadata.uid},
        {"controller", true},
    }});
  }
  return backup;
}

ScheduleActions ReconcileSchedule(const api::Schedule& schedule, SysSeconds now,
                                  bool backup_in_flight, bool default_skip_immediately) {
  ScheduleActions out;
  if (schedule.spec.paused) {
    return out;
  }
  out.reconciled = true;
  out.status = schedule.status;
  bool skip = schedule.spec.skip_immediately.value_or(default_skip_immediately);
  if (skip) {
    out.status.last_skipped = FormatTime(now);
    out.set_skip_immediately = false;
  } else if (!schedule.spec.skip_immediately.has_value()) {
    out.set_skip_immediately = default_skip_immediately;
  }

  out.status.validation_errors = ValidateSchedule(schedule);
  if (!out.status.validation_errors.empty()) {
    out.status.phase = api::schedule_phase::kFailedValidation;
    return out;
  }
  out.status.phase = api::schedule_phase::kEnabled;
  auto cron = ParseCron(schedule.spec.schedule);  // valid: checked above

  std::optional<SysSeconds> reference = ParseTime(out.status.last_backup);
  if (!reference) {
    reference = ParseTime(schedule.metadata.creation_timestamp);
  }
  if (auto skipped = ParseTime(out.status.last_skipped);
      skipped && (!reference || *skipped > *reference)) {
    reference = skipped;
  }
  if (!reference) {
    reference = now;  // a schedule not yet stored has no creation time: start counting now
  }
  const std::optional<SysSeconds> next = cron->Next(*reference);
  const bool due = next.has_value() && now > *next;
  if (due && !backup_in_flight) {
    out.backup = BackupFromSchedule(schedule, now);
    out.status.last_backup = FormatTime(now);
    out.next_run = cron->Next(now);
  } else {
    out.next_run = due ? cron->Next(now) : next;
  }
  return out;
}

Result<api::Backup> LatestScheduledBackup(const std::vector<api::Backup>& backups,
                                          const std::string& schedule,
                                          bool allow_partially_failed) {
  const api::Backup* best = nullptr;
  std::optional<SysSeconds> best_time;
  const std::string label = api::GetValidName(schedule);
  for (const api::Backup& b : backups) {
    auto it = b.metadata.labels.find(kScheduleNameLabel);
    if (it == b.metadata.labels.end() || it->second != label) {
      continue;
    }
    const bool usable =
        b.status.phase == api::backup_phase::kCompleted ||
        (allow_partially_failed && b.status.phase == api::backup_phase::kPartiallyFailed);
    if (!usable) {
      continue;
    }
    auto started = ParseTime(b.status.start_timestamp);
    if (best == nullptr || (started && (!best_time || *started > *best_time))) {
      best = &b;
      best_time = started;
    }
  }
  if (best == nullptr) {
    return NotFoundError(
        "no " + std::string(allow_partially_failed ? "Completed or PartiallyFailed" : "Completed") +
        " backup of schedule " + schedule + " was found");
  }
  return *best;
}

}  // namespace arca::schedule
