// File: backup/plan.h
//
// Which lists a backup makes, in which order (../shared/reference/velero-api.md §4.4), as a pure
// function of discovery, the filters and the cluster's namespaces:
//   - types that support list, create, get and delete, at their preferred version;
//   - API groups in the server's order with "extensions" last, and the core group's pods,
//     persistentvolumeclaims and persistentvolumes first;
//   - cohabiting types (deployments, daemonsets, replicasets and networkpolicies in extensions and
//     in their own group; events in the core group and events.k8s.io) taken once, from the first
//     group in that order;
//   - a cluster-scoped type is one list; a namespaced type is one list across all namespaces when
//     the namespace filter includes "*" (items are then filtered by namespace), else one list per
//     included namespace, sorted.
// Namespace objects themselves are decided separately (the engine's namespace tracking).
#pragma once

#include <string>
#include <vector>

#include "backup/filters.h"
#include "kube/discovery.h"

namespace arca::backup {

// The types to back up, in order, after the resource filter.
std::vector<kube::ApiResource> BackupTypes(const std::vector<kube::ApiResource>& preferred,
                                           const ResourceFilter& filter);

struct ListTask {
  kube::ApiResource type;
  // "" lists across all namespaces (or the cluster-scoped type); otherwise one namespace.
  std::string ns;
  // For an all-namespaces list: items must still pass the namespace filter.
  bool filter_namespaces = false;
};

// The lists to make for `types`. `namespaces` is the resolved namespace filter.
std::vector<ListTask> PlanLists(const std::vector<kube::ApiResource>& types,
                                const NamespaceSelection& namespaces);

}  // namespace arca::backup
