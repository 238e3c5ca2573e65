// File: api/backup_storage_location.h
//
// The velero.io/v1 BackupStorageLocation resource (../shared/reference/velero-api.md §1.4, §9),
// with Velero's JSON field names and Go's omitempty rules. `objectStorage.caCert` stays as the
// base64 text JSON carries (the store opener decodes it).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/backup.h"
#include "api/duration.h"
#include "common/status.h"

namespace arca::api {

namespace bsl_phase {
inline constexpr char kAvailable[] = "Available";
inline constexpr char kUnavailable[] = "Unavailable";
}  // namespace bsl_phase

namespace access_mode {
inline constexpr char kReadWrite[] = "ReadWrite";
inline constexpr char kReadOnly[] = "ReadOnly";
}  // namespace access_mode

// A key of a Secret in the same namespace (corev1.SecretKeySelector).
struct SecretKeySelector {
  std::string name;
  std::string key;
};

struct ObjectStorageLocation {
  std::string bucket;
  std::string prefix;
  std::string ca_cert;  // base64, as in JSON
  std::optional<SecretKeySelector> ca_cert_ref;
};

struct BackupStorageLocationSpec {
  std::string provider;
  std::map<std::string, std::string> config;
  std::optional<SecretKeySelector> credential;
  ObjectStorageLocation object_storage;
  bool default_location = false;  // json "default"
  std::string access_mode;        // "" behaves as ReadWrite
  std::optional<Duration> backup_sync_period;
  std::optional<Duration> validation_frequency;
};

struct BackupStorageLocationStatus {
  std::string phase;
  std::string last_synced_time;      // RFC 3339
  std::string last_validation_time;  // RFC 3339
  std::string message;
};

struct BackupStorageLocation {
  ObjectMeta metadata;
  BackupStorageLocationSpec spec;
  BackupStorageLocationStatus status;

  bool IsReadOnly() const { return spec.access_mode == access_mode::kReadOnly; }
};

// Decodes; kInvalidArgument naming the field on a wrong type, or when apiVersion/kind are present
// and not velero.io/v1 BackupStorageLocation.
Result<BackupStorageLocation> BackupStorageLocationFromJson(const nlohmann::json& j);
// Encodes with apiVersion and kind, omitting empty fields.
nlohmann::json BackupStorageLocationToJson(const BackupStorageLocation& bsl);

}  // namespace arca::api
