#include "controller/gc_controller.h"

#include "api/backup_storage_location.h"
#include "api/names.h"
#include "api/requests.h"
#include "controller/objects.h"

namespace arca::controller {
namespace {

constexpr char kController[] = "gc";
constexpr char kFailureLabel[] = "velero.io/gc-failure";

std::string StringAt(const nlohmann::json& j, const char* a, const char* b) {
  if (!j.is_object() || !j.contains(a) || !j[a].is_object()) {
    return "";
  }
  const nlohmann::json& inner = j[a];
  return inner.contains(b) && inner[b].is_string() ? inner[b].get<std::string>() : "";
}

}  // namespace

GcReconciler::GcReconciler(kube::Client& client, std::string namespace_name, Clock& clock,
                           Logger& log)
    : client_(client), namespace_(std::move(namespace_name)), clock_(clock), log_(log) {}

Status GcReconciler::SetFailureLabel(const nlohmann::json& backup, const std::string& reason) {
  const nlohmann::json& meta = backup["metadata"];
  std::string current;
  bool has = false;
  if (meta.contains("labels") && meta["labels"].is_object() &&
      meta["labels"].contains(kFailureLabel)) {
    has = true;
    current = meta["labels"][kFailureLabel].is_string()
                  ? meta["labels"][kFailureLabel].get<std::string>()
                  : "";
  }
  if (reason.empty() ? !has : (has && current == reason)) {
    return OkStatus();
  }
  const nlohmann::json value = reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(reason);
  return MergePatch(client_, VeleroRef("backups", namespace_, meta["name"].get<std::string>()),
                    {{"metadata", {{"labels", {{kFailureLabel, value}}}}}});
}

Result<bool> GcReconciler::DeletionInFlight(const std::string& backup, const std::string& uid) {
  kube::ListOptions options;
  options.label_selector =
      "velero.io/backup-name=" + api::GetValidName(backup) + ",velero.io/backup-uid=" + uid;
  bool in_flight = false;
  RETURN_IF_ERROR(client_.List(
      VeleroRef("deletebackuprequests", namespace_), options, [&](std::string_view item) -> Status {
        const nlohmann::json d = nlohmann::json::parse(item, nullptr, false);
        const std::string phase = StringAt(d, "status", "phase");
        if (phase.empty() || phase == api::request_phase::kNew ||
            phase == api::request_phase::kInProgress) {
          in_flight = true;
        }
        return OkStatus();
      }));
  return in_flight;
}

Result<ReconcileResult> GcReconciler::Reconcile(const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> backup,
                   GetObject(client_, VeleroRef("backups", namespace_, name)));
  if (!backup) {
    return ReconcileResult{};
  }
  const std::string expiration_text = StringAt(*backup, "status", "expiration");
  if (expiration_text.empty()) {
    return ReconcileResult{};
  }
  const auto expiration = ParseTime(expiration_text);
  if (!expiration) {
    log_.Warn("Backup has an unreadable status.expiration; not collected",
              {{"controller", kController}, {"backup", name}, {"expiration", expiration_text}});
    return ReconcileResult{};
  }
  if (*expiration > clock_.Now()) {
    return ReconcileResult{};
  }
  const std::string location = StringAt(*backup, "spec", "storageLocation");
  auto bsl_json =
      location.empty()
          ? Result<std::optional<nlohmann::json>>(std::optional<nlohmann::json>())
          : GetObject(client_, VeleroRef("backupstoragelocations", namespace_, location));
  if (!bsl_json.ok() || !*bsl_json) {
    const bool missing = bsl_json.ok();
    log_.Warn("Expired backup not deleted: its storage location cannot be read",
              {{"controller", kController},
               {"backup", name},
               {"location", location},
               {"error", missing ? "not found" : bsl_json.status().ToString()}});
    RETURN_IF_ERROR(SetFailureLabel(*backup, missing ? "BSLNotFound" : "BSLCannotGet"));
    return ReconcileResult{};
  }
  auto bsl = api::BackupStorageLocationFromJson(**bsl_json);
  if (!bsl.ok()) {
    RETURN_IF_ERROR(SetFailureLabel(*backup, "BSLCannotGet"));
    return ReconcileResult{};
  }
  if (bsl->status.phase != api::bsl_phase::kAvailable) {
    return UnavailableError("expired backup " + name + " waits: backup storage location " +
                            location + " is not Available (phase \"" + bsl->status.phase + "\")");
  }
  if (bsl->IsReadOnly()) {
    log_.Info("Expired backup not deleted: its storage location is ReadOnly",
              {{"controller", kController}, {"backup", name}, {"location", location}});
    RETURN_IF_ERROR(SetFailureLabel(*backup, "BSLReadOnly"));
    return ReconcileResult{};
  }
  RETURN_IF_ERROR(SetFailureLabel(*backup, ""));
  const std::string uid = StringAt(*backup, "metadata", "uid");
  ASSIGN_OR_RETURN(bool in_flight, DeletionInFlight(name, uid));
  if (in_flight) {
    return ReconcileResult{};
  }
  const nlohmann::json dbr = {
      {"apiVersion", "velero.io/v1"},
      {"kind", "DeleteBackupRequest"},
      {"metadata",
       {{"generateName", name + "-"},
        {"namespace", namespace_},
        {"labels",
         {{"velero.io/backup-name", api::GetValidName(name)}, {"velero.io/backup-uid", uid}}}}},
      {"spec", {{"backupName", name}}}};
  auto created = client_.Create(VeleroRef("deletebackuprequests", namespace_), dbr.dump());
  if (!created.ok()) {
    return created.status().WithContext("requesting the deletion of expired backup " + name);
  }
  log_.Info("Expired backup: deletion requested",
            {{"controller", kController}, {"backup", name}, {"expiration", expiration_text}});
  return ReconcileResult{};
}

}  // namespace arca::controller
