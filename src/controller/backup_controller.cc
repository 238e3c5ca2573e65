#include "controller/backup_controller.h"

#include "api/backup.h"
#include "api/backup_storage_location.h"
#include "api/names.h"
#include "controller/objects.h"
#include "kube/encoding.h"

namespace arca::controller {
namespace {

constexpr char kController[] = "backup";

std::string ScheduleOf(const api::Backup& b) {
  auto it = b.metadata.labels.find("velero.io/schedule-name");
  return it == b.metadata.labels.end() ? "" : it->second;
}

}  // namespace

BackupReconciler::BackupReconciler(kube::Client& client, std::string namespace_name, Clock& clock,
                                   Logger& log, LocationStores& stores, ServerMetrics& metrics,
                                   backup::BackupEngineOptions engine_options, bool queued)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      stores_(stores),
      metrics_(metrics),
      engine_options_(std::move(engine_options)),
      queued_(queued) {}

Result<std::pair<std::string, std::optional<nlohmann::json>>> BackupReconciler::ResolveLocation(
    const std::string& requested) {
  std::string name = requested;
  if (name.empty()) {
    name = "default";
    RETURN_IF_ERROR(client_.List(
        VeleroRef("backupstoragelocations", namespace_), {}, [&](std::string_view item) {
          nlohmann::json j = nlohmann::json::parse(item, nullptr, false);
          if (j.is_object() && j.value("spec", nlohmann::json::object()).value("default", false)) {
            name = j["metadata"].value("name", name);
          }
          return OkStatus();
        }));
  }
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> bsl,
                   GetObject(client_, VeleroRef("backupstoragelocations", namespace_, name)));
  return std::make_pair(name, std::move(bsl));
}

void BackupReconciler::SourceClusterAnnotations(nlohmann::json& annotations) {
  Result<std::string> version = client_.GetRaw("/version", "application/json");
  if (!version.ok()) {
    log_.Warn("Could not read the cluster's version", {{"error", version.status().ToString()}});
    return;
  }
  nlohmann::json v = nlohmann::json::parse(*version, nullptr, false);
  if (!v.is_object()) {
    return;
  }
  annotations["velero.io/source-cluster-k8s-gitversion"] = v.value("gitVersion", "");
  annotations["velero.io/source-cluster-k8s-major-version"] = v.value("major", "");
  annotations["velero.io/source-cluster-k8s-minor-version"] = v.value("minor", "");
}

