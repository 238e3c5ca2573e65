// File: api/restore.h
//
// The velero.io/v1 Restore resource (../shared/reference/velero-api.md §1.2) as C++ values, with
// JSON conversion that matches Velero's field names and omits empty fields as Go's `omitempty`
// does. Label selectors, hooks, the resource modifier reference and uploader settings stay JSON
// and pass through unchanged; the restore engine interprets what it supports.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/backup.h"
#include "api/duration.h"
#include "common/status.h"

namespace arca::api {

// The phases of a Restore, exactly as Velero spells them.
namespace restore_phase {
inline constexpr char kNew[] = "New";
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
}  // namespace restore_phase

// spec.existingResourcePolicy values; "" behaves as "none" (with Velero's slightly different
// warning text).
namespace existing_resource_policy {
inline constexpr char kNone[] = "none";
inline constexpr char kUpdate[] = "update";
}  // namespace existing_resource_policy

// spec.restoreStatus: the types whose .status is restored.
struct RestoreStatusSpec {
  std::vector<std::string> included_resources;
  std::vector<std::string> excluded_resources;
};

struct RestoreSpec {
  std::string backup_name;
  std::string schedule_name;
  std::vector<std::string> included_namespaces;
  std::vector<std::string> excluded_namespaces;
  std::vector<std::string> included_resources;
  std::vector<std::string> excluded_resources;
  std::map<std::string, std::string> namespace_mapping;
  std::optional<nlohmann::json> label_selector;  // metav1.LabelSelector
  std::vector<nlohmann::json> or_label_selectors;
  std::optional<bool> restore_pvs;
  std::optional<RestoreStatusSpec> restore_status;
  std::optional<bool> preserve_node_ports;
  std::optional<bool> include_cluster_resources;
  nlohmann::json hooks;  // {resources: [...]}, interpreted by the hooks code
  std::string existing_resource_policy;
  std::optional<Duration> item_operation_timeout;
  nlohmann::json resource_modifier;  // TypedLocalObjectReference
  nlohmann::json uploader_config;    // {writeSparseFiles, parallelFilesDownload}
};

struct RestoreProgress {
  int64_t total_items = 0;
  int64_t items_restored = 0;
};

struct RestoreStatus {
  std::string phase;
  std::vector<std::string> validation_errors;
  int64_t warnings = 0;
  int64_t errors = 0;
  std::string failure_reason;
  std::string start_timestamp;       // RFC 3339
  std::string completion_timestamp;  // RFC 3339
  std::optional<RestoreProgress> progress;
  int64_t restore_item_operations_attempted = 0;
  int64_t restore_item_operations_completed = 0;
  int64_t restore_item_operations_failed = 0;
  int64_t hooks_attempted = 0;
  int64_t hooks_failed = 0;
};

struct Restore {
  ObjectMeta metadata;
  RestoreSpec spec;
  RestoreStatus status;
};

// Decodes a Restore. kInvalidArgument naming the field ("spec.namespaceMapping: ...") when a
// field has the wrong type, or when apiVersion/kind are present and not velero.io/v1 Restore.
Result<Restore> RestoreFromJson(const nlohmann::json& j);
// Encodes with apiVersion and kind, omitting empty fields.
nlohmann::json RestoreToJson(const Restore& r);

// Whether `phase` is final (Completed, PartiallyFailed, Failed, FailedValidation).
bool IsFinalRestorePhase(const std::string& phase);

}  // namespace arca::api
