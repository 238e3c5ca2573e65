// File: api/backup.h
//
// The velero.io/v1 Backup resource (../shared/reference/velero-api.md §1.1) as C++ values, with
// JSON conversion that matches Velero's field names and omits empty fields as Go's `omitempty`
// does. Timestamps stay RFC 3339 strings, and label selectors and hooks stay JSON, so values pass
// through unchanged; the engines interpret them.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/duration.h"
#include "common/status.h"

namespace arca::api {

inline constexpr char kVeleroApiVersion[] = "velero.io/v1";

struct ObjectMeta {
  std::string name;
  std::string generate_name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;  // RFC 3339
  std::string deletion_timestamp;  // RFC 3339, empty when not being deleted
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;
  nlohmann::json owner_references;  // passed through
};

// The phases of a Backup, exactly as Velero spells them.
namespace backup_phase {
inline constexpr char kNew[] = "New";
inline constexpr char kQueued[] = "Queued";
inline constexpr char kReadyToStart[] = "ReadyToStart";
inline constexpr char kFailedValidation[] = "FailedValidation";
inline constexpr char kInProgress[] = "InProgress";
inline constexpr char kWaitingForPluginOperations[] = "WaitingForPluginOperations";
inline constexpr char kWaitingForPluginOperationsPartiallyFailed[] =
    "WaitingForPluginOperationsPartiallyFailed";
inline constexpr char kFinalizing[] = "Finalizing";
inline constexpr char kFinalizingPartiallyFailed[] = "FinalizingPartiallyFailed";
inline constexpr char kCompleted[] = "Completed";
inline constexpr char kPartiallyFailed[] = "PartiallyFailed";
inline constexpr char kFailed[] = "Failed";
inline constexpr char kDeleting[] = "Deleting";
}  // namespace backup_phase

// The resource filters of a BackupSpec, in both of Velero's generations: the old one
// (included/excludedResources with includeClusterResources) and the scoped one.
struct ResourceFilters {
  std::vector<std::string> included_resources;
  std::vector<std::string> excluded_resources;
  std::optional<bool> include_cluster_resources;
  std::vector<std::string> included_cluster_scoped_resources;
  std::vector<std::string> excluded_cluster_scoped_resources;
  std::vector<std::string> included_namespace_scoped_resources;
  std::vector<std::string> excluded_namespace_scoped_resources;

  bool UsesOldFilters() const;
  bool UsesNewFilters() const;
};

struct BackupSpec : ResourceFilters {
  std::map<std::string, std::string> template_labels;  // spec.metadata.labels (Schedule templates)
  std::vector<std::string> included_namespaces;
  std::vector<std::string> excluded_namespaces;
  std::optional<nlohmann::json> label_selector;  // metav1.LabelSelector
  std::vector<nlohmann::json> or_label_selectors;
  std::optional<bool> snapshot_volumes;
  std::optional<Duration> ttl;
  std::string volume_group_snapshot_label_key;
  nlohmann::json hooks;  // {resources: [...]}, interpreted by the hooks code
  std::string storage_location;
  std::vector<std::string> volume_snapshot_locations;
  std::optional<bool> default_volumes_to_restic;
  std::optional<bool> default_volumes_to_fs_backup;
  std::map<std::string, std::string> ordered_resources;
  std::optional<Duration> csi_snapshot_timeout;
  std::optional<Duration> item_operation_timeout;
  nlohmann::json resource_policy;  // TypedLocalObjectReference
  std::optional<bool> snapshot_move_data;
  std::string datamover;
  nlohmann::json uploader_config;
};

struct BackupProgress {
  int64_t total_items = 0;
  int64_t items_backed_up = 0;
};

struct BackupStatus {
  int64_t version = 0;
  std::string format_version;
  std::string expiration;  // RFC 3339
  std::string phase;
  int64_t queue_position = 0;
  std::vector<std::string> validation_errors;
  std::string start_timestamp;
  std::string completion_timestamp;
  int64_t volume_snapshots_attempted = 0;
  int64_t volume_snapshots_completed = 0;
  std::string failure_reason;
  int64_t warnings = 0;
  int64_t errors = 0;
  std::optional<BackupProgress> progress;
  int64_t csi_volume_snapshots_attempted = 0;
  int64_t csi_volume_snapshots_completed = 0;
  int64_t backup_item_operations_attempted = 0;
  int64_t backup_item_operations_completed = 0;
  int64_t backup_item_operations_failed = 0;
  int64_t hooks_attempted = 0;
  int64_t hooks_failed = 0;
};

struct Backup {
  ObjectMeta metadata;
  BackupSpec spec;
  BackupStatus status;
};

// Decodes a Backup. kInvalidArgument naming the field ("spec.ttl: invalid duration ...") when a
// field has the wrong type or value, or when apiVersion/kind are present and not velero.io/v1
// Backup.
Result<Backup> BackupFromJson(const nlohmann::json& j);
// Encodes with apiVersion and kind, omitting empty fields.
nlohmann::json BackupToJson(const Backup& b);

Result<ObjectMeta> ObjectMetaFromJson(const nlohmann::json& j);
nlohmann::json ObjectMetaToJson(const ObjectMeta& m);

}  // namespace arca::api
