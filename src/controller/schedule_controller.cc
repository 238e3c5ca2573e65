#include "controller/schedule_controller.h"

#include <algorithm>

#include "api/names.h"
#include "api/schedule.h"
#include "controller/objects.h"
#include "schedule/scheduler.h"

namespace arca::controller {

ScheduleReconciler::ScheduleReconciler(kube::Client& client, std::string namespace_name,
                                       Clock& clock, Logger& log, bool default_skip_immediately)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      default_skip_immediately_(default_skip_immediately) {}

Result<bool> ScheduleReconciler::BackupInFlight(const std::string& schedule) {
  kube::ListOptions options;
  options.label_selector = "velero.io/schedule-name=" + api::GetValidName(schedule);
  bool in_flight = false;
  RETURN_IF_ERROR(
      client_.List(VeleroRef("backups", namespace_), options, [&](std::string_view item) -> Status {
        const nlohmann::json b = nlohmann::json::parse(item, nullptr, false);
        const std::string phase =
            b.is_object() && b.contains("status") ? b["status"].value("phase", "") : "";
        if (phase.empty() || phase == api::backup_phase::kNew ||
            phase == api::backup_phase::kQueued || phase == api::backup_phase::kReadyToStart ||
            phase == api::backup_phase::kInProgress) {
          in_flight = true;
        }
        return OkStatus();
      }));
  return in_flight;
}

Result<ReconcileResult> ScheduleReconciler::Reconcile(const std::string& name) {
  const kube::ResourceRef ref = VeleroRef("schedules", namespace_, name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> obj, GetObject(client_, ref));
  if (!obj) {
    return ReconcileResult{};
  }
  auto schedule = api::ScheduleFromJson(*obj);
  if (!schedule.ok()) {
    // The CRD schema keeps most of this out; what remains is reported on the object.
    RETURN_IF_ERROR(MergePatch(
        client_, ref,
        {{"status",
          {{"phase", api::schedule_phase::kFailedValidation},
           {"validationErrors", nlohmann::json::array({schedule.status().message()})}}}}));
    return ReconcileResult{};
  }
  if (schedule->spec.paused) {
    return ReconcileResult{};  // Velero leaves paused schedules alone entirely
  }
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.Now());
  ASSIGN_OR_RETURN(bool in_flight, BackupInFlight(name));
  const schedule::ScheduleActions actions =
      schedule::ReconcileSchedule(*schedule, now, in_flight, default_skip_immediately_);

  if (actions.set_skip_immediately.has_value()) {
    RETURN_IF_ERROR(
        MergePatch(client_, ref, {{"spec", {{"skipImmediately", *actions.set_skip_immediately}}}}));
  }
  if (actions.backup.has_value()) {
    const nlohmann::json backup = api::BackupToJson(*actions.backup);
    auto created = client_.Create(VeleroRef("backups", namespace_), backup.dump());
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
      return Status(created.status().code(),
                    "creating the backup of schedule " + name + ": " + created.status().message());
    }
    log_.Info("Created a scheduled backup", {{"controller", "schedule"},
                                             {"schedule", name},
                                             {"backup", actions.backup->metadata.name}});
  }
  nlohmann::json status = {{"phase", actions.status.phase}};
  status["validationErrors"] = actions.status.validation_errors.empty()
                                   ? nlohmann::json(nullptr)
                                   : nlohmann::json(actions.status.validation_errors);
  if (!actions.status.last_backup.empty()) {
    status["lastBackup"] = actions.status.last_backup;
  }
  if (!actions.status.last_skipped.empty()) {
    status["lastSkipped"] = actions.status.last_skipped;
  }
  RETURN_IF_ERROR(MergePatch(client_, ref, {{"status", status}}));

  ReconcileResult result{.requeue_after = kResync};
  if (actions.next_run.has_value()) {
    // One second past the run, since a run is due only once its time has passed.
    const auto until = *actions.next_run + std::chrono::seconds(1) - now;
    result.requeue_after = std::clamp<std::chrono::nanoseconds>(until, std::chrono::seconds(1),
                                                                std::chrono::nanoseconds(kResync));
  }
  return result;
}

}  // namespace arca::controller
