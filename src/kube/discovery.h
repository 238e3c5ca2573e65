// File: kube/discovery.h
//
// What resources the API server serves, parsed from discovery documents, and kubectl's way of
// resolving a user's resource name to a group/version/resource.
//
// Two formats are read:
//   - aggregated discovery (`GET /api` and `GET /apis` with
//     `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`): one
//     document per root with every group, version and resource;
//   - the legacy documents: `/apis` (APIGroupList, for the groups and preferred versions) and
//     `/api/v1`, `/apis/<group>/<version>` (APIResourceList).
// Both fill the same DiscoveryIndex. Nothing here does I/O; the REST client fetches the bytes.
//
// Resolution (Resolve) follows kubectl: "pods", "pod", "po", "Pod", "deployments.apps",
// "deploy.apps", "deployments.v1.apps". When a name exists in several groups, the core group
// wins, then the group listed first by the server; the group's preferred version is used unless
// the name gives one.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arca::kube {

struct GroupVersionResource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower-case

  // "deployments.v1.apps", or "pods.v1" for the core group.
  std::string ToString() const;
  // "apps/v1", or "v1" for the core group.
  std::string GroupVersion() const;

  friend auto operator<=>(const GroupVersionResource&, const GroupVersionResource&) = default;
};

struct ApiResource {
  GroupVersionResource gvr;
  std::string kind;
  std::string singular;
  bool namespaced = false;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  // "status", "scale", ... (without the resource prefix).
  std::vector<std::string> subresources;
  // True when gvr.version is the group's preferred version.
  bool preferred = false;

  bool HasVerb(std::string_view verb) const;
  bool HasSubresource(std::string_view name) const;
};

class DiscoveryIndex {
 public:
  // Adds an aggregated APIGroupDiscoveryList (from /api or /apis; call with /api first so the
  // core group comes first). The first version listed for a group is its preferred one.
  // Errors: kInvalidArgument when the document is not an APIGroupDiscoveryList.
  Status AddAggregated(std::string_view json);

  // Reads a legacy APIGroupList (/apis) and returns the group/versions to fetch, each with
  // whether it is the group's preferred version, in the server's order.
  struct LegacyGroupVersion {
    std::string group;
    std::string version;
    bool preferred = false;
  };
  static Result<std::vector<LegacyGroupVersion>> ParseLegacyGroupList(std::string_view json);

  // Adds a legacy APIResourceList for `group`/`version` (group "" for /api/v1). Errors:
  // kInvalidArgument when the document is not an APIResourceList.
  Status AddLegacyResourceList(std::string_view group, std::string_view version, bool preferred,
                               std::string_view json);

  // Every resource at every version, in the server's order.
  const std::vector<ApiResource>& Resources() const { return resources_; }

  // One entry per group and resource, at the preferred version.
  std::vector<ApiResource> PreferredResources() const;

  // The resource for exactly `gvr`, or kNotFound.
  Result<ApiResource> Find(const GroupVersionResource& gvr) const;

  // The resource serving `kind` in `group`, at `version` if given, else the preferred version.
  // Errors: kNotFound.
  Result<ApiResource> FindByKind(std::string_view group, std::string_view kind,
                                 std::string_view version) const;

  // Resolves a name as kubectl does (see the top of this file). Errors: kNotFound with kubectl's
  // message ("the server doesn't have a resource type \"x\"").
  Result<ApiResource> Resolve(std::string_view name) const;

 private:
  void Add(ApiResource resource);

  std::vector<ApiResource> resources_;
};

}  // namespace arca::kube