Result<ReconcileResult> BackupReconciler::Reconcile(const std::string& name) {
  const kube::ResourceRef ref = VeleroRef("backups", namespace_, name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> obj, GetObject(client_, ref));
  if (!obj) {
    return ReconcileResult{};
  }
  Result<api::Backup> parsed = api::BackupFromJson(*obj);
  const std::string phase =
      parsed.ok() ? parsed->status.phase
                  : (*obj).value("status", nlohmann::json::object()).value("phase", std::string());
  const auto now = clock_.Now();
  if (phase == api::backup_phase::kInProgress) {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      if (running_.contains(name)) {
        return ReconcileResult{};
      }
    }
    log_.Warn("Backup left InProgress by a previous server; marking it Failed",
              {{"controller", kController}, {"backup", name}});
    RETURN_IF_ERROR(MergePatch(client_, ref,
                               {{"status",
                                 {{"phase", api::backup_phase::kFailed},
                                  {"failureReason", kOrphanedReason},
                                  {"completionTimestamp", kube::FormatRfc3339(now)}}}}));
    metrics_.BackupFailure(parsed.ok() ? ScheduleOf(*parsed) : "");
    return ReconcileResult{};
  }
  const bool is_new = phase.empty() || phase == api::backup_phase::kNew;
  if (queued_ ? phase != api::backup_phase::kReadyToStart
              : !is_new && phase != api::backup_phase::kReadyToStart) {
    return ReconcileResult{};
  }
  if (!parsed.ok()) {
    RETURN_IF_ERROR(MergePatch(client_, ref,
                               {{"status",
                                 {{"phase", api::backup_phase::kFailedValidation},
                                  {"validationErrors", {parsed.status().message()}}}}}));
    metrics_.BackupValidationFailure("");
    return ReconcileResult{};
  }
  api::Backup backup = std::move(*parsed);
  const std::string schedule = ScheduleOf(backup);
  metrics_.InitSchedule(schedule);

  std::vector<std::string> errors = backup::ValidateBackup(backup);
  ASSIGN_OR_RETURN(auto location, ResolveLocation(backup.spec.storage_location));
  const std::string& location_name = location.first;
  std::optional<api::BackupStorageLocation> bsl;
  if (!location.second) {
    errors.push_back(backup.spec.storage_location.empty()
                         ? "an existing backup storage location wasn't specified at backup "
                           "creation time and the server default '" +
                               location_name +
                               "' doesn't exist. Please address this issue (see `arca "
                               "backup-location -h` for options) and create a new backup."
                         : "a BackupStorageLocation with the name specified in the backup spec "
                           "(" +
                               location_name +
                               ") needs to be created before this backup can be executed");
  } else {
    Result<api::BackupStorageLocation> b = api::BackupStorageLocationFromJson(*location.second);
    if (!b.ok()) {
      errors.push_back("backup storage location " + location_name + ": " + b.status().message());
    } else if (b->IsReadOnly()) {
      errors.push_back("backup can't be created because backup storage location " + location_name +
                       " is currently in read-only mode");
    } else if (b->status.phase != api::bsl_phase::kAvailable) {
      errors.push_back("backup can't be created because backup storage location " + location_name +
                       " is not available (phase \"" + b->status.phase +
                       "\"); see its status.message");
    } else {
      bsl = std::move(*b);
    }
  }
  backup.spec.storage_location = location_name;
  if (!errors.empty()) {
    log_.Warn("Backup failed validation", {{"controller", kController}, {"backup", name}});
    RETURN_IF_ERROR(MergePatch(
        client_, ref,
        {{"spec", {{"storageLocation", location_name}}},
         {"status",
          {{"phase", api::backup_phase::kFailedValidation}, {"validationErrors", errors}}}}));
    metrics_.BackupValidationFailure(schedule);
    return ReconcileResult{};
  }

  // InProgress, with Velero's labels, annotations and timestamps.
  const auto ttl = backup.spec.ttl.value_or(engine_options_.default_ttl);
  nlohmann::json annotations = nlohmann::json::object();
  SourceClusterAnnotations(annotations);
  backup.metadata.labels["velero.io/storage-location"] = api::GetValidName(location_name);
  for (const auto& [k, v] : annotations.items()) {
    backup.metadata.annotations[k] = v.get<std::string>();
  }
  {
    const std::lock_guard<std::mutex> lock(mu_);
    running_.insert(name);
  }
  struct Unmark {
    BackupReconciler* self;
    std::string name;
    ~Unmark() {
      const std::lock_guard<std::mutex> lock(self->mu_);
      self->running_.erase(name);
    }
  } unmark{this, name};
  Status started = MergePatch(
      client_, ref,
      {{"metadata",
        {{"labels", {{"velero.io/storage-location", api::GetValidName(location_name)}}},
         {"annotations", annotations}}},
       {"spec", {{"storageLocation", location_name}}},
       {"status",
        {{"phase", api::backup_phase::kInProgress},
         {"startTimestamp", kube::FormatRfc3339(now)},
         {"expiration",
          kube::FormatRfc3339(now + std::chrono::duration_cast<std::chrono::seconds>(ttl))},
         {"version", 1},
         {"formatVersion", "1.1.0"}}}});
  RETURN_IF_ERROR(started);
  metrics_.BackupAttempt(schedule);
  log_.Info("Backup started",
            {{"controller", kController}, {"backup", name}, {"location", location_name}});

  api::Backup result;
  Result<objstore::ObjectStorePtr> store = stores_.Open(*bsl);
  if (!store.ok()) {
    result = backup;
    result.status.phase = api::backup_phase::kFailed;
    result.status.failure_reason =
        "error opening backup storage location " + location_name + ": " + store.status().message();
    result.status.completion_timestamp = kube::FormatRfc3339(clock_.Now());
  } else {
    backup::BackupEngineOptions options = engine_options_;
    backup::BackupEngine engine(client_, **store, clock_, options);
    auto last_patch = std::chrono::system_clock::time_point{};
    backup::BackupObserver observer;
    observer.on_progress = [&](const api::BackupProgress& p) {
      const auto t = clock_.Now();
      if (t - last_patch < std::chrono::seconds(1)) {
        return;
      }
      last_patch = t;
      Status s =
          MergePatch(client_, ref,
                     {{"status",
                       {{"progress",
                         {{"totalItems", p.total_items}, {"itemsBackedUp", p.items_backed_up}}}}}});
      if (!s.ok()) {
        log_.Warn("Could not patch backup progress", {{"backup", name}, {"error", s.ToString()}});
      }
    };
    result = engine.Run(backup, observer);
  }
  nlohmann::json status = api::BackupToJson(result).value("status", nlohmann::json::object());
  // The result must land: a Backup left InProgress would be failed as orphaned later.
  Status finished = MergePatch(client_, ref, {{"status", status}});
  for (int attempt = 1; !finished.ok() && attempt < 5; ++attempt) {
    clock_.SleepFor(std::chrono::seconds(attempt));
    finished = MergePatch(client_, ref, {{"status", status}});
  }
  const std::string& final_phase = result.status.phase;
  const double seconds = std::chrono::duration<double>(clock_.Now() - now).count();
  if (final_phase == api::backup_phase::kCompleted) {
    metrics_.BackupSuccess(schedule);
  } else if (final_phase == api::backup_phase::kPartiallyFailed) {
    metrics_.BackupPartialFailure(schedule);
  } else if (final_phase == api::backup_phase::kFailedValidation) {
    metrics_.BackupValidationFailure(schedule);
  } else {
    metrics_.BackupFailure(schedule);
  }
  metrics_.BackupDuration(schedule, seconds);
  metrics_.BackupLastStatus(schedule, final_phase == api::backup_phase::kCompleted,
                            std::chrono::duration<double>(clock_.Now().time_since_epoch()).count());
  if (result.status.progress) {
    metrics_.BackupItems(schedule, static_cast<double>(result.status.progress->items_backed_up),
                         static_cast<double>(result.status.errors));
  }
  if (result.status.warnings > 0) {
    metrics_.BackupWarning(schedule);
  }
  log_.Info("Backup finished", {{"controller", kController},
                                {"backup", name},
                                {"phase", final_phase},
                                {"errors", std::to_string(result.status.errors)},
                                {"warnings", std::to_string(result.status.warnings)},
                                {"failureReason", result.status.failure_reason}});
  RETURN_IF_ERROR(finished);
  return ReconcileResult{};
}

}  // namespace arca::controller
