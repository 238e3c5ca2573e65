#include "install/manifests.h"

#include <utility>

#include "install/yaml.h"

namespace arca::install {
namespace {

using nlohmann::json;

const json& Labels() {
  static const json kLabels = {{"component", "velero"}, {"app.kubernetes.io/part-of", "arca"}};
  return kLabels;
}

json Meta(const std::string& name, const std::string& ns = "") {
  json meta = {{"name", name}, {"labels", Labels()}};
  if (!ns.empty()) {
    meta["namespace"] = ns;
  }
  return meta;
}

bool IsAws(const std::string& provider) { return provider == "aws" || provider == "velero.io/aws"; }

std::string Join(const std::vector<std::string>& reasons) {
  std::string out;
  for (const std::string& r : reasons) {
    out += (out.empty() ? "" : "; ") + r;
  }
  return out;
}

json Deployment(const InstallOptions& o) {
  json args = json::array({"server", "--namespace", o.namespace_});
  for (const std::string& a : o.server_args) {
    args.push_back(a);
  }
  json env = json::array({
      {{"name", "VELERO_NAMESPACE"},
       {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
  });
  json mounts = json::array();
  json volumes = json::array();
  if (!o.no_secret && IsAws(o.provider)) {
    env.push_back({{"name", "AWS_SHARED_CREDENTIALS_FILE"}, {"value", "/credentials/cloud"}});
    mounts.push_back({{"name", "cloud-credentials"}, {"mountPath", "/credentials"}});
    volumes.push_back(
        {{"name", "cloud-credentials"}, {"secret", {{"secretName", "cloud-credentials"}}}});
  }
  if (o.provider == "filesystem") {
    const auto root = o.backup_location_config.find("root");
    if (root != o.backup_location_config.end()) {
      mounts.push_back({{"name", "backups"}, {"mountPath", root->second}});
      volumes.push_back({{"name", "backups"},
                         {"hostPath", {{"path", root->second}, {"type", "DirectoryOrCreate"}}}});
    }
  }
  json container = {
      {"name", "velero"},
      {"image", o.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"command", {"/arca"}},
      {"args", args},
      {"env", env},
      {"ports", {{{"name", "metrics"}, {"containerPort", 8085}}}},
      {"resources",
       {{"requests", {{"cpu", "500m"}, {"memory", "128Mi"}}},
        {"limits", {{"cpu", "1"}, {"memory", "512Mi"}}}}},
      {"readinessProbe", {{"httpGet", {{"path", "/readyz"}, {"port", "metrics"}}}}},
      {"livenessProbe", {{"httpGet", {{"path", "/healthz"}, {"port", "metrics"}}}}},
  };
  if (!mounts.empty()) {
    container["volumeMounts"] = mounts;
  }
  json pod_spec = {
      {"serviceAccountName", "velero"}, {"restartPolicy", "Always"}, {"containers", {container}}};
  if (!volumes.empty()) {
    pod_spec["volumes"] = volumes;
  }
  json pod_labels = Labels();
  pod_labels["deploy"] = "velero";
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", Meta("velero", o.namespace_)},
          {"spec",
           {{"replicas", 1},
            {"selector", {{"matchLabels", {{"deploy", "velero"}}}}},
            {"template",
             {{"metadata",
               {{"labels", pod_labels},
                {"annotations",
                 {{"prometheus.io/scrape", "true"},
                  {"prometheus.io/port", "8085"},
                  {"prometheus.io/path", "/metrics"}}}}},
              {"spec", pod_spec}}}}}};
}

}  // namespace

Result<std::vector<json>> CrdObjects() {
  std::vector<json> out;
  for (const EmbeddedFile& file : EmbeddedCrds()) {
    auto docs = ParseYamlDocuments(file.text);
    if (!docs.ok()) {
      return InternalError("compiled-in " + std::string(file.name) + ": " +
                           docs.status().message());
    }
    for (json& doc : *docs) {
      out.push_back(std::move(doc));
    }
  }
  return out;
}

std::vector<std::string> ValidateInstallOptions(const InstallOptions& o) {
  std::vector<std::string> reasons;
  if (o.namespace_.empty()) {
    reasons.emplace_back("--namespace must not be empty");
  }
  if (o.crds_only) {
    return reasons;
  }
  const bool needs_location = !o.no_default_backup_location;
  if (needs_location) {
    if (o.provider.empty()) {
      reasons.emplace_back(
          "--provider is required (aws or filesystem), or give --no-default-backup-location");
    } else if (!IsAws(o.provider) && o.provider != "filesystem") {
      reasons.push_back("--provider '" + o.provider + "' is not supported: use aws or filesystem");
    }
    if (o.bucket.empty()) {
      reasons.emplace_back("--bucket is required with a default backup location");
    } else if (o.bucket.find('/') != std::string::npos) {
      reasons.push_back("--bucket '" + o.bucket +
                        "' must not contain '/': put the path in --prefix");
    }
    if (o.provider == "filesystem") {
      const auto root = o.backup_location_config.find("root");
      if (root == o.backup_location_config.end() || root->second.empty() ||
          root->second.front() != '/') {
        reasons.emplace_back(
            "the filesystem provider needs --backup-location-config root=/absolute/dir");
      }
    }
  }
  if (IsAws(o.provider) && !o.no_secret && o.secret_data.empty()) {
    reasons.emplace_back(
        "--secret-file is required for the aws provider (a credentials file with "
        "aws_access_key_id and aws_secret_access_key), or give --no-secret");
  }
  return reasons;
}

Result<std::vector<json>> InstallObjects(const InstallOptions& o) {
  if (auto reasons = ValidateInstallOptions(o); !reasons.empty()) {
    return InvalidArgumentError("invalid install options: " + Join(reasons));
  }
  ASSIGN_OR_RETURN(std::vector<json> out, CrdObjects());
  if (o.crds_only) {
    return out;
  }
  out.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", Meta(o.namespace_)}});
  const std::string binding = o.namespace_ == "velero" ? "velero" : "velero-" + o.namespace_;
  out.push_back(
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRoleBinding"},
       {"metadata", Meta(binding)},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"},
         {"kind", "ClusterRole"},
         {"name", "cluster-admin"}}},
       {"subjects",
        {{{"kind", "ServiceAccount"}, {"name", "velero"}, {"namespace", o.namespace_}}}}});
  out.push_back({{"apiVersion", "v1"},
                 {"kind", "ServiceAccount"},
                 {"metadata", Meta("velero", o.namespace_)}});
  if (!o.no_secret && !o.secret_data.empty()) {
    out.push_back({{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", Meta("cloud-credentials", o.namespace_)},
                   {"type", "Opaque"},
                   {"stringData", {{"cloud", o.secret_data}}}});
  }
  if (!o.no_default_backup_location) {
    json spec = {
        {"provider", o.provider}, {"default", true}, {"objectStorage", {{"bucket", o.bucket}}}};
    if (!o.prefix.empty()) {
      spec["objectStorage"]["prefix"] = o.prefix;
    }
    if (!o.backup_location_config.empty()) {
      spec["config"] = o.backup_location_config;
    }
    if (!o.no_secret && !o.secret_data.empty()) {
      spec["credential"] = {{"name", "cloud-credentials"}, {"key", "cloud"}};
    }
    out.push_back({{"apiVersion", "velero.io/v1"},
                   {"kind", "BackupStorageLocation"},
                   {"metadata", Meta("default", o.namespace_)},
                   {"spec", spec}});
  }
  if (!o.no_deployment) {
    out.push_back(Deployment(o));
  }
  return out;
}

}  // namespace arca::install
