#include "controller/restore_controller.h"

#include "api/backup.h"
#include "api/backup_storage_location.h"
#include "api/names.h"
#include "api/restore.h"
#include "controller/objects.h"
#include "kube/encoding.h"

namespace arca::controller {
namespace {

constexpr char kController[] = "restore";

}  // namespace

RestoreReconciler::RestoreReconciler(kube::Client& client, std::string namespace_name, Clock& clock,
                                     Logger& log, LocationStores& stores, ServerMetrics& metrics,
                                     restore::RestoreOptions engine_options)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      stores_(stores),
      metrics_(metrics),
      engine_options_(std::move(engine_options)) {}

Result<objstore::ObjectStorePtr> RestoreReconciler::StoreOfBackup(
    const std::string& backup_name, std::vector<std::string>* errors) {
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> backup_json,
                   GetObject(client_, VeleroRef("backups", namespace_, backup_name)));
  if (!backup_json) {
    errors->push_back("backup " + backup_name + " not found");
    return NotFoundError(errors->back());
  }
  ASSIGN_OR_RETURN(api::Backup backup, api::BackupFromJson(*backup_json));
  const std::string& location = backup.spec.storage_location;
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> bsl_json,
                   GetObject(client_, VeleroRef("backupstoragelocations", namespace_, location)));
  if (!bsl_json) {
    errors->push_back("backup storage location " + location + " of backup " + backup_name +
                      " not found");
    return NotFoundError(errors->back());
  }
  ASSIGN_OR_RETURN(api::BackupStorageLocation bsl, api::BackupStorageLocationFromJson(*bsl_json));
  if (bsl.status.phase != api::bsl_phase::kAvailable) {
    errors->push_back("backup storage location " + location + " is not available (phase \"" +
                      bsl.status.phase + "\"); see its status.message");
    return FailedPreconditionError(errors->back());
  }
  return stores_.Open(bsl);
}

Status RestoreReconciler::Finalize(const std::string& name, const nlohmann::json& restore) {
  const std::string backup_name =
      restore.value("spec", nlohmann::json::object()).value("backupName", std::string());
  std::vector<std::string> errors;
  Result<objstore::ObjectStorePtr> store = StoreOfBackup(backup_name, &errors);
  if (store.ok()) {
    ASSIGN_OR_RETURN(objstore::ListPage page, (*store)->ListAll("restores/" + name + "/", ""));
    std::vector<objstore::ObjectKey> keys;
    for (const auto& o : page.objects) {
      keys.push_back(o.key);
    }
    if (!keys.empty()) {
      RETURN_IF_ERROR((*store)->DeleteMany(keys));
    }
  } else {
    log_.Warn(
        "Restore files not deleted: no location to delete them from",
        {{"controller", kController}, {"restore", name}, {"reason", store.status().message()}});
  }
  nlohmann::json finalizers = nlohmann::json::array();
  for (const auto& f : restore["metadata"].value("finalizers", nlohmann::json::array())) {
    if (f != kFinalizer) {
      finalizers.push_back(f);
    }
  }
  return MergePatch(client_, VeleroRef("restores", namespace_, name),
                    {{"metadata", {{"finalizers", finalizers}}}});
}

RestoreTargets RestoreTargetsOf(const api::RestoreSpec& spec) {
  RestoreTargets out;
  for (const std::string& ns : spec.included_namespaces) {
    if (ns == "*" || ns.find_first_of("*?[") != std::string::npos) {
      out.all = true;
      return out;
    }
    auto mapped = spec.namespace_mapping.find(ns);
    out.namespaces.insert(mapped == spec.namespace_mapping.end() ? ns : mapped->second);
  }
  out.all = out.namespaces.empty();
  return out;
}

bool TargetsOverlap(const RestoreTargets& a, const RestoreTargets& b) {
  if (a.all || b.all) {
    return true;
  }
  for (const std::string& ns : a.namespaces) {
    if (b.namespaces.contains(ns)) {
      return true;
    }
  }
  return false;
}

