#include "api/backup.h"

#include "api/json_fields.h"

namespace arca::api {

bool ResourceFilters::UsesOldFilters() const {
  return !included_resources.empty() || !excluded_resources.empty() ||
         include_cluster_resources.has_value();
}

bool ResourceFilters::UsesNewFilters() const {
  return !included_cluster_scoped_resources.empty() || !excluded_cluster_scoped_resources.empty() ||
         !included_namespace_scoped_resources.empty() ||
         !excluded_namespace_scoped_resources.empty();
}

Result<ObjectMeta> ObjectMetaFromJson(const nlohmann::json& j) {
  ObjectMeta m;
  FieldReader r(j, "metadata");
  r.String("name", m.name);
  r.String("generateName", m.generate_name);
  r.String("namespace", m.namespace_);
  r.String("uid", m.uid);
  r.String("resourceVersion", m.resource_version);
  r.String("creationTimestamp", m.creation_timestamp);
  r.String("deletionTimestamp", m.deletion_timestamp);
  r.StringMap("labels", m.labels);
  r.StringMap("annotations", m.annotations);
  r.StringList("finalizers", m.finalizers);
  r.Json("ownerReferences", m.owner_references);
  RETURN_IF_ERROR(r.status());
  return m;
}

nlohmann::json ObjectMetaToJson(const ObjectMeta& m) {
  nlohmann::json j = nlohmann::json::object();
  SetString(j, "name", m.name);
  SetString(j, "generateName", m.generate_name);
  SetString(j, "namespace", m.namespace_);
  SetString(j, "uid", m.uid);
  SetString(j, "resourceVersion", m.resource_version);
  SetString(j, "creationTimestamp", m.creation_timestamp);
  SetString(j, "deletionTimestamp", m.deletion_timestamp);
  SetStringMap(j, "labels", m.labels);
  SetStringMap(j, "annotations", m.annotations);
  SetStringList(j, "finalizers", m.finalizers);
  SetJson(j, "ownerReferences", m.owner_references);
  return j;
}

Result<Backup> BackupFromJson(const nlohmann::json& j) {
  RETURN_IF_ERROR(CheckTypeMeta(j, "Backup"));
  Backup b;
  FieldReader top(j, "");
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(b.metadata, ObjectMetaFromJson(*it));
  }

  FieldReader spec = top.Child("spec");
  BackupSpec& s = b.spec;
  FieldReader spec_meta = spec.Child("metadata");
  spec_meta.StringMap("labels", s.template_labels);
  spec.Absorb(spec_meta);
  spec.StringList("includedNamespaces", s.included_namespaces);
  spec.StringList("excludedNamespaces", s.excluded_namespaces);
  spec.StringList("includedResources", s.included_resources);
  spec.StringList("excludedResources", s.excluded_resources);
  spec.OptionalBool("includeClusterResources", s.include_cluster_resources);
  spec.StringList("includedClusterScopedResources", s.included_cluster_scoped_resources);
  spec.StringList("excludedClusterScopedResources", s.excluded_cluster_scoped_resources);
  spec.StringList("includedNamespaceScopedResources", s.included_namespace_scoped_resources);
  spec.StringList("excludedNamespaceScopedResources", s.excluded_namespace_scoped_resources);
  spec.OptionalJson("labelSelector", s.label_selector);
  spec.JsonList("orLabelSelectors", s.or_label_selectors);
  spec.OptionalBool("snapshotVolumes", s.snapshot_volumes);
  spec.OptionalDuration("ttl", s.ttl);
  spec.String("volumeGroupSnapshotLabelKey", s.volume_group_snapshot_label_key);
  spec.Json("hooks", s.hooks);
  spec.String("storageLocation", s.storage_location);
  spec.StringList("volumeSnapshotLocations", s.volume_snapshot_locations);
  spec.OptionalBool("defaultVolumesToRestic", s.default_volumes_to_restic);
  spec.OptionalBool("defaultVolumesToFsBackup", s.default_volumes_to_fs_backup);
  spec.StringMap("orderedResources", s.ordered_resources);
  spec.OptionalDuration("csiSnapshotTimeout", s.csi_snapshot_timeout);
  spec.OptionalDuration("itemOperationTimeout", s.item_operation_timeout);
  spec.Json("resourcePolicy", s.resource_policy);
  spec.OptionalBool("snapshotMoveData", s.snapshot_move_data);
  spec.String("datamover", s.datamover);
  spec.Json("uploaderConfig", s.uploader_config);
  RETURN_IF_ERROR(spec.status());

  FieldReader st = top.Child("status");
  BackupStatus& t = b.status;
  st.Int("version", t.version);
  st.String("formatVersion", t.format_version);
  st.String("expiration", t.expiration);
  st.String("phase", t.phase);
  st.Int("queuePosition", t.queue_position);
  st.StringList("validationErrors", t.validation_errors);
  st.String("startTimestamp", t.start_timestamp);
  st.String("completionTimestamp", t.completion_timestamp);
  st.Int("volumeSnapshotsAttempted", t.volume_snapshots_attempted);
  st.Int("volumeSnapshotsCompleted", t.volume_snapshots_completed);
  st.String("failureReason", t.failure_reason);
  st.Int("warnings", t.warnings);
  st.Int("errors", t.errors);
  if (auto it = j.find("status"); it != j.end() && it->is_object() && it->contains("progress")) {
    FieldReader p = st.Child("progress");
    BackupProgress progress;
    p.Int("totalItems", progress.total_items);
    p.Int("itemsBackedUp", progress.items_backed_up);
    st.Absorb(p);
    t.progress = progress;
  }
  st.Int("csiVolumeSnapshotsAttempted", t.csi_volume_snapshots_attempted);
  st.Int("csiVolumeSnapshotsCompleted", t.csi_volume_snapshots_completed);
  st.Int("backupItemOperationsAttempted", t.backup_item_operations_attempted);
  st.Int("backupItemOperationsCompleted", t.backup_item_operations_completed);
  st.Int("backupItemOperationsFailed", t.backup_item_operations_failed);
  FieldReader hooks = st.Child("hookStatus");
  hooks.Int("hooksAttempted", t.hooks_attempted);
  hooks.Int("hooksFailed", t.hooks_failed);
  st.Absorb(hooks);
  RETURN_IF_ERROR(st.status());
  return b;
}

