#include "controller/backup_deletion.h"

#include "api/backup.h"
#include "api/backup_storage_location.h"
#include "api/names.h"
#include "api/requests.h"
#include "api/restore.h"
#include "controller/objects.h"
#include "kube/encoding.h"

namespace arca::controller {
namespace {

constexpr char kRestoreFinalizer[] = "restores.velero.io/external-resources-finalizer";
constexpr char kController[] = "backup-deletion";

}  // namespace

BackupDeletionReconciler::BackupDeletionReconciler(kube::Client& client, std::string namespace_name,
                                                   Clock& clock, Logger& log,
                                                   LocationStores& stores, ServerMetrics& metrics)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      stores_(stores),
      metrics_(metrics) {}

Status BackupDeletionReconciler::Finish(const std::string& name,
                                        const std::vector<std::string>& errors) {
  nlohmann::json status = {{"phase", api::request_phase::kProcessed}};
  status["errors"] = errors.empty() ? nlohmann::json(nullptr) : nlohmann::json(errors);
  return MergePatch(client_, VeleroRef("deletebackuprequests", namespace_, name),
                    {{"status", status}});
}

Status BackupDeletionReconciler::DeleteDir(objstore::ObjectStore& store, const std::string& dir) {
  ASSIGN_OR_RETURN(objstore::ListPage page, store.ListAll(dir, ""));
  std::vector<objstore::ObjectKey> keys;
  keys.reserve(page.objects.size());
  for (const objstore::ObjectInfo& o : page.objects) {
    keys.push_back(o.key);
  }
  if (keys.empty()) {
    return OkStatus();
  }
  return store.DeleteMany(keys);
}

Result<ReconcileResult> BackupDeletionReconciler::Reconcile(const std::string& name) {
  const kube::ResourceRef ref = VeleroRef("deletebackuprequests", namespace_, name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> obj, GetObject(client_, ref));
  if (!obj) {
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(api::DeleteBackupRequest dbr, api::DeleteBackupRequestFromJson(*obj));
  const auto now = clock_.Now();
  if (dbr.phase == api::request_phase::kInProgress || dbr.phase == api::request_phase::kProcessed) {
    auto created = ParseTime(dbr.metadata.creation_timestamp);
    if (created && now - *created >= kKeepProcessed) {
      RETURN_IF_ERROR(DeleteObject(client_, ref));
      return ReconcileResult{};
    }
    return ReconcileResult{.requeue_after = created ? *created + kKeepProcessed - now
                                                    : std::chrono::nanoseconds(kKeepProcessed)};
  }
  if (dbr.backup_name.empty()) {
    RETURN_IF_ERROR(Finish(name, {"spec.backupName is required"}));
    return ReconcileResult{};
  }
  const std::string label_name = api::GetValidName(dbr.backup_name);
  // Other requests for the same backup go away: this one does the work.
  std::vector<std::string> others;
  kube::ListOptions by_name;
  by_name.label_selector = "velero.io/backup-name=" + label_name;
  RETURN_IF_ERROR(client_.List(VeleroRef("deletebackuprequests", namespace_), by_name,
                               [&](std::string_view item) {
                                 nlohmann::json j = nlohmann::json::parse(item, nullptr, false);
                                 if (j.is_object() && j.contains("metadata")) {
                                   std::string n = j["metadata"].value("name", "");
                                   if (!n.empty() && n != name) {
                                     others.push_back(std::move(n));
                                   }
                                 }
                                 return OkStatus();
                               }));
  for (const std::string& other : others) {
    RETURN_IF_ERROR(DeleteObject(client_, VeleroRef("deletebackuprequests", namespace_, other)));
  }

  const kube::ResourceRef backup_ref = VeleroRef("backups", namespace_, dbr.backup_name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> backup_json, GetObject(client_, backup_ref));
  if (!backup_json) {
    RETURN_IF_ERROR(Finish(name, {"backup not found"}));
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(api::Backup backup, api::BackupFromJson(*backup_json));
  const std::string schedule = backup.metadata.labels.contains("velero.io/schedule-name")
                                   ? backup.metadata.labels.at("velero.io/schedule-name")
                                   : "";
  if (backup.status.phase == api::backup_phase::kInProgress) {
    RETURN_IF_ERROR(Finish(name, {"backup is still in progress"}));
    return ReconcileResult{};
  }
  const std::string& location = backup.spec.storage_location;
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> bsl_json,
                   GetObject(client_, VeleroRef("backupstoragelocations", namespace_, location)));
  if (!bsl_json) {
    RETURN_IF_ERROR(Finish(name, {"backup storage location " + location + " not found"}));
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(api::BackupStorageLocation bsl, api::BackupStorageLocationFromJson(*bsl_json));
  if (bsl.IsReadOnly()) {
    RETURN_IF_ERROR(Finish(name, {"cannot delete backup because backup storage location " +
                                  location + " is currently in read-only mode"}));
    return ReconcileResult{};
  }
  if (bsl.status.phase != api::bsl_phase::kAvailable) {
    RETURN_IF_ERROR(Finish(
        name,
        {"cannot delete backup because backup storage location " + location + " is currently in " +
         (bsl.status.phase.empty() ? "an unknown" : bsl.status.phase) + " state"}));
    return ReconcileResult{};
  }

  // Start: the request InProgress with its labels, the backup Deleting.
  RETURN_IF_ERROR(MergePatch(
      client_, ref,
      {{"metadata",
        {{"labels",
          {{"velero.io/backup-name", label_name}, {"velero.io/backup-uid", backup.metadata.uid}}}}},
       {"status", {{"phase", api::request_phase::kInProgress}}}}));
  RETURN_IF_ERROR(
      MergePatch(client_, backup_ref, {{"status", {{"phase", api::backup_phase::kDeleting}}}}));
  metrics_.BackupDeletionAttempt(schedule);
  log_.Info("Deleting backup", {{"controller", kController},
                                {"name", name},
                                {"backup", dbr.backup_name},
                                {"location", location}});

  std::vector<std::string> errors;
  Result<objstore::ObjectStorePtr> store = stores_.Open(bsl);
  if (!store.ok()) {
    errors.push_back("error opening backup storage location " + location + ": " +
                     store.status().message());
  } else {
    Status s = DeleteDir(**store, "backups/" + dbr.backup_name + "/");
    if (!s.ok()) {
      errors.push_back("error deleting backup's data from object storage: " + s.message());
    }
  }

  // Restores of this backup: their files, then the CR.
  std::vector<std::pair<std::string, bool>> restores;  // name, has our finalizer
  Status listed = client_.List(VeleroRef("restores", namespace_), {}, [&](std::string_view item) {
    nlohmann::json j = nlohmann::json::parse(item, nullptr, false);
    Result<api::Restore> r =
        j.is_object() ? api::RestoreFromJson(j) : Result<api::Restore>(InternalError("bad item"));
    if (r.ok() && r->spec.backup_name == dbr.backup_name) {
      const auto& f = r->metadata.finalizers;
      restores.emplace_back(r->metadata.name,
                            std::find(f.begin(), f.end(), kRestoreFinalizer) != f.end());
    }
    return OkStatus();
  });
  if (!listed.ok()) {
    errors.push_back("error listing restores: " + listed.message());
  }
  for (const auto& [restore, has_finalizer] : restores) {
    if (store.ok()) {
      Status s = DeleteDir(**store, "restores/" + restore + "/");
      if (!s.ok()) {
        errors.push_back("error deleting restore " + restore + "'s data: " + s.message());
        continue;
      }
    }
    const kube::ResourceRef restore_ref = VeleroRef("restores", namespace_, restore);
    Status s = DeleteObject(client_, restore_ref);
    if (s.ok() && has_finalizer) {
      // The files are gone: nothing is left for the finalizer to do.
      ASSIGN_OR_RETURN(std::optional<nlohmann::json> current, GetObject(client_, restore_ref));
      if (current) {
        nlohmann::json finalizers = nlohmann::json::array();
        for (const auto& f : (*current)["metadata"].value("finalizers", nlohmann::json::array())) {
          if (f != kRestoreFinalizer) {
            finalizers.push_back(f);
          }
        }
        s = MergePatch(client_, restore_ref, {{"metadata", {{"finalizers", finalizers}}}});
      }
    }
    if (!s.ok()) {
      errors.push_back("error deleting restore " + restore + ": " + s.message());
    }
  }

  if (errors.empty()) {
    Status s = DeleteObject(client_, backup_ref);
    if (!s.ok()) {
      errors.push_back("error deleting backup: " + s.message());
    }
  }
  if (errors.empty()) {
    metrics_.BackupDeletionSuccess(schedule);
    log_.Info("Backup deleted", {{"controller", kController}, {"backup", dbr.backup_name}});
    // Every request for this backup is done: remove them all, this one included.
    kube::ListOptions by_uid;
    by_uid.label_selector =
        "velero.io/backup-name=" + label_name + ",velero.io/backup-uid=" + backup.metadata.uid;
    RETURN_IF_ERROR(
        client_.DeleteCollection(VeleroRef("deletebackuprequests", namespace_), by_uid));
    return ReconcileResult{};
  }
  metrics_.BackupDeletionFailure(schedule);
  for (const std::string& e : errors) {
    log_.Error("Backup deletion failed",
               {{"controller", kController}, {"backup", dbr.backup_name}, {"error", e}});
  }
  RETURN_IF_ERROR(Finish(name, errors));
  return ReconcileResult{};
}

}  // namespace arca::controller