Result<ReconcileResult> RestoreReconciler::Reconcile(const std::string& name) {
  const kube::ResourceRef ref = VeleroRef("restores", namespace_, name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> obj, GetObject(client_, ref));
  if (!obj) {
    return ReconcileResult{};
  }
  const nlohmann::json meta = obj->value("metadata", nlohmann::json::object());
  const nlohmann::json finalizers = meta.value("finalizers", nlohmann::json::array());
  const bool has_finalizer =
      std::find(finalizers.begin(), finalizers.end(), kFinalizer) != finalizers.end();
  if (meta.contains("deletionTimestamp")) {
    const std::lock_guard<std::mutex> lock(mu_);
    if (has_finalizer && !running_.contains(name)) {
      RETURN_IF_ERROR(Finalize(name, *obj));
    }
    return ReconcileResult{};
  }
  Result<api::Restore> parsed = api::RestoreFromJson(*obj);
  const std::string phase =
      parsed.ok() ? parsed->status.phase
                  : obj->value("status", nlohmann::json::object()).value("phase", std::string());
  const std::string schedule = parsed.ok() ? parsed->spec.schedule_name : "";
  const auto now = clock_.Now();
  if (phase == api::restore_phase::kInProgress) {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      if (running_.contains(name)) {
        return ReconcileResult{};
      }
    }
    log_.Warn("Restore left InProgress by a previous server; marking it Failed",
              {{"controller", kController}, {"restore", name}});
    RETURN_IF_ERROR(MergePatch(client_, ref,
                               {{"status",
                                 {{"phase", api::restore_phase::kFailed},
                                  {"failureReason", kOrphanedReason},
                                  {"completionTimestamp", kube::FormatRfc3339(now)}}}}));
    metrics_.RestoreFailed(schedule);
    return ReconcileResult{};
  }
  if (!phase.empty() && phase != api::restore_phase::kNew) {
    return ReconcileResult{};
  }
  metrics_.InitSchedule(schedule);
  std::vector<std::string> errors;
  if (!parsed.ok()) {
    errors.push_back(parsed.status().message());
  }
  api::Restore r = parsed.ok() ? std::move(*parsed) : api::Restore{};
  if (parsed.ok() && r.spec.backup_name.empty() && !r.spec.schedule_name.empty()) {
    // The most recent Completed backup of the schedule (by startTimestamp).
    std::string best_time;
    kube::ListOptions by_schedule;
    by_schedule.label_selector =
        "velero.io/schedule-name=" + api::GetValidName(r.spec.schedule_name);
    RETURN_IF_ERROR(
        client_.List(VeleroRef("backups", namespace_), by_schedule, [&](std::string_view item) {
          nlohmann::json b = nlohmann::json::parse(item, nullptr, false);
          if (!b.is_object()) {
            return OkStatus();
          }
          nlohmann::json st = b.value("status", nlohmann::json::object());
          std::string t = st.value("startTimestamp", std::string());
          if (st.value("phase", std::string()) == "Completed" && t >= best_time) {
            best_time = t;
            r.spec.backup_name = b["metadata"].value("name", "");
          }
          return OkStatus();
        }));
    if (r.spec.backup_name.empty()) {
      errors.push_back("No backups found for schedule " + r.spec.schedule_name);
    } else {
      // The engine's checks take the chosen backup as the source.
      api::RestoreSpec chosen = r.spec;
      chosen.schedule_name.clear();
      errors = restore::ValidateRestoreSpec(chosen);
    }
  } else if (parsed.ok()) {
    errors = restore::ValidateRestoreSpec(r.spec);
  }
  objstore::ObjectStorePtr store;
  if (errors.empty()) {
    Result<objstore::ObjectStorePtr> s = StoreOfBackup(r.spec.backup_name, &errors);
    if (s.ok()) {
      store = std::move(*s);
    } else if (errors.empty()) {
      errors.push_back("cannot open the location of backup " + r.spec.backup_name + ": " +
                       s.status().message());
    }
  }
  if (!errors.empty()) {
    RETURN_IF_ERROR(MergePatch(
        client_, ref,
        {{"status",
          {{"phase", api::restore_phase::kFailedValidation}, {"validationErrors", errors}}}}));
    metrics_.RestoreValidationFailed(schedule);
    log_.Warn("Restore failed validation", {{"controller", kController}, {"restore", name}});
    return ReconcileResult{};
  }

  {
    const RestoreTargets targets = RestoreTargetsOf(r.spec);
    const std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [other, other_targets] : running_) {
      if (TargetsOverlap(targets, other_targets)) {
        log_.Debug("Restore waits for an overlapping one",
                   {{"controller", kController}, {"restore", name}, {"running", other}});
        return ReconcileResult{.requeue_after = std::chrono::seconds(1)};
      }
    }
    running_.emplace(name, targets);
  }
  struct Unmark {
    RestoreReconciler* self;
    std::string name;
    ~Unmark() {
      const std::lock_guard<std::mutex> lock(self->mu_);
      self->running_.erase(name);
    }
  } unmark{this, name};
  nlohmann::json new_finalizers = finalizers;
  if (!has_finalizer) {
    new_finalizers.push_back(kFinalizer);
  }
  RETURN_IF_ERROR(MergePatch(client_, ref,
                             {{"metadata", {{"finalizers", new_finalizers}}},
                              {"spec", {{"backupName", r.spec.backup_name}}},
                              {"status",
                               {{"phase", api::restore_phase::kInProgress},
                                {"startTimestamp", kube::FormatRfc3339(now)}}}}));
  metrics_.RestoreAttempt(schedule);
  log_.Info("Restore started",
            {{"controller", kController}, {"restore", name}, {"backup", r.spec.backup_name}});

  class Progress : public restore::RestoreObserver {
   public:
    Progress(RestoreReconciler& self, const kube::ResourceRef& ref) : self_(self), ref_(ref) {}
    void OnProgress(int64_t done, int64_t total) override {
      const auto t = self_.clock_.Now();
      if (t - last_ < std::chrono::seconds(1)) {
        return;
      }
      last_ = t;
      Status s = MergePatch(
          self_.client_, ref_,
          {{"status", {{"progress", {{"totalItems", total}, {"itemsRestored", done}}}}}});
      if (!s.ok()) {
        self_.log_.Warn("Could not patch restore progress", {{"error", s.ToString()}});
      }
    }

   private:
    RestoreReconciler& self_;
    const kube::ResourceRef& ref_;
    std::chrono::system_clock::time_point last_{};
  } progress(*this, ref);

  restore::RestoreEngine engine(client_, store.get(), clock_, engine_options_);
  // The schedule is resolved: the engine, which refuses scheduleName without a server, gets the
  // backup alone.
  api::Restore for_engine = r;
  for_engine.spec.schedule_name.clear();
  restore::RestoreOutcome out = engine.Run(std::move(for_engine), &progress);
  out.restore.spec.schedule_name = r.spec.schedule_name;
  nlohmann::json status = api::RestoreToJson(out.restore).value("status", nlohmann::json::object());
  Status finished = MergePatch(client_, ref, {{"status", status}});
  for (int attempt = 1; !finished.ok() && attempt < 5; ++attempt) {
    clock_.SleepFor(std::chrono::seconds(attempt));
    finished = MergePatch(client_, ref, {{"status", status}});
  }
  const std::string& final_phase = out.restore.status.phase;
  if (final_phase == api::restore_phase::kCompleted) {
    metrics_.RestoreSuccess(schedule);
  } else if (final_phase == api::restore_phase::kPartiallyFailed) {
    metrics_.RestorePartialFailure(schedule);
  } else if (final_phase == api::restore_phase::kFailedValidation) {
    metrics_.RestoreValidationFailed(schedule);
  } else {
    metrics_.RestoreFailed(schedule);
  }
  log_.Info("Restore finished", {{"controller", kController},
                                 {"restore", name},
                                 {"phase", final_phase},
                                 {"created", std::to_string(out.created)},
                                 {"errors", std::to_string(out.restore.status.errors)},
                                 {"failureReason", out.restore.status.failure_reason}});
  RETURN_IF_ERROR(finished);
  return ReconcileResult{};
}

}  // namespace arca::controller
