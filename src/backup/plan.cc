#include "backup/plan.h"

#include <algorithm>
#include <map>
#include <set>

namespace arca::backup {
namespace {

bool Backupable(const kube::ApiResource& r) {
  return r.HasVerb("list") && r.HasVerb("create") && r.HasVerb("get") && r.HasVerb("delete") &&
         r.gvr.resource.find('/') == std::string::npos;
}

int CoreRank(const std::string& resource) {
  if (resource == "pods") {
    return 0;
  }
  if (resource == "persistentvolumeclaims") {
    return 1;
  }
  if (resource == "persistentvolumes") {
    return 2;
  }
  return 3;
}

// Types that exist in two groups; the first group in backup order wins.
bool Cohabits(const std::string& resource) {
  static const std::set<std::string> kNames = {"deployments", "daemonsets", "replicasets",
                                               "networkpolicies", "events"};
  return kNames.count(resource) != 0;
}

}  // namespace

std::vector<kube::ApiResource> BackupTypes(const std::vector<kube::ApiResource>& preferred,
                                           const ResourceFilter& filter) {
  // Group order: as the server lists them, "extensions" last.
  std::vector<std::string> groups;
  for (const kube::ApiResource& r : preferred) {
    if (std::find(groups.begin(), groups.end(), r.gvr.group) == groups.end()) {
      groups.push_back(r.gvr.group);
    }
  }
  std::stable_partition(groups.begin(), groups.end(),
                        [](const std::string& g) { return g != "extensions"; });

  std::vector<kube::ApiResource> out;
  std::set<std::string> cohabiting_taken;
  for (const std::string& group : groups) {
    std::vector<kube::ApiResource> in_group;
    for (const kube::ApiResource& r : preferred) {
      if (r.gvr.group == group && Backupable(r)) {
        in_group.push_back(r);
      }
    }
    if (group.empty()) {
      std::stable_sort(in_group.begin(), in_group.end(),
                       [](const kube::ApiResource& a, const kube::ApiResource& b) {
                         return CoreRank(a.gvr.resource) < CoreRank(b.gvr.resource);
                       });
    }
    for (kube::ApiResource& r : in_group) {
      if (Cohabits(r.gvr.resource) && !cohabiting_taken.insert(r.gvr.resource).second) {
        continue;
      }
      std::string gr = r.gvr.group.empty() ? r.gvr.resource : r.gvr.resource + "." + r.gvr.group;
      if (!filter.ShouldInclude(ResourceType{gr, r.namespaced})) {
        continue;
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<ListTask> PlanLists(const std::vector<kube::ApiResource>& types,
                                const NamespaceSelection& namespaces) {
  const std::vector<std::string>& includes = namespaces.filter.includes();
  bool all =
      !namespaces.matched_nothing &&
      (includes.empty() || std::find(includes.begin(), includes.end(), "*") != includes.end());
  std::vector<std::string> listed;
  if (!all && !namespaces.matched_nothing) {
    for (const std::string& ns : includes) {
      if (namespaces.filter.ShouldInclude(ns)) {
        listed.push_back(ns);
      }
    }
    std::sort(listed.begin(), listed.end());
    listed.erase(std::unique(listed.begin(), listed.end()), listed.end());
  }
  std::vector<ListTask> tasks;
  for (const kube::ApiResource& type : types) {
    if (!type.namespaced) {
      tasks.push_back(ListTask{type, "", false});
    } else if (all) {
      tasks.push_back(ListTask{type, "", !namespaces.filter.IncludesEverything()});
    } else {
      for (const std::string& ns : listed) {
        tasks.push_back(ListTask{type, ns, false});
      }
    }
  }
  return tasks;
}

}  // namespace arca::backup