nlohmann::json BackupToJson(const Backup& b) {
  nlohmann::json j = nlohmann::json::object();
  j["apiVersion"] = kVeleroApiVersion;
  j["kind"] = "Backup";
  j["metadata"] = ObjectMetaToJson(b.metadata);

  const BackupSpec& s = b.spec;
  nlohmann::json spec = nlohmann::json::object();
  if (!s.template_labels.empty()) {
    spec["metadata"]["labels"] = s.template_labels;
  }
  SetStringList(spec, "includedNamespaces", s.included_namespaces);
  SetStringList(spec, "excludedNamespaces", s.excluded_namespaces);
  SetStringList(spec, "includedResources", s.included_resources);
  SetStringList(spec, "excludedResources", s.excluded_resources);
  SetOptionalBool(spec, "includeClusterResources", s.include_cluster_resources);
  SetStringList(spec, "includedClusterScopedResources", s.included_cluster_scoped_resources);
  SetStringList(spec, "excludedClusterScopedResources", s.excluded_cluster_scoped_resources);
  SetStringList(spec, "includedNamespaceScopedResources", s.included_namespace_scoped_resources);
  SetStringList(spec, "excludedNamespaceScopedResources", s.excluded_namespace_scoped_resources);
  if (s.label_selector.has_value()) {
    spec["labelSelector"] = *s.label_selector;
  }
  if (!s.or_label_selectors.empty()) {
    spec["orLabelSelectors"] = s.or_label_selectors;
  }
  SetOptionalBool(spec, "snapshotVolumes", s.snapshot_volumes);
  SetOptionalDuration(spec, "ttl", s.ttl);
  SetString(spec, "volumeGroupSnapshotLabelKey", s.volume_group_snapshot_label_key);
  SetJson(spec, "hooks", s.hooks);
  SetString(spec, "storageLocation", s.storage_location);
  SetStringList(spec, "volumeSnapshotLocations", s.volume_snapshot_locations);
  SetOptionalBool(spec, "defaultVolumesToRestic", s.default_volumes_to_restic);
  SetOptionalBool(spec, "defaultVolumesToFsBackup", s.default_volumes_to_fs_backup);
  SetStringMap(spec, "orderedResources", s.ordered_resources);
  SetOptionalDuration(spec, "csiSnapshotTimeout", s.csi_snapshot_timeout);
  SetOptionalDuration(spec, "itemOperationTimeout", s.item_operation_timeout);
  SetJson(spec, "resourcePolicy", s.resource_policy);
  SetOptionalBool(spec, "snapshotMoveData", s.snapshot_move_data);
  SetString(spec, "datamover", s.datamover);
  SetJson(spec, "uploaderConfig", s.uploader_config);
  j["spec"] = std::move(spec);

  const BackupStatus& t = b.status;
  nlohmann::json status = nlohmann::json::object();
  SetInt(status, "version", t.version);
  SetString(status, "formatVersion", t.format_version);
  SetString(status, "expiration", t.expiration);
  SetString(status, "phase", t.phase);
  SetInt(status, "queuePosition", t.queue_position);
  SetStringList(status, "validationErrors", t.validation_errors);
  SetString(status, "startTimestamp", t.start_timestamp);
  SetString(status, "completionTimestamp", t.completion_timestamp);
  SetInt(status, "volumeSnapshotsAttempted", t.volume_snapshots_attempted);
  SetInt(status, "volumeSnapshotsCompleted", t.volume_snapshots_completed);
  SetString(status, "failureReason", t.failure_reason);
  SetInt(status, "warnings", t.warnings);
  SetInt(status, "errors", t.errors);
  if (t.progress.has_value()) {
    nlohmann::json p = nlohmann::json::object();
    SetInt(p, "totalItems", t.progress->total_items);
    SetInt(p, "itemsBackedUp", t.progress->items_backed_up);
    status["progress"] = std::move(p);
  }
  SetInt(status, "csiVolumeSnapshotsAttempted", t.csi_volume_snapshots_attempted);
  SetInt(status, "csiVolumeSnapshotsCompleted", t.csi_volume_snapshots_completed);
  SetInt(status, "backupItemOperationsAttempted", t.backup_item_operations_attempted);
  SetInt(status, "backupItemOperationsCompleted", t.backup_item_operations_completed);
  SetInt(status, "backupItemOperationsFailed", t.backup_item_operations_failed);
  if (t.hooks_attempted != 0 || t.hooks_failed != 0) {
    nlohmann::json h = nlohmann::json::object();
    SetInt(h, "hooksAttempted", t.hooks_attempted);
    SetInt(h, "hooksFailed", t.hooks_failed);
    status["hookStatus"] = std::move(h);
  }
  j["status"] = std::move(status);
  return j;
}

}  // namespace arca::api
