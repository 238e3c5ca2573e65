#include "restore/priorities.h"

#include <algorithm>
#include <set>

namespace arca::restore {

Priorities DefaultPriorities() {
  return Priorities{
      {"customresourcedefinitions",
       "namespaces",
       "storageclasses",
       "volumesnapshotclass.snapshot.storage.k8s.io",
       "volumesnapshotcontents.snapshot.storage.k8s.io",
       "volumesnapshots.snapshot.storage.k8s.io",
       "datauploads.velero.io",
       "persistentvolumes",
       "persistentvolumeclaims",
       "clusterroles",
       "roles",
       "serviceaccounts",
       "clusterrolebindings",
       "rolebindings",
       "secrets",
       "configmaps",
       "limitranges",
       "priorityclasses",
       "pods",
       "replicasets.apps",
       "clusterclasses.cluster.x-k8s.io",
       "endpoints",
       "services"},
      {"clusterbootstraps.run.tanzu.vmware.com", "clusters.cluster.x-k8s.io",
       "clusterresourcesets.addons.cluster.x-k8s.io", "apps.kappctrl.k14s.io",
       "packageinstalls.packaging.carvel.dev"},
  };
}

Result<Priorities> ParsePriorities(std::string_view flag) {
  Priorities out = DefaultPriorities();
  std::vector<std::string> high;
  std::vector<std::string> low;
  bool seen_separator = false;
  size_t start = 0;
  while (start <= flag.size()) {
    size_t comma = flag.find(',', start);
    std::string_view item = flag.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) {
      return InvalidArgumentError("invalid restore resource priorities \"" + std::string(flag) +
                                  "\": empty element");
    }
    if (item == "-") {
      if (seen_separator) {
        return InvalidArgumentError("invalid restore resource priorities \"" + std::string(flag) +
                                    "\": more than one \"-\"");
      }
      seen_separator = true;
    } else {
      (seen_separator ? low : high).emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  out.high = std::move(high);
  if (seen_separator) {
    out.low = std::move(low);
  }
  return out;
}

Result<Priorities> PrioritiesFlag(std::string_view flag_name, std::string_view value) {
  if (value.empty()) {
    return DefaultPriorities();
  }
  Result<Priorities> p = ParsePriorities(value);
  if (!p.ok()) {
    return InvalidArgumentError(std::string(flag_name) + ": " + p.status().message() +
                                "; give resources separated by commas, with at most one \"-\" "
                                "before the low-priority ones (e.g. namespaces,secrets,-,"
                                "clusters.cluster.x-k8s.io)");
  }
  return p;
}

constexpr char kControllerRevisions[] = "controllerrevisions.apps";

std::vector<std::vector<std::string>> RestoreGroups(
    const std::vector<std::string>& backup_group_resources, const Priorities& priorities,
    const ResourceResolver& resolve) {
  const std::set<std::string> present(backup_group_resources.begin(), backup_group_resources.end());
  auto resolve_name = [&](const std::string& name) {
    if (resolve) {
      return resolve(name);
    }
    if (present.count(name) != 0) {
      return name;
    }
    std::string match;
    int matches = 0;
    for (const std::string& gr : present) {
      if (gr.size() > name.size() && gr.compare(0, name.size(), name) == 0 &&
          gr[name.size()] == '.') {
        match = gr;
        ++matches;
      }
    }
    return matches == 1 ? match : name;
  };
  std::set<std::string> done;
  std::vector<std::vector<std::string>> groups;
  // Adds the type to `group`, or to a group of its own when `group` is null.
  auto take = [&](const std::string& priority_name, std::vector<std::string>* group) {
    std::string gr = resolve_name(priority_name);
    if (present.count(gr) == 0 || !done.insert(gr).second) {
      return;
    }
    if (group != nullptr) {
      group->push_back(std::move(gr));
    } else {
      groups.push_back({std::move(gr)});
    }
  };
  // Pass 1: CRDs, so that their custom resources can be created in pass 2.
  take("customresourcedefinitions", nullptr);
  for (const std::string& gr : priorities.high) {
    take(gr, nullptr);
  }
  std::set<std::string> low;
  for (const std::string& name : priorities.low) {
    low.insert(resolve_name(name));
  }
  // ControllerRevisions go before the shared group, as Velero's alphabetical walk has them: the
  // DaemonSets and StatefulSets that own them are in that group, and once one of those exists its
  // controller makes the revision itself, under the same name, without the restore's labels.
  if (low.count(kControllerRevisions) == 0) {
    take(kControllerRevisions, nullptr);
  }
  std::vector<std::string> rest;
  for (const std::string& gr : present) {  // std::set iterates in sorted order
    if (low.count(gr) == 0) {
      take(gr, &rest);
    }
  }
  if (!rest.empty()) {
    groups.push_back(std::move(rest));
  }
  for (const std::string& gr : priorities.low) {
    take(gr, nullptr);
  }
  return groups;
}

std::vector<std::string> RestoreOrder(const std::vector<std::string>& backup_group_resources,
                                      const Priorities& priorities,
                                      const ResourceResolver& resolve) {
  std::vector<std::string> order;
  for (std::vector<std::string>& group :
       RestoreGroups(backup_group_resources, priorities, resolve)) {
    for (std::string& gr : group) {
      order.push_back(std::move(gr));
    }
  }
  return order;
}

}  // namespace arca::restore
