// File: restore/priorities.h
//
// The order in which a restore creates resource types (../shared/reference/velero-api.md §5.2):
// CustomResourceDefinitions first in a pass of their own, then the high-priority list, then every
// other type in the backup alphabetically (one group, created concurrently), then the
// low-priority list.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace arca::restore {

struct Priorities {
  std::vector<std::string> high;
  std::vector<std::string> low;
};

// Velero's default --restore-resource-priorities.
Priorities DefaultPriorities();

// Parses the flag's syntax: a comma list where a lone "-" separates the high list from the low
// list. Without "-", only the high list is replaced and the default low list stays, as in Velero.
// kInvalidArgument for an empty element or more than one "-".
Result<Priorities> ParsePriorities(std::string_view flag);

// ParsePriorities for a command-line flag named `flag_name`: an empty value keeps the defaults;
// errors name the flag and show the syntax.
Result<Priorities> PrioritiesFlag(std::string_view flag_name, std::string_view value);

// Maps a name from the priority lists ("clusterroles") to a group-resource string
// ("clusterroles.rbac.authorization.k8s.io"), as discovery does; returns the name unchanged when
// it cannot be resolved.
using ResourceResolver = std::function<std::string(const std::string& name)>;

// The restore order of the group-resources present in a backup ("pods", "deployments.apps"), as
// groups: one type is created wholly before any type of a later group starts. CRDs and each type
// of the high and low lists are a group of their own; the types named in neither list share one
// priority in Velero (which goes through them alphabetically), and are one group here, in
// alphabetical order, except ControllerRevisions, a group of their own just before it (their
// owners' controllers would make them otherwise). Types named in the priorities but absent from the
// backup do not appear; each type appears once. Without a resolver, a priority name matches the
// backup's type of that exact name, or else the one type whose resource part is that name when
// exactly one such type is present.
std::vector<std::vector<std::string>> RestoreGroups(
    const std::vector<std::string>& backup_group_resources, const Priorities& priorities,
    const ResourceResolver& resolve = nullptr);

// RestoreGroups, flattened: every type in its restore order.
std::vector<std::string> RestoreOrder(const std::vector<std::string>& backup_group_resources,
                                      const Priorities& priorities,
                                      const ResourceResolver& resolve = nullptr);

}  // namespace arca::restore
