#include "controller/download_request.h"

#include "api/backup.h"
#include "api/backup_storage_location.h"
#include "api/requests.h"
#include "api/restore.h"
#include "controller/objects.h"
#include "kube/encoding.h"

namespace arca::controller {

DownloadRequestReconciler::DownloadRequestReconciler(kube::Client& client,
                                                     std::string namespace_name, Clock& clock,
                                                     Logger& log, LocationStores& stores)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      stores_(stores) {}

Result<ReconcileResult> DownloadRequestReconciler::Reconcile(const std::string& name) {
  const kube::ResourceRef ref = VeleroRef("downloadrequests", namespace_, name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> obj, GetObject(client_, ref));
  if (!obj) {
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(api::DownloadRequest dr, api::DownloadRequestFromJson(*obj));
  const auto now = clock_.Now();
  if (auto expiration = ParseTime(dr.expiration)) {
    if (*expiration <= now) {
      RETURN_IF_ERROR(DeleteObject(client_, ref));
      log_.Info("Deleted expired download request",
                {{"controller", "download-request"}, {"name", name}});
      return ReconcileResult{};
    }
    if (dr.phase == api::request_phase::kProcessed) {
      return ReconcileResult{.requeue_after = *expiration - now};
    }
  }
  if (!dr.phase.empty() && dr.phase != api::request_phase::kNew) {
    return ReconcileResult{};
  }

  ASSIGN_OR_RETURN(std::string key, api::DownloadTargetKey(dr.target_kind, dr.target_name));
  std::string backup_name = dr.target_name;
  if (api::IsRestoreDownloadKind(dr.target_kind)) {
    ASSIGN_OR_RETURN(std::optional<nlohmann::json> restore_json,
                     GetObject(client_, VeleroRef("restores", namespace_, dr.target_name)));
    if (!restore_json) {
      return NotFoundError("restore \"" + dr.target_name + "\" of download request " + name +
                           " not found");
    }
    ASSIGN_OR_RETURN(api::Restore restore, api::RestoreFromJson(*restore_json));
    backup_name = restore.spec.backup_name;
  }
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> backup_json,
                   GetObject(client_, VeleroRef("backups", namespace_, backup_name)));
  if (!backup_json) {
    return NotFoundError("backup \"" + backup_name + "\" of download request " + name +
                         " not found");
  }
  ASSIGN_OR_RETURN(api::Backup backup, api::BackupFromJson(*backup_json));
  const std::string& location = backup.spec.storage_location;
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> bsl_json,
                   GetObject(client_, VeleroRef("backupstoragelocations", namespace_, location)));
  if (!bsl_json) {
    return NotFoundError("backup storage location \"" + location + "\" of backup \"" + backup_name +
                         "\" not found");
  }
  ASSIGN_OR_RETURN(api::BackupStorageLocation bsl, api::BackupStorageLocationFromJson(*bsl_json));
  ASSIGN_OR_RETURN(objstore::ObjectStorePtr store, stores_.Open(bsl));
  ASSIGN_OR_RETURN(std::string url,
                   store->PresignGet(objstore::ObjectKey(key),
                                     std::chrono::duration_cast<std::chrono::seconds>(kUrlTtl)));
  nlohmann::json patch = {{"status",
                           {{"phase", api::request_phase::kProcessed},
                            {"downloadURL", url},
                            {"expiration", kube::FormatRfc3339(now + kUrlTtl)}}}};
  RETURN_IF_ERROR(MergePatch(client_, ref, patch));
  log_.Info("Processed download request", {{"controller", "download-request"},
                                           {"name", name},
                                           {"kind", dr.target_kind},
                                           {"target", dr.target_name}});
  return ReconcileResult{.requeue_after = kUrlTtl};
}

}  // namespace arca::controller
