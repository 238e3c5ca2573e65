#include "controller/backup_sync.h"

#include <algorithm>
#include <map>
#include <set>

#include "api/backup.h"
#include "api/backup_storage_location.h"
#include "api/names.h"
#include "controller/objects.h"
#include "kube/encoding.h"

namespace arca::controller {
namespace {

constexpr char kController[] = "backup-sync";
constexpr char kLocationLabel[] = "velero.io/storage-location";

std::string Str(const nlohmann::json& j, const char* a, const char* b) {
  if (!j.is_object() || !j.contains(a) || !j[a].is_object()) {
    return "";
  }
  const nlohmann::json& inner = j[a];
  return inner.contains(b) && inner[b].is_string() ? inner[b].get<std::string>() : "";
}

std::chrono::nanoseconds ClampRequeue(std::chrono::nanoseconds d) {
  return std::clamp<std::chrono::nanoseconds>(d, std::chrono::seconds(1),
                                              BackupSyncReconciler::kResync);
}

}  // namespace

BackupSyncReconciler::BackupSyncReconciler(kube::Client& client, std::string namespace_name,
                                           Clock& clock, Logger& log, LocationStores& stores,
                                           std::chrono::nanoseconds default_period)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      stores_(stores),
      default_period_(default_period) {}

Result<std::optional<nlohmann::json>> BackupSyncReconciler::FromStore(const std::string& location,
                                                                      nlohmann::json b) {
  const std::string name = Str(b, "metadata", "name");
  if (!b.is_object() || b.value("apiVersion", "") != "velero.io/v1" ||
      b.value("kind", "") != "Backup" || name.empty()) {
    log_.Warn("Stored velero-backup.json is not a velero.io/v1 Backup; not synced",
              {{"controller", kController}, {"location", location}});
    return std::optional<nlohmann::json>();
  }
  const std::string phase = Str(b, "status", "phase");
  if (phase.starts_with(api::backup_phase::kWaitingForPluginOperations) ||
      phase.starts_with(api::backup_phase::kFinalizing)) {
    const auto expiration = ParseTime(Str(b, "status", "expiration"));
    if (!expiration || *expiration > clock_.Now()) {
      return std::optional<nlohmann::json>();
    }
    b["status"]["phase"] = api::backup_phase::kPartiallyFailed;
  }
  nlohmann::json& meta = b["metadata"];
  meta["namespace"] = namespace_;
  for (const char* field : {"resourceVersion", "uid", "creationTimestamp", "managedFields",
                            "generation", "deletionTimestamp", "selfLink"}) {
    meta.erase(field);
  }
  if (!meta.contains("labels") || !meta["labels"].is_object()) {
    meta["labels"] = nlohmann::json::object();
  }
  meta["labels"][kLocationLabel] = api::GetValidName(location);
  if (!b.contains("spec") || !b["spec"].is_object()) {
    b["spec"] = nlohmann::json::object();
  }
  b["spec"]["storageLocation"] = location;
  if (meta.contains("ownerReferences") && meta["ownerReferences"].is_array()) {
    nlohmann::json kept = nlohmann::json::array();
    for (const nlohmann::json& ref : meta["ownerReferences"]) {
      if (ref.value("kind", "") != "Schedule") {
        kept.push_back(ref);
        continue;
      }
      ASSIGN_OR_RETURN(
          std::optional<nlohmann::json> schedule,
          GetObject(client_, VeleroRef("schedules", namespace_, ref.value("name", ""))));
      if (schedule && Str(*schedule, "metadata", "uid") == ref.value("uid", "")) {
        kept.push_back(ref);
      }
    }
    if (kept.empty()) {
      meta.erase("ownerReferences");
    } else {
      meta["ownerReferences"] = kept;
    }
  }
  return std::optional<nlohmann::json>(std::move(b));
}

Result<ReconcileResult> BackupSyncReconciler::Reconcile(const std::string& name) {
  const kube::ResourceRef ref = VeleroRef("backupstoragelocations", namespace_, name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> obj, GetObject(client_, ref));
  if (!obj) {
    return ReconcileResult{};
  }
  ASSIGN_OR_RETURN(api::BackupStorageLocation bsl, api::BackupStorageLocationFromJson(*obj));
  std::chrono::nanoseconds period = default_period_;
  if (bsl.spec.backup_sync_period.has_value() &&
      *bsl.spec.backup_sync_period >= std::chrono::nanoseconds::zero()) {
    period = *bsl.spec.backup_sync_period;
  }
  if (period == std::chrono::nanoseconds::zero()) {
    return ReconcileResult{};  // syncing is off for this location
  }
  if (bsl.status.phase != api::bsl_phase::kAvailable) {
    return ReconcileResult{.requeue_after = ClampRequeue(period)};
  }
  const auto now = clock_.Now();
  if (auto last = ParseTime(bsl.status.last_synced_time); last && now < *last + period) {
    return ReconcileResult{.requeue_after = ClampRequeue(*last + period - now)};
  }

  ASSIGN_OR_RETURN(objstore::ObjectStorePtr store, stores_.Open(bsl));
  ASSIGN_OR_RETURN(objstore::ListPage page, store->ListAll("backups/", "/"));
  std::set<std::string> stored;
  for (const std::string& prefix : page.common_prefixes) {
    std::string b = prefix.substr(std::string_view("backups/").size());
    if (!b.empty() && b.back() == '/') {
      b.pop_back();
    }
    if (!b.empty()) {
      stored.insert(b);
    }
  }
  // The cluster's Backups: name -> (location label, phase).
  std::map<std::string, std::pair<std::string, std::string>> cluster;
  kube::ListOptions all;
  all.limit = 500;
  RETURN_IF_ERROR(
      client_.List(VeleroRef("backups", namespace_), all, [&](std::string_view item) -> Status {
        const nlohmann::json b = nlohmann::json::parse(item, nullptr, false);
        const std::string n = Str(b, "metadata", "name");
        std::string label;
        if (b.is_object() && b["metadata"].contains("labels") &&
            b["metadata"]["labels"].is_object()) {
          label = b["metadata"]["labels"].value(kLocationLabel, "");
        }
        cluster[n] = {label, Str(b, "status", "phase")};
        return OkStatus();
      }));

  for (const std::string& b : stored) {
    if (cluster.contains(b)) {
      continue;
    }
    auto text = store->GetString(objstore::ObjectKey("backups/" + b + "/velero-backup.json"));
    if (!text.ok()) {
      if (text.status().code() != StatusCode::kNotFound) {
        log_.Warn("Could not read a stored backup; not synced",
                  {{"controller", kController},
                   {"location", name},
                   {"backup", b},
                   {"error", text.status().ToString()}});
      }
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<nlohmann::json> backup,
                     FromStore(name, nlohmann::json::parse(*text, nullptr, false)));
    if (!backup) {
      continue;
    }
    auto made = client_.Create(VeleroRef("backups", namespace_), backup->dump());
    if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) {
      log_.Warn("Could not create a Backup found in object storage",
                {{"controller", kController},
                 {"location", name},
                 {"backup", b},
                 {"error", made.status().ToString()}});
      continue;
    }
    log_.Info("Synced a backup from object storage",
              {{"controller", kController}, {"location", name}, {"backup", b}});
  }

  const std::string label = api::GetValidName(name);
  for (const auto& [b, info] : cluster) {
    const auto& [location, phase] = info;
    if (location != label || stored.contains(b) ||
        (phase != api::backup_phase::kCompleted && phase != api::backup_phase::kPartiallyFailed)) {
      continue;
    }
    RETURN_IF_ERROR(DeleteObject(client_, VeleroRef("backups", namespace_, b)));
    log_.Info("Deleted a Backup whose data is no longer in object storage",
              {{"controller", kController}, {"location", name}, {"backup", b}});
  }
  RETURN_IF_ERROR(
      MergePatch(client_, ref, {{"status", {{"lastSyncedTime", kube::FormatRfc3339(now)}}}}));
  return ReconcileResult{.requeue_after = ClampRequeue(period)};
}

}  // namespace arca::controller
