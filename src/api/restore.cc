#include "api/restore.h"

#include "api/json_fields.h"

namespace arca::api {

Result<Restore> RestoreFromJson(const nlohmann::json& j) {
  RETURN_IF_ERROR(CheckTypeMeta(j, "Restore"));
  Restore r;
  FieldReader top(j, "");
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    ASSIGN_OR_RETURN(r.metadata, ObjectMetaFromJson(*it));
  }

  FieldReader spec = top.Child("spec");
  RestoreSpec& s = r.spec;
  spec.String("backupName", s.backup_name);
  spec.String("scheduleName", s.schedule_name);
  spec.StringList("includedNamespaces", s.included_namespaces);
  spec.StringList("excludedNamespaces", s.excluded_namespaces);
  spec.StringList("includedResources", s.included_resources);
  spec.StringList("excludedResources", s.excluded_resources);
  spec.StringMap("namespaceMapping", s.namespace_mapping);
  spec.OptionalJson("labelSelector", s.label_selector);
  spec.JsonList("orLabelSelectors", s.or_label_selectors);
  spec.OptionalBool("restorePVs", s.restore_pvs);
  if (auto st = j.find("spec"); st != j.end() && st->is_object()) {
    if (auto rs = st->find("restoreStatus"); rs != st->end() && !rs->is_null()) {
      FieldReader status_reader = spec.Child("restoreStatus");
      RestoreStatusSpec restore_status;
      status_reader.StringList("includedResources", restore_status.included_resources);
      status_reader.StringList("excludedResources", restore_status.excluded_resources);
      spec.Absorb(status_reader);
      s.restore_status = std::move(restore_status);
    }
  }
  spec.OptionalBool("preserveNodePorts", s.preserve_node_ports);
  spec.OptionalBool("includeClusterResources", s.include_cluster_resources);
  spec.Json("hooks", s.hooks);
  spec.String("existingResourcePolicy", s.existing_resource_policy);
  spec.OptionalDuration("itemOperationTimeout", s.item_operation_timeout);
  spec.Json("resourceModifier", s.resource_modifier);
  spec.Json("uploaderConfig", s.uploader_config);
  RETURN_IF_ERROR(spec.status());

  FieldReader st = top.Child("status");
  RestoreStatus& t = r.status;
  st.String("phase", t.phase);
  st.StringList("validationErrors", t.validation_errors);
  st.Int("warnings", t.warnings);
  st.Int("errors", t.errors);
  st.String("failureReason", t.failure_reason);
  st.String("startTimestamp", t.start_timestamp);
  st.String("completionTimestamp", t.completion_timestamp);
  if (auto it = j.find("status"); it != j.end() && it->is_object() && it->contains("progress")) {
    FieldReader p = st.Child("progress");
    RestoreProgress progress;
    p.Int("totalItems", progress.total_items);
    p.Int("itemsRestored", progress.items_restored);
    st.Absorb(p);
    t.progress = progress;
  }
  st.Int("restoreItemOperationsAttempted", t.restore_item_operations_attempted);
  st.Int("restoreItemOperationsCompleted", t.restore_item_operations_completed);
  st.Int("restoreItemOperationsFailed", t.restore_item_operations_failed);
  FieldReader hooks = st.Child("hookStatus");
  hooks.Int("hooksAttempted", t.hooks_attempted);
  hooks.Int("hooksFailed", t.hooks_failed);
  st.Absorb(hooks);
  RETURN_IF_ERROR(st.status());
  return r;
}

nlohmann::json RestoreToJson(const Restore& r) {
  nlohmann::json j = nlohmann::json::object();
  j["apiVersion"] = kVeleroApiVersion;
  j["kind"] = "Restore";
  j["metadata"] = ObjectMetaToJson(r.metadata);

  const RestoreSpec& s = r.spec;
  nlohmann::json spec = nlohmann::json::object();
  SetString(spec, "backupName", s.backup_name);
  SetString(spec, "scheduleName", s.schedule_name);
  SetStringList(spec, "includedNamespaces", s.included_namespaces);
  SetStringList(spec, "excludedNamespaces", s.excluded_namespaces);
  SetStringList(spec, "includedResources", s.included_resources);
  SetStringList(spec, "excludedResources", s.excluded_resources);
  SetStringMap(spec, "namespaceMapping", s.namespace_mapping);
  if (s.label_selector.has_value()) {
    spec["labelSelector"] = *s.label_selector;
  }
  if (!s.or_label_selectors.empty()) {
    spec["orLabelSelectors"] = s.or_label_selectors;
  }
  SetOptionalBool(spec, "restorePVs", s.restore_pvs);
  if (s.restore_status.has_value()) {
    nlohmann::json rs = nlohmann::json::object();
    SetStringList(rs, "includedResources", s.restore_status->included_resources);
    SetStringList(rs, "excludedResources", s.restore_status->excluded_resources);
    spec["restoreStatus"] = std::move(rs);
  }
  SetOptionalBool(spec, "preserveNodePorts", s.preserve_node_ports);
  SetOptionalBool(spec, "includeClusterResources", s.include_cluster_resources);
  SetJson(spec, "hooks", s.hooks);
  SetString(spec, "existingResourcePolicy", s.existing_resource_policy);
  SetOptionalDuration(spec, "itemOperationTimeout", s.item_operation_timeout);
  SetJson(spec, "resourceModifier", s.resource_modifier);
  SetJson(spec, "uploaderConfig", s.uploader_config);
  j["spec"] = std::move(spec);

  const RestoreStatus& t = r.status;
  nlohmann::json status = nlohmann::json::object();
  SetString(status, "phase", t.phase);
  SetStringList(status, "validationErrors", t.validation_errors);
  SetInt(status, "warnings", t.warnings);
  SetInt(status, "errors", t.errors);
  SetString(status, "failureReason", t.failure_reason);
  SetString(status, "startTimestamp", t.start_timestamp);
  SetString(status, "completionTimestamp", t.completion_timestamp);
  if (t.progress.has_value()) {
    nlohmann::json p = nlohmann::json::object();
    SetInt(p, "totalItems", t.progress->total_items);
    SetInt(p, "itemsRestored", t.progress->items_restored);
    status["progress"] = std::move(p);
  }
  SetInt(status, "restoreItemOperationsAttempted", t.restore_item_operations_attempted);
  SetInt(status, "restoreItemOperationsCompleted", t.restore_item_operations_completed);
  SetInt(status, "restoreItemOperationsFailed", t.restore_item_operations_failed);
  if (t.hooks_attempted != 0 || t.hooks_failed != 0) {
    nlohmann::json h = nlohmann::json::object();
    SetInt(h, "hooksAttempted", t.hooks_attempted);
    SetInt(h, "hooksFailed", t.hooks_failed);
    status["hookStatus"] = std::move(h);
  }
  j["status"] = std::move(status);
  return j;
}

bool IsFinalRestorePhase(const std::string& phase) {
  return phase == restore_phase::kCompleted || phase == restore_phase::kPartiallyFailed ||
         phase == restore_phase::kFailed || phase == restore_phase::kFailedValidation;
}

}  // namespace arca::api
