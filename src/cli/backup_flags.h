// File: cli/backup_flags.h
//
// The flags that describe what a backup takes, shared by `arca backup create` and
// `arca schedule create` (whose template they fill), as Velero's CLI has them: namespace and
// resource filters (old and scoped), -l/--or-selector, --ordered-resources, --ttl and
// --storage-location. Also the label-selector conversions the restore flags use.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/backup.h"
#include "common/status.h"

namespace arca::cli {

struct BackupSpecFlags {
  std::vector<std::string> include_namespaces{"*"};
  std::vector<std::string> exclude_namespaces;
  std::vector<std::string> include_resources;
  std::vector<std::string> exclude_resources;
  bool include_cluster_resources = true;
  CLI::Option* include_cluster_resources_opt = nullptr;  // set by AddTo: was the flag given?
  std::vector<std::string> include_cluster_scoped;
  std::vector<std::string> exclude_cluster_scoped;
  std::vector<std::string> include_namespace_scoped;
  std::vector<std::string> exclude_namespace_scoped;
  std::string selector;
  std::string or_selector;
  std::string ordered_resources;
  std::string ttl;
  std::string storage_location;

  void AddTo(CLI::App& command);
  // The BackupSpec the flags describe. kInvalidArgument naming the flag for a bad selector,
  // --ordered-resources or --ttl.
  Result<api::BackupSpec> Build() const;
};

// A label selector in kubectl's string form ("app=web,tier in (a,b)") as a metav1.LabelSelector
// (matchLabels and matchExpressions), as Velero's CLI converts -l. kInvalidArgument for a bad
// selector or one using > or <, which a LabelSelector cannot hold.
Result<nlohmann::json> ParseSelectorFlag(std::string_view text);

// --or-selector "app=web or tier=db": one LabelSelector per part.
Result<std::vector<nlohmann::json>> ParseOrSelectorFlag(std::string_view text);

// metav1.FormatLabelSelector: "app=web,tier in (a,b)", or "<none>" for an empty selector.
std::string FormatLabelSelector(const nlohmann::json& selector);

// --ordered-resources "pods=ns1/p1,ns1/p2;persistentvolumeclaims=ns1/pvc4".
Result<std::map<std::string, std::string>> ParseOrderedResources(std::string_view text);

}  // namespace arca::cli
