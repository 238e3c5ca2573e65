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

// Restoring field ownership (`metadata.managedFields`) in one request where that comes out the
// same as Velero's create-then-patch. The API server takes the managedFields of a create body as
// the starting point and gives every field of the new object to the creating manager; when the
// backed-up object has a single entry (one manager, operation Update, no subresource, the object's
// own apiVersion) and the create names that manager (`?fieldManager=`), the result is that entry
// again, owning the same fields plus the restore's two labels, with the time of the create.
//
// The manager to create `item` with (its single Update entry's manager), or "" when the
// backed-up entries do not allow it (several entries, Apply, a subresource, another apiVersion, a
// name the fieldManager parameter would refuse). `managed_fields` is the backed-up value.
std::string SingleUpdateManager(const Json& managed_fields, std::string_view api_version);

// True when `created` (the managedFields the API server returned for a create made as
// SingleUpdateManager says) carries the same ownership as `backed_up`: one entry, same manager,
// operation, apiVersion and fieldsType, and fieldsV1 equal to the backed-up fields plus the
// restore labels (velero.io/backup-name, velero.io/restore-name and the labels map itself). Only
// `time` may differ. Otherwise the caller patches `backed_up` back, as Velero does.
bool SameOwnershipAfterCreate(const Json& backed_up, const Json& created);

// True when every field that `fields` (one managedFields entry's fieldsV1) names is in `object`,
// looking through maps only: false at the first field that is missing, and at any path into a
// list (k:, v: and i: elements), where this cannot tell. When true, a create as that entry's
// manager gives the entry the same fields whether or not the body carries the backed-up
// managedFields (the server adds every field of the new object to the creating manager), so the
// body can go without them: less for the API server to decode and track.
bool FieldsPresent(const Json& fields, const Json& object);

// The fields of a Service that the API server allocates after its field manager ran (so that no
// manager owns them unless its request set them): spec.clusterIPs, spec.ipFamilies and
// spec.ipFamilyPolicy. For a Service created as its single Update manager (SingleUpdateManager),
// the ones that manager's entry (`fields`, its fieldsV1) does not own are taken out of `service`
// and returned as an object (field name to backed-up value; empty when there are none, or when
// `service` is not a Service), so that the create leaves them to the allocator and the entry comes
// out as it was backed up. The caller checks what the server allocated with
// AllocatedFieldsMatch.
Json TakeUnownedAllocatedFields(const Json& fields, Json& service);

// True when `created` (the created Service) has every field of `taken` with the same value.
bool AllocatedFieldsMatch(const Json& taken, const Json& created);

// Whether the cluster makes an object of this name itself in every namespace: the ConfigMap
// kube-root-ca.crt and the ServiceAccount default. The restore reads these before it creates them,
// since the create would mostly answer AlreadyExists.
bool MadeInEveryNamespace(std::string_view group_resource, std::string_view name);

// The types Velero never restores; the restore controller adds them to excludedResources and
// refuses them in includedResources.
const std::vector<std::string>& NonRestorableResources();

}  // namespace arca::restore
