// File: kube/request.h
//
// Building Kubernetes API request paths and query strings: pure functions, no I/O.
//
//   core, namespaced:   /api/v1/namespaces/{ns}/{resource}[/{name}[/{subresource}]]
//   core, cluster:      /api/v1/{resource}[/{name}[/{subresource}]]
//   group:              /apis/{group}/{version}/... the same
// Namespaced resources without a namespace address every namespace (list/watch only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "kube/discovery.h"

namespace arca::kube {

// Which object or collection a request is about.
struct ResourceRef {
  GroupVersionResource gvr;
  bool namespaced = true;
  std::string namespace_name;  // empty: all namespaces (collections only)
  std::string name;            // empty: the collection
  std::string subresource;     // "status", "scale", ...

  // The ref for `resource` from discovery.
  static ResourceRef For(const ApiResource& resource, std::string namespace_name = "",
                         std::string name = "");

  // "configmaps ns1/x", for messages.
  std::string Describe() const;
};

// The path. Errors: kInvalidArgument for a name or namespace that is empty where needed, or
// holds '/' or is "." or "..", or a subresource without a name.
Result<std::string> ResourcePath(const ResourceRef& ref);

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "?a=1&b=x%20y" (empty when there are no params), percent-encoded as Go's url.QueryEscape
// does for values.
std::string EncodeQuery(const QueryParams& params);

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;  // 0: no limit
  std::string continue_token;
  std::string resource_version;
  std::string resource_version_match;  // "NotOlderThan", "Exact"
  // Watch only.
  bool allow_watch_bookmarks = false;
  std::optional<int64_t> timeout_seconds;
  bool send_initial_events = false;

  // The query for a list (`watch` false) or a watch (`watch` true).
  QueryParams ToQuery(bool watch) const;
};

enum class PatchType { kMerge, kJson, kStrategicMerge, kApply };

// The Content-Type for a patch.
std::string_view PatchContentType(PatchType type);

struct WriteOptions {
  bool dry_run = false;
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply only: take over conflicting fields

  QueryParams ToQuery() const;
};

struct DeleteOptions {
  std::optional<std::string> propagation_policy;  // "Foreground", "Background", "Orphan"
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;

  // The metav1.DeleteOptions JSON body.
  std::string ToBody() const;
};

}  // namespace arca::kube
