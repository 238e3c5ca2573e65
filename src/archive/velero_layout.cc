#include "archive/velero_layout.h"

#include <vector>

namespace arca::archive {

std::string GroupResourceString(std::string_view group, std::string_view resource) {
  std::string out(resource);
  if (!group.empty()) {
    out += '.';
    out += group;
  }
  return out;
}

std::string PreferredVersionDir(std::string_view version) {
  return std::string(version) + "-preferredversion";
}

std::string ItemPath(std::string_view group_resource, std::string_view ns, std::string_view name,
                     std::string_view version_dir) {
  std::string out = "resources/";
  out += group_resource;
  out += '/';
  if (!version_dir.empty()) {
    out += version_dir;
    out += '/';
  }
  if (ns.empty()) {
    out += "cluster/";
  } else {
    out += "namespaces/";
    out += ns;
    out += '/';
  }
  out += name;
  out += ".json";
  return out;
}

Result<ItemPathParts> ParseItemPath(std::string_view path) {
  constexpr std::string_view kResources = "resources/";
  if (path.substr(0, kResources.size()) != kResources) {
    return NotFoundError("'" + std::string(path) + "' is not under resources/");
  }
  std::vector<std::string_view> segs;
  std::string_view rest = path.substr(kResources.size());
  while (true) {
    size_t slash = rest.find('/');
    segs.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("malformed item path '" + std::string(path) +
                                "': " + std::string(why));
  };
  for (std::string_view s : segs) {
    if (s.empty()) {
      return bad("empty segment");
    }
  }
  // <gr> [<ver>] cluster <name>.json  |  <gr> [<ver>] namespaces <ns> <name>.json
  ItemPathParts parts;
  size_t i = 0;
  parts.group_resource = std::string(segs[i++]);
  if (i < segs.size() && segs[i] != "cluster" && segs[i] != "namespaces") {
    parts.version_dir = std::string(segs[i++]);
  }
  if (i >= segs.size()) {
    return bad("no scope");
  }
  if (segs[i] == "cluster") {
    ++i;
  } else if (segs[i] == "namespaces") {
    ++i;
    if (i >= segs.size()) {
      return bad("no namespace");
    }
    parts.ns = std::string(segs[i++]);
  } else {
    return bad("expected 'cluster' or 'namespaces'");
  }
  if (i + 1 != segs.size()) {
    return bad(i >= segs.size() ? "no file name" : "too many segments");
  }
  std::string_view file = segs[i];
  constexpr std::string_view kJson = ".json";
  if (file.size() <= kJson.size() || file.substr(file.size() - kJson.size()) != kJson) {
    return bad("the file name does not end in .json");
  }
  parts.name = std::string(file.substr(0, file.size() - kJson.size()));
  return parts;
}

std::string BackupDir(std::string_view backup) { return "backups/" + std::string(backup) + "/"; }

std::string BackupMetadataKey(std::string_view backup) {
  return BackupDir(backup) + "velero-backup.json";
}

std::string BackupTarballKey(std::string_view backup) {
  return BackupDir(backup) + std::string(backup) + ".tar.gz";
}

std::string BackupFileKey(std::string_view backup, std::string_view suffix) {
  return BackupDir(backup) + std::string(backup) + "-" + std::string(suffix);
}

std::string RestoreDir(std::string_view restore) {
  return "restores/" + std::string(restore) + "/";
}

std::string RestoreFileKey(std::string_view restore, std::string_view suffix) {
  return RestoreDir(restore) + "restore-" + std::string(restore) + "-" + std::string(suffix);
}

}  // namespace arca::archive
