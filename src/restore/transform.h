// File: restore/transform.h
//
// What a restore does to each backed-up object before creating it, as pure functions on the
// object's JSON (../shared/reference/velero-api.md §5.3–§5.5): skipping finished pods and jobs,
// resetting server-set metadata, Velero's built-in restore item actions, namespace mapping and the
// restore labels. Anything that needs the cluster (existing service accounts, the plugin
// ConfigMaps) comes in through ActionContext, so every rule is testable without one.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace arca::restore {

using Json = nlohmann::json;

// Why Velero would not restore this object at all, or "" to restore it: pods that Succeeded or
// Failed, jobs with a completionTime, mirror pods.
std::string SkipReason(std::string_view group_resource, const Json& item);

// Removes what the API server sets (generateName, selfLink, uid, resourceVersion, generation,
// creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, ownerReferences) and status.
// Labels, annotations, finalizers and managedFields stay. Returns the removed status, or null.
Json ResetMetadataAndStatus(Json& item);

struct ActionContext {
  // Source namespace -> target namespace.
  std::map<std::string, std::string> namespace_mapping;
  bool preserve_node_ports = false;
  // Names of the service accounts that exist in a target namespace (for SA token secrets).
  std::function<std::vector<std::string>(const std::string& ns)> service_accounts;
  // velero.io/change-storage-class: old storage class -> new.
  std::map<std::string, std::string> storage_class_mapping;
  // velero.io/change-image-name: values "<old substring>,<new substring>".
  std::vector<std::string> image_name_rules;

  std::string MapNamespace(const std::string& ns) const;
};

enum class ActionOutcome { kRestore, kSkip };

// Runs Velero's built-in restore item actions that apply to `group_resource` on `item`, in
// Velero's registration order. `item` is the object after ResetMetadataAndStatus, still in its
// source namespace. Returns kSkip when an action says the object must not be restored, with the
// reason in `*why`.
ActionOutcome ApplyBuiltinActions(std::string_view group_resource, Json& item,
                                  const ActionContext& context, std::string* why);

// Sets metadata.namespace (namespaced objects only) and the labels velero.io/backup-name and
// velero.io/restore-name (values through GetValidName).
void SetTargetNamespaceAndLabels(Json& item, const std::string& target_namespace,
                                 const std::string& backup_name, const std::string& restore_name);

// The types Velero never restores; the restore controller adds them to excludedResources and
// refuses them in includedResources.
const std::vector<std::string>& NonRestorableResources();

}  // namespace arca::restore
