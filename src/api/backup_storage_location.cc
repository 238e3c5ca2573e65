#include "api/backup_storage_location.h"

#include "api/json_fields.h"

namespace arca::api {
namespace {

// An absent or empty selector stays nullopt.
void ReadSecretKeySelector(FieldReader& parent, const char* key,
                           std::optional<SecretKeySelector>& out) {
  FieldReader child = parent.Child(key);
  SecretKeySelector s;
  child.String("name", s.name);
  child.String("key", s.key);
  parent.Absorb(child);
  if (!s.name.empty() || !s.key.empty()) {
    out = std::move(s);
  }
}

nlohmann::json SecretKeySelectorToJson(const SecretKeySelector& s) {
  nlohmann::json j = nlohmann::json::object();
  SetString(j, "name", s.name);
  SetString(j, "key", s.key);
  return j;
}

}  // namespace

Result<BackupStorageLocation> BackupStorageLocationFromJson(const nlohmann::json& j) {
  RETURN_IF_ERROR(CheckTypeMeta(j, "BackupStorageLocation"));
  BackupStorageLocation bsl;
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(bsl.metadata, ObjectMetaFromJson(*it));
  }
  FieldReader top(j, "");
  FieldReader spec = top.Child("spec");
  BackupStorageLocationSpec& s = bsl.spec;
  spec.String("provider", s.provider);
  spec.StringMap("config", s.config);
  ReadSecretKeySelector(spec, "credential", s.credential);
  FieldReader os = spec.Child("objectStorage");
  os.String("bucket", s.object_storage.bucket);
  os.String("prefix", s.object_storage.prefix);
  os.String("caCert", s.object_storage.ca_cert);
  ReadSecretKeySelector(os, "caCertRef", s.object_storage.ca_cert_ref);
  spec.Absorb(os);
  spec.Bool("default", s.default_location);
  spec.String("accessMode", s.access_mode);
  spec.OptionalDuration("backupSyncPeriod", s.backup_sync_period);
  spec.OptionalDuration("validationFrequency", s.validation_frequency);
  top.Absorb(spec);
  FieldReader status = top.Child("status");
  status.String("phase", bsl.status.phase);
  status.String("lastSyncedTime", bsl.status.last_synced_time);
  status.String("lastValidationTime", bsl.status.last_validation_time);
  status.String("message", bsl.status.message);
  top.Absorb(status);
  RETURN_IF_ERROR(top.status());
  return bsl;
}

nlohmann::json BackupStorageLocationToJson(const BackupStorageLocation& bsl) {
  nlohmann::json j = {{"apiVersion", kVeleroApiVersion}, {"kind", "BackupStorageLocation"}};
  j["metadata"] = ObjectMetaToJson(bsl.metadata);
  const BackupStorageLocationSpec& s = bsl.spec;
  nlohmann::json spec = nlohmann::json::object();
  SetString(spec, "provider", s.provider);
  SetStringMap(spec, "config", s.config);
  if (s.credential) {
    spec["credential"] = SecretKeySelectorToJson(*s.credential);
  }
  nlohmann::json os = nlohmann::json::object();
  os["bucket"] = s.object_storage.bucket;  // required, so always written
  SetString(os, "prefix", s.object_storage.prefix);
  SetString(os, "caCert", s.object_storage.ca_cert);
  if (s.object_storage.ca_cert_ref) {
    os["caCertRef"] = SecretKeySelectorToJson(*s.object_storage.ca_cert_ref);
  }
  spec["objectStorage"] = std::move(os);
  if (s.default_location) {
    spec["default"] = true;
  }
  SetString(spec, "accessMode", s.access_mode);
  SetOptionalDuration(spec, "backupSyncPeriod", s.backup_sync_period);
  SetOptionalDuration(spec, "validationFrequency", s.validation_frequency);
  j["spec"] = std::move(spec);
  nlohmann::json status = nlohmann::json::object();
  SetString(status, "phase", bsl.status.phase);
  SetString(status, "lastSyncedTime", bsl.status.last_synced_time);
  SetString(status, "lastValidationTime", bsl.status.last_validation_time);
  SetString(status, "message", bsl.status.message);
  if (!status.empty()) {
    j["status"] = std::move(status);
  }
  return j;
}

}  // namespace arca::api
