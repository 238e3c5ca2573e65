// File: backup/filters.h
//
// Which namespaces and resource types a backup takes, exactly as Velero decides it
// (../shared/reference/velero-api.md §4.2 and §4.3), as pure functions of the spec.
//
// Resource names in filters are group-resource strings ("pods", "deployments.apps") after
// resolution through discovery; the caller resolves user input (short names, singular names)
// before building a filter, and unresolvable names stay verbatim, as in Velero.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/backup.h"

namespace arca::backup {

// An include list and an exclude list of glob patterns (Velero's IncludesExcludes).
class IncludesExcludes {
 public:
  IncludesExcludes() = default;
  IncludesExcludes(std::vector<std::string> includes, std::vector<std::string> excludes)
      : includes_(std::move(includes)), excludes_(std::move(excludes)) {}

  // Excluded if any exclude matches; else included if the include list is empty, contains "*",
  // or has a matching pattern.
  bool ShouldInclude(std::string_view name) const;
  // Whether the name matches an exclude pattern.
  bool IsExcluded(std::string_view name) const;
  // Includes are empty or exactly ["*"], and there are no excludes.
  bool IncludesEverything() const;

  const std::vector<std::string>& includes() const { return includes_; }
  const std::vector<std::string>& excludes() const { return excludes_; }

 private:
  std::vector<std::string> includes_;
  std::vector<std::string> excludes_;
};

// The namespace filter after Velero's wildcard expansion: when the include list is non-empty,
// has no lone "*", and some pattern uses glob syntax, both lists are expanded against the live
// namespaces. `matched_nothing` is set when an expansion left no include, in which case nothing
// is included (Velero warns "no namespaces matched").
struct NamespaceSelection {
  IncludesExcludes filter;
  bool expanded = false;
  bool matched_nothing = false;
};
NamespaceSelection ResolveNamespaces(std::vector<std::string> includes,
                                     std::vector<std::string> excludes,
                                     const std::vector<std::string>& live_namespaces);

// What the resource filter needs to know about a type.
struct ResourceType {
  std::string group_resource;  // "pods", "deployments.apps"
  bool namespaced = true;
};

// The old ("global") resource filter: included/excludedResources + includeClusterResources.
class GlobalResourceFilter {
 public:
  GlobalResourceFilter(IncludesExcludes resources, std::optional<bool> include_cluster_resources,
                       bool namespaces_everything)
      : resources_(std::move(resources)),
        include_cluster_(include_cluster_resources),
        namespaces_everything_(namespaces_everything) {}
  bool ShouldInclude(const ResourceType& type) const;
  // For an item pulled in as related: skipped only if its type is explicitly excluded.
  bool ShouldExclude(const ResourceType& type) const;

 private:
  IncludesExcludes resources_;
  std::optional<bool> include_cluster_;
  bool namespaces_everything_;
};

// The new ("scoped") filter: included/excluded{Cluster,Namespace}ScopedResources.
//
// One deliberate difference from Velero ≥ 1.17 (see docs/compatibility.md): the exclusions that
// are added automatically (kAutoExcludedTypes) are applied by ResourceFilter, outside this class,
// so they do not count when deciding whether a backup with no resource filters is "full"; such a
// backup includes every cluster-scoped type, as Velero's documentation says.
class ScopedResourceFilter {
 public:
  ScopedResourceFilter(IncludesExcludes cluster, IncludesExcludes namespaced,
                       bool namespaces_everything)
      : cluster_(std::move(cluster)),
        namespaced_(std::move(namespaced)),
        namespaces_everything_(namespaces_everything) {}
  bool ShouldInclude(const ResourceType& type) const;
  bool ShouldExclude(const ResourceType& type) const;

 private:
  IncludesExcludes cluster_;
  IncludesExcludes namespaced_;
  bool namespaces_everything_;
};

// The resource-related parts of a BackupSpec, as written by the user (a BackupSpec is one).
using ResourceFilterSpec = api::ResourceFilters;

// The types Velero always leaves out (v1.17+): VolumeSnapshots are taken by CSI, not backed up.
inline constexpr std::string_view kAutoExcludedTypes[] = {
    "volumesnapshots.snapshot.storage.k8s.io",
    "volumesnapshotcontents.snapshot.storage.k8s.io",
};

// Either filter generation, chosen from the spec, with the automatic exclusions applied.
class ResourceFilter {
 public:
  // REQUIRES: the spec passed ValidateResourceFilters.
  ResourceFilter(const ResourceFilterSpec& spec, bool namespaces_everything);
  bool ShouldInclude(const ResourceType& type) const;
  bool ShouldExclude(const ResourceType& type) const;
  bool old_style() const { return global_.has_value(); }

 private:
  std::optional<GlobalResourceFilter> global_;
  std::optional<ScopedResourceFilter> scoped_;
};

// Velero's validation of the filters; every reason is listed (an empty result means valid).
std::vector<std::string> ValidateResourceFilters(const ResourceFilterSpec& spec);
std::vector<std::string> ValidateNamespaceFilters(const std::vector<std::string>& includes,
                                                  const std::vector<std::string>& excludes);
// Velero's ValidateIncludesExcludes (old style) and ValidateScopedIncludesExcludes (new style).
std::vector<std::string> ValidateIncludesExcludes(const std::vector<std::string>& includes,
                                                  const std::vector<std::string>& excludes);
std::vector<std::string> ValidateScopedIncludesExcludes(const std::vector<std::string>& includes,
                                                        const std::vector<std::string>& excludes);

}  // namespace arca::backup
