#include "restore/transform.h"

#include <algorithm>
#include <initializer_list>
#include <set>

#include "api/names.h"

namespace arca::restore {
namespace {

// Null-safe navigation: the field if `j` is an object that has it, else nullptr.
Json* Field(Json& j, const char* key) {
  if (!j.is_object()) {
    return nullptr;
  }
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}
const Json* Field(const Json& j, const char* key) {
  if (!j.is_object()) {
    return nullptr;
  }
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}
Json* Path(Json& j, std::initializer_list<const char*> keys) {
  Json* cur = &j;
  for (const char* k : keys) {
    cur = Field(*cur, k);
    if (cur == nullptr) {
      return nullptr;
    }
  }
  return cur;
}
const Json* Path(const Json& j, std::initializer_list<const char*> keys) {
  const Json* cur = &j;
  for (const char* k : keys) {
    cur = Field(*cur, k);
    if (cur == nullptr) {
      return nullptr;
    }
  }
  return cur;
}
std::string Str(const Json* j) {
  return j != nullptr && j->is_string() ? j->get<std::string>() : "";
}
void Erase(Json* obj, const char* key) {
  if (obj != nullptr && obj->is_object()) {
    obj->erase(key);
  }
}
bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// --- velero.io/job
void JobAction(Json& item) {
  for (Json* labels : {Path(item, {"spec", "selector", "matchLabels"}),
                       Path(item, {"spec", "template", "metadata", "labels"})}) {
    Erase(labels, "batch.kubernetes.io/controller-uid");
    Erase(labels, "controller-uid");
  }
}

// --- velero.io/pod
void PodAction(Json& item) {
  Json* spec = Field(item, "spec");
  if (spec == nullptr || !spec->is_object()) {
    return;
  }
  spec->erase("nodeName");
  spec->erase("priority");
  std::string sa = Str(Field(*spec, "serviceAccountName"));
  if (sa.empty()) {
    return;
  }
  std::string prefix = sa + "-token-";
  std::set<std::string> dropped;
  if (Json* volumes = Field(*spec, "volumes"); volumes != nullptr && volumes->is_array()) {
    Json kept = Json::array();
    for (Json& v : *volumes) {
      std::string name = Str(Field(v, "name"));
      if (StartsWith(name, prefix)) {
        dropped.insert(name);
      } else {
        kept.push_back(std::move(v));
      }
    }
    *volumes = std::move(kept);
  }
  if (dropped.empty()) {
    return;
  }
  for (const char* list : {"containers", "initContainers"}) {
    Json* containers = Field(*spec, list);
    if (containers == nullptr || !containers->is_array()) {
      continue;
    }
    for (Json& c : *containers) {
      Json* mounts = Field(c, "volumeMounts");
      if (mounts == nullptr || !mounts->is_array()) {
        continue;
      }
      Json kept = Json::array();
      for (Json& m : *mounts) {
        if (dropped.count(Str(Field(m, "name"))) == 0) {
          kept.push_back(std::move(m));
        }
      }
      *mounts = std::move(kept);
    }
  }
}

// --- velero.io/service: node ports the user set explicitly, by "port/protocol".
std::set<std::string> ExplicitNodePorts(const Json& item, bool* health_check_explicit) {
  std::set<std::string> explicit_ports;
  *health_check_explicit = false;
  std::string last_applied = Str(
      Path(item, {"metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"}));
  if (!last_applied.empty()) {
    Json applied = Json::parse(last_applied, nullptr, false);
    if (const Json* ports = Path(applied, {"spec", "ports"});
        ports != nullptr && ports->is_array()) {
      for (const Json& p : *ports) {
        const Json* node_port = Field(p, "nodePort");
        if (node_port != nullptr && node_port->is_number_integer() &&
            node_port->get<int64_t>() != 0) {
          const Json* port = Field(p, "port");
          std::string protocol = Str(Field(p, "protocol"));
          explicit_ports.insert((port != nullptr ? port->dump() : "") + "/" +
                                (protocol.empty() ? "TCP" : protocol));
        }
      }
    }
    if (const Json* hc = Path(applied, {"spec", "healthCheckNodePort"}); hc != nullptr) {
      *health_check_explicit = hc->is_number_integer() && hc->get<int64_t>() != 0;
    }
  }
  // managedFields: f:spec -> f:ports -> k:{"port":P,"protocol":"X"} -> f:nodePort
  if (const Json* managed = Path(item, {"metadata", "managedFields"});
      managed != nullptr && managed->is_array()) {
    for (const Json& entry : *managed) {
      const Json* spec = Path(entry, {"fieldsV1", "f:spec"});
      if (spec == nullptr) {
        continue;
      }
      if (Field(*spec, "f:healthCheckNodePort") != nullptr) {
        *health_check_explicit = true;
      }
      const Json* ports = Field(*spec, "f:ports");
      if (ports == nullptr || !ports->is_object()) {
        continue;
      }
      for (auto it = ports->begin(); it != ports->end(); ++it) {
        if (!StartsWith(it.key(), "k:") || Field(*it, "f:nodePort") == nullptr) {
          continue;
        }
        Json key = Json::parse(it.key().substr(2), nullptr, false);
        const Json* port = Field(key, "port");
        std::string protocol = Str(Field(key, "protocol"));
        explicit_ports.insert((port != nullptr ? port->dump() : "") + "/" +
                              (protocol.empty() ? "TCP" : protocol));
      }
    }
  }
  return explicit_ports;
}

void ServiceAction(Json& item, const ActionContext& context) {
  Json* spec = Field(item, "spec");
  if (spec == nullptr || !spec->is_object() || Str(Field(*spec, "type")) == "ExternalName") {
    return;
  }
  if (Str(Field(*spec, "clusterIP")) != "None") {
    spec->erase("clusterIP");
    spec->erase("clusterIPs");
  }
  if (context.preserve_node_ports) {
    return;
  }
  bool health_check_explicit = false;
  std::set<std::string> keep = ExplicitNodePorts(item, &health_check_explicit);
  if (Json* ports = Field(*spec, "ports"); ports != nullptr && ports->is_array()) {
    for (Json& p : *ports) {
      if (!p.is_object() || Field(p, "nodePort") == nullptr) {
        continue;
      }
      const Json* port = Field(p, "port");
      std::string protocol = Str(Field(p, "protocol"));
      std::string id =
          (port != nullptr ? port->dump() : "") + "/" + (protocol.empty() ? "TCP" : protocol);
      if (keep.count(id) == 0) {
        p.erase("nodePort");
      }
    }
  }
  if (!health_check_explicit) {
    spec->erase("healthCheckNodePort");
  }
}

// --- velero.io/service-account
void ServiceAccountAction(Json& item) {
  Json* secrets = Field(item, "secrets");
  if (secrets == nullptr || !secrets->is_array()) {
    return;
  }
  std::string prefix = Str(Path(item, {"metadata", "name"})) + "-token-";
  for (auto it = secrets->begin(); it != secrets->end(); ++it) {
    if (StartsWith(Str(Field(*it, "name")), prefix)) {
      secrets->erase(it);
      return;  // only the first, as Velero does
    }
  }
}

// --- velero.io/role-bindings, velero.io/cluster-role-bindings
void BindingAction(Json& item, const ActionContext& context) {
  Json* subjects = Field(item, "subjects");
  if (subjects == nullptr || !subjects->is_array()) {
    return;
  }
  for (Json& s : *subjects) {
    if (Json* ns = Field(s, "namespace"); ns != nullptr && ns->is_string()) {
      *ns = context.MapNamespace(ns->get<std::string>());
    }
  }
}

// --- velero.io/pvc
void PvcAction(Json& item) {
  Json* annotations = Path(item, {"metadata", "annotations"});
  for (const char* key :
       {"pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller",
        "volume.kubernetes.io/storage-provisioner", "volume.beta.kubernetes.io/storage-provisioner",
        "volume.kubernetes.io/selected-node", "velero.io/volume-snapshot-name",
        "velero.io/data-upload-name"}) {
    Erase(annotations, key);
  }
}

// --- velero.io/admission-webhook-configuration
void WebhookAction(Json& item) {
  Json* webhooks = Field(item, "webhooks");
  if (webhooks == nullptr || !webhooks->is_array()) {
    return;
  }
  for (Json& w : *webhooks) {
    if (!w.is_object()) {
      continue;
    }
    std::string effects = Str(Field(w, "sideEffects"));
    if (effects != "None" && effects != "NoneOnDryRun") {
      w["sideEffects"] = "None";
    }
  }
}

// --- velero.io/secret: returns false when the secret must be skipped.
bool SecretAction(Json& item, const ActionContext& context, std::string* why) {
  if (Str(Field(item, "type")) != "kubernetes.io/service-account-token") {
    return true;
  }
  std::string name = Str(Path(item, {"metadata", "name"}));
  std::string ns = context.MapNamespace(Str(Path(item, {"metadata", "namespace"})));
  if (context.service_accounts) {
    for (const std::string& sa : context.service_accounts(ns)) {
      if (StartsWith(name, sa + "-token-")) {
        *why = "service account token secret of existing service account " + sa;
        return false;
      }
    }
  }
  Erase(Path(item, {"metadata", "annotations"}), "kubernetes.io/service-account.uid");
  Json* data = Field(item, "data");
  Erase(data, "token");
  Erase(data, "ca.crt");
  return true;
}

// --- velero.io/crd-preserve-fields
void CrdAction(Json& item) {
  if (Str(Field(item, "apiVersion")) != "apiextensions.k8s.io/v1") {
    return;
  }
  Json* spec = Field(item, "spec");
  Json* preserve = spec != nullptr ? Field(*spec, "preserveUnknownFields") : nullptr;
  if (preserve == nullptr || !preserve->is_boolean() || !preserve->get<bool>()) {
    return;
  }
  *preserve = false;
  if (Json* versions = Field(*spec, "versions"); versions != nullptr && versions->is_array()) {
    for (Json& v : *versions) {
      if (Json* schema = Path(v, {"schema", "openAPIV3Schema"});
          schema != nullptr && schema->is_object()) {
        (*schema)["x-kubernetes-preserve-unknown-fields"] = true;
      }
    }
  }
}

// --- velero.io/change-storage-class
void StorageClassAction(std::string_view gr, Json& item, const ActionContext& context) {
  auto remap = [&](Json* spec) {
    Json* sc = spec != nullptr ? Field(*spec, "storageClassName") : nullptr;
    if (sc != nullptr && sc->is_string()) {
      auto it = context.storage_class_mapping.find(sc->get<std::string>());
      if (it != context.storage_class_mapping.end()) {
        *sc = it->second;
      }
    }
  };
  if (gr == "statefulsets.apps") {
    Json* templates = Path(item, {"spec", "volumeClaimTemplates"});
    if (templates != nullptr && templates->is_array()) {
      for (Json& t : *templates) {
        remap(Field(t, "spec"));
      }
    }
  } else {
    remap(Field(item, "spec"));
  }
}

// --- velero.io/change-image-name
void ImageNameAction(std::string_view gr, Json& item, const ActionContext& context) {
  Json* pod_spec = nullptr;
  if (gr == "pods") {
    pod_spec = Field(item, "spec");
  } else if (gr == "cronjobs.batch") {
    pod_spec = Path(item, {"spec", "jobTemplate", "spec", "template", "spec"});
  } else {
    pod_spec = Path(item, {"spec", "template", "spec"});
  }
  if (pod_spec == nullptr) {
    return;
  }
  for (const char* list : {"containers", "initContainers"}) {
    Json* containers = Field(*pod_spec, list);
    if (containers == nullptr || !containers->is_array()) {
      continue;
    }
    for (Json& c : *containers) {
      Json* image = Field(c, "image");
      if (image == nullptr || !image->is_string()) {
        continue;
      }
      std::string value = image->get<std::string>();
      for (const std::string& rule : context.image_name_rules) {
        size_t comma = rule.find(',');
        if (comma == std::string::npos || comma == 0) {
          continue;
        }
        std::string from = rule.substr(0, comma);
        std::string to = rule.substr(comma + 1);
        if (value.find(from) == std::string::npos) {
          continue;
        }
        for (size_t pos = value.find(from); pos != std::string::npos;
             pos = value.find(from, pos + to.size())) {
          value.replace(pos, from.size(), to);
        }
        break;
      }
      *image = value;
    }
  }
}

}  // namespace

std::string ActionContext::MapNamespace(const std::string& ns) const {
  auto it = namespace_mapping.find(ns);
  return it == namespace_mapping.end() ? ns : it->second;
}

std::string SkipReason(std::string_view group_resource, const Json& item) {
  if (group_resource == "pods") {
    std::string phase = Str(Path(item, {"status", "phase"}));
    if (phase == "Succeeded" || phase == "Failed") {
      return "pod has phase " + phase;
    }
    if (Path(item, {"metadata", "annotations", "kubernetes.io/config.mirror"}) != nullptr) {
      return "mirror pod";
    }
  }
  if (group_resource == "jobs.batch") {
    const Json* done = Path(item, {"status", "completionTime"});
    if (done != nullptr && !done->is_null()) {
      return "job has completed";
    }
  }
  return "";
}

Json ResetMetadataAndStatus(Json& item) {
  if (Json* metadata = Field(item, "metadata"); metadata != nullptr && metadata->is_object()) {
    for (const char* key :
         {"generateName", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
          "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences"}) {
      metadata->erase(key);
    }
  }
  Json status;
  if (item.is_object()) {
    if (auto it = item.find("status"); it != item.end()) {
      status = std::move(*it);
      item.erase(it);
    }
  }
  return status;
}

ActionOutcome ApplyBuiltinActions(std::string_view gr, Json& item, const ActionContext& context,
                                  std::string* why) {
  if (gr == "jobs.batch") {
    JobAction(item);
  }
  if (gr == "pods") {
    PodAction(item);
  }
  if (gr == "services") {
    ServiceAction(item, context);
  }
  if (gr == "serviceaccounts") {
    ServiceAccountAction(item);
  }
  if (gr == "rolebindings.rbac.authorization.k8s.io" ||
      gr == "clusterrolebindings.rbac.authorization.k8s.io") {
    BindingAction(item, context);
  }
  if (gr == "persistentvolumeclaims") {
    PvcAction(item);
  }
  if (gr == "apiservices.apiregistration.k8s.io" &&
      Path(item, {"metadata", "labels", "kube-aggregator.kubernetes.io/automanaged"}) != nullptr) {
    *why = "APIService managed by the API server";
    return ActionOutcome::kSkip;
  }
  if (gr == "mutatingwebhookconfigurations.admissionregistration.k8s.io" ||
      gr == "validatingwebhookconfigurations.admissionregistration.k8s.io") {
    WebhookAction(item);
  }
  if (gr == "secrets" && !SecretAction(item, context, why)) {
    return ActionOutcome::kSkip;
  }
  if (gr == "customresourcedefinitions.apiextensions.k8s.io") {
    CrdAction(item);
  }
  if (!context.storage_class_mapping.empty() &&
      (gr == "persistentvolumeclaims" || gr == "persistentvolumes" || gr == "statefulsets.apps")) {
    StorageClassAction(gr, item, context);
  }
  static const std::set<std::string, std::less<>> kWorkloads = {
      "deployments.apps",       "statefulsets.apps", "daemonsets.apps", "replicasets.apps",
      "replicationcontrollers", "jobs.batch",        "cronjobs.batch",  "pods"};
  if (!context.image_name_rules.empty() && kWorkloads.count(gr) != 0) {
    ImageNameAction(gr, item, context);
  }
  return ActionOutcome::kRestore;
}

void SetTargetNamespaceAndLabels(Json& item, const std::string& target_namespace,
                                 const std::string& backup_name, const std::string& restore_name) {
  if (!item.is_object()) {
    return;
  }
  Json& metadata = item["metadata"];
  if (!metadata.is_object()) {
    metadata = Json::object();
  }
  if (!target_namespace.empty()) {
    metadata["namespace"] = target_namespace;
  }
  Json& labels = metadata["labels"];
  if (!labels.is_object()) {
    labels = Json::object();
  }
  labels["velero.io/backup-name"] = api::GetValidName(backup_name);
  labels["velero.io/restore-name"] = api::GetValidName(restore_name);
}

std::string SingleUpdateManager(const Json& managed_fields, std::string_view api_version) {
  if (!managed_fields.is_array() || managed_fields.size() != 1 || !managed_fields[0].is_object()) {
    return "";
  }
  const Json& entry = managed_fields[0];
  const auto str = [&entry](const char* key) {
    const auto it = entry.find(key);
    return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string manager = str("manager");
  // The API server refuses a fieldManager over 128 characters or with unprintable ones; only
  // printable ASCII is taken here.
  const bool printable =
      std::all_of(manager.begin(), manager.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (manager.empty() || manager.size() > 128 || !printable || str("operation") != "Update" ||
      !str("subresource").empty() || str("fieldsType") != "FieldsV1" ||
      str("apiVersion") != api_version || !entry.contains("fieldsV1") ||
      !entry["fieldsV1"].is_object()) {
    return "";
  }
  return manager;
}

bool SameOwnershipAfterCreate(const Json& backed_up, const Json& created) {
  if (!backed_up.is_array() || backed_up.size() != 1 || !created.is_array() ||
      created.size() != 1 || !backed_up[0].is_object() || !created[0].is_object()) {
    return false;
  }
  const Json& before = backed_up[0];
  const Json& after = created[0];
  for (const char* key : {"manager", "operation", "apiVersion", "fieldsType", "subresource"}) {
    if (before.value(key, Json()) != after.value(key, Json())) {
      return false;
    }
  }
  const auto fields = before.find("fieldsV1");
  if (fields == before.end() || !fields->is_object()) {
    return false;
  }
  Json expected = *fields;
  Json& metadata = expected["f:metadata"];
  if (metadata.is_null()) {
    metadata = Json::object();
  }
  if (!metadata.is_object()) {
    return false;
  }
  Json& labels = metadata["f:labels"];
  if (labels.is_null()) {
    labels = Json::object();
  }
  if (!labels.is_object()) {
    return false;
  }
  for (const char* key : {".", "f:velero.io/backup-name", "f:velero.io/restore-name"}) {
    labels[key] = Json::object();
  }
  const auto created_fields = after.find("fieldsV1");
  return created_fields != after.end() && *created_fields == expected;
}

bool FieldsPresent(const Json& fields, const Json& object) {
  if (!fields.is_object()) {
    return false;
  }
  for (const auto& [key, sub] : fields.items()) {
    if (key == ".") {
      continue;  // the member itself, whose presence the level above checked
    }
    if (!key.starts_with("f:") || !object.is_object()) {
      return false;  // a list element, or a field inside something that is not a map
    }
    const auto member = object.find(std::string_view(key).substr(2));
    if (member == object.end()) {
      return false;
    }
    const bool leaf = sub.is_object() && (sub.empty() || (sub.size() == 1 && sub.contains(".")));
    if (!leaf && !FieldsPresent(sub, *member)) {
      return false;
    }
  }
  return true;
}

Json TakeUnownedAllocatedFields(const Json& fields, Json& service) {
  Json taken = Json::object();
  if (Str(Field(service, "kind")) != "Service" || Str(Field(service, "apiVersion")) != "v1" ||
      !fields.is_object()) {
    return taken;
  }
  const auto spec = service.find("spec");
  if (spec == service.end() || !spec->is_object()) {
    return taken;
  }
  const auto owned_spec = fields.find("f:spec");
  for (const char* field : {"clusterIPs", "ipFamilies", "ipFamilyPolicy"}) {
    const auto it = spec->find(field);
    if (it == spec->end()) {
      continue;
    }
    const bool owned = owned_spec != fields.end() && owned_spec->is_object() &&
                       owned_spec->contains(std::string("f:") + field);
    if (!owned) {
      taken[field] = *it;
    }
  }
  for (const auto& [field, value] : taken.items()) {
    spec->erase(field);
  }
  return taken;
}

bool AllocatedFieldsMatch(const Json& taken, const Json& created) {
  const Json* spec = Field(created, "spec");
  if (spec == nullptr) {
    return taken.empty();
  }
  for (const auto& [field, value] : taken.items()) {
    const Json* now = Field(*spec, field.c_str());
    if (now == nullptr || *now != value) {
      return false;
    }
  }
  return true;
}

bool MadeInEveryNamespace(std::string_view group_resource, std::string_view name) {
  return (group_resource == "configmaps" && name == "kube-root-ca.crt") ||
         (group_resource == "serviceaccounts" && name == "default");
}

const std::vector<std::string>& NonRestorableResources() {
  static const std::vector<std::string> kList = {
      "nodes",
      "events",
      "events.events.k8s.io",
      "backups.velero.io",
      "restores.velero.io",
      "resticrepositories.velero.io",
      "csinodes.storage.k8s.io",
      "volumeattachments.storage.k8s.io",
      "backuprepositories.velero.io",
  };
  return kList;
}

}  // namespace arca::restore
