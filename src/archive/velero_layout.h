// File: archive/velero_layout.h
//
// Where things go inside a Velero backup tarball (format 1.1.0) and in a backup storage location.
// Pure functions; see ../shared/reference/velero-api.md §2 and §3.
//
// Items live at
//   resources/<group-resource>/[<version dir>/]{namespaces/<namespace>|cluster}/<name>.json
// where <group-resource> is "pods" for the core group and "deployments.apps" otherwise. Velero
// writes each item twice: without a version directory (what restores read) and under
// "<version>-preferredversion".
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace arca::archive {

inline constexpr std::string_view kFormatVersion = "1.1.0";
inline constexpr std::string_view kVersionEntry = "metadata/version";

// "pods" for ("", "pods"), "deployments.apps" for ("apps", "deployments").
std::string GroupResourceString(std::string_view group, std::string_view resource);

// "v1-preferredversion" for "v1".
std::string PreferredVersionDir(std::string_view version);

// The entry name of an item. `ns` empty means cluster-scoped; `version_dir` empty means the
// unversioned path.
std::string ItemPath(std::string_view group_resource, std::string_view ns, std::string_view name,
                     std::string_view version_dir = {});

struct ItemPathParts {
  std::string group_resource;
  std::string version_dir;  // empty for the unversioned path
  std::string ns;           // empty for cluster-scoped items
  std::string name;
};

// Parses an item entry name. kNotFound when `path` is not an item path at all (metadata/version,
// an unexpected file), so callers can skip it; kInvalidArgument when it starts like one but is
// malformed.
Result<ItemPathParts> ParseItemPath(std::string_view path);

// Object-storage keys, relative to the location's prefix.
std::string BackupDir(std::string_view backup);          // backups/<b>/
std::string BackupMetadataKey(std::string_view backup);  // backups/<b>/velero-backup.json
std::string BackupTarballKey(std::string_view backup);   // backups/<b>/<b>.tar.gz
std::string BackupFileKey(std::string_view backup,
                          std::string_view suffix);  // backups/<b>/<b>-<suffix>
std::string RestoreDir(std::string_view restore);    // restores/<r>/
// restores/<r>/restore-<r>-<suffix>, e.g. suffix "results.gz", "logs.gz",
// "resource-list.json.gz".
std::string RestoreFileKey(std::string_view restore, std::string_view suffix);

}  // namespace arca::archive
