#include "controller/storage_location.h"

#include "api/backup_storage_location.h"
#include "controller/objects.h"
#include "kube/encoding.h"

namespace arca::controller {

StorageLocationReconciler::StorageLocationReconciler(kube::Client& client,
                                                     std::string namespace_name, Clock& clock,
                                                     Logger& log, LocationStores& stores,
                                                     ServerMetrics& metrics,
                                                     std::chrono::nanoseconds default_frequency)
    : client_(client),
      namespace_(std::move(namespace_name)),
      clock_(clock),
      log_(log),
      stores_(stores),
      metrics_(metrics),
      default_frequency_(default_frequency) {}

Status StorageLocationReconciler::EnsureSingleDefault(const std::string& name) {
  struct Default {
    std::string name;
    std::string created;
  };
  std::vector<Default> defaults;
  RETURN_IF_ERROR(client_.List(
      VeleroRef("backupstoragelocations", namespace_), {}, [&](std::string_view item) -> Status {
        nlohmann::json j = nlohmann::json::parse(item, nullptr, false);
        if (!j.is_object()) {
          return OkStatus();
        }
        const nlohmann::json spec = j.value("spec", nlohmann::json());
        if (spec.is_object() && spec.value("default", false)) {
          const nlohmann::json meta = j.value("metadata", nlohmann::json());
          defaults.push_back({meta.value("name", ""), meta.value("creationTimestamp", "")});
        }
        return OkStatus();
      }));
  if (defaults.size() <= 1) {
    return OkStatus();
  }
  // RFC 3339 UTC timestamps of one format sort as text; ties go to the larger name.
  auto newest = std::max_element(defaults.begin(), defaults.end(), [](auto& a, auto& b) {
    return std::tie(a.created, a.name) < std::tie(b.created, b.name);
  });
  for (const Default& d : defaults) {
    if (d.name == newest->name) {
      continue;
    }
    log_.Warn(
        "Several default backup storage locations; unsetting default on the older one",
        {{"controller", "backup-storage-location"}, {"name", d.name}, {"kept", newest->name}});
    RETURN_IF_ERROR(MergePatch(client_, VeleroRef("backupstoragelocations", namespace_, d.name),
                               {{"spec", {{"default", false}}}}));
  }
  (void)name;
  return OkStatus();
}

Result<ReconcileResult> StorageLocationReconciler::Reconcile(const std::string& name) {
  const kube::ResourceRef ref = VeleroRef("backupstoragelocations", namespace_, name);
  ASSIGN_OR_RETURN(std::optional<nlohmann::json> obj, GetObject(client_, ref));
  if (!obj) {
    const std::lock_guard<std::mutex> lock(mu_);
    validated_spec_.erase(name);
    return ReconcileResult{};
  }
  Result<api::BackupStorageLocation> parsed = api::BackupStorageLocationFromJson(*obj);
  const auto now = clock_.Now();
  std::chrono::nanoseconds frequency = default_frequency_;
  if (parsed.ok() && parsed->spec.validation_frequency &&
      *parsed->spec.validation_frequency >= std::chrono::nanoseconds::zero()) {
    frequency = *parsed->spec.validation_frequency;
  }
  if (parsed.ok() && parsed->spec.default_location) {
    Status s = EnsureSingleDefault(name);
    if (!s.ok()) {
      log_.Warn("Could not check for several default locations",
                {{"controller", "backup-storage-location"}, {"error", s.ToString()}});
    }
  }
  // The spec as validated last. Not metadata.generation: without a status subresource every
  // status patch bumps it too.
  const std::string spec_text = obj->value("spec", nlohmann::json::object()).dump();
  bool spec_changed = false;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    auto it = validated_spec_.find(name);
    spec_changed = it != validated_spec_.end() && it->second != spec_text;
  }
  std::optional<std::chrono::system_clock::time_point> last =
      parsed.ok() ? ParseTime(parsed->status.last_validation_time) : std::nullopt;
  if (last && !spec_changed) {
    if (frequency == std::chrono::nanoseconds::zero()) {
      return ReconcileResult{};  // validate once only
    }
    const auto due =
        *last + std::chrono::duration_cast<std::chrono::system_clock::duration>(frequency);
    if (now < due) {
      return ReconcileResult{.requeue_after = due - now};
    }
  }

  Status valid = parsed.status();
  if (valid.ok()) {
    Result<objstore::ObjectStorePtr> store = stores_.Open(*parsed);
    valid = store.ok() ? ValidateStore(**store) : store.status();
  }
  nlohmann::json status = {{"lastValidationTime", kube::FormatRfc3339(now)}};
  const std::string old_phase = parsed.ok() ? parsed->status.phase : "";
  if (valid.ok()) {
    status["phase"] = api::bsl_phase::kAvailable;
    status["message"] = nullptr;  // merge patch: remove
    if (old_phase != api::bsl_phase::kAvailable) {
      log_.Info("Backup storage location is available",
                {{"controller", "backup-storage-location"}, {"name", name}});
    }
  } else {
    const std::string message =
        "BackupStorageLocation \"" + name + "\" is unavailable: " + valid.message();
    status["phase"] = api::bsl_phase::kUnavailable;
    status["message"] = message;
    log_.Warn("Backup storage location is unavailable",
              {{"controller", "backup-storage-location"}, {"name", name}, {"error", message}});
  }
  metrics_.LocationStatus(name, valid.ok());
  RETURN_IF_ERROR(MergePatch(client_, ref, {{"status", status}}));
  {
    const std::lock_guard<std::mutex> lock(mu_);
    validated_spec_[name] = spec_text;
  }
  if (frequency == std::chrono::nanoseconds::zero()) {
    return ReconcileResult{};
  }
  return ReconcileResult{.requeue_after = frequency};
}

}  // namespace arca::controller
