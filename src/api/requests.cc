#include "api/requests.h"

#include <array>
#include <string_view>

#include "api/backup_storage_location.h"
#include "api/json_fields.h"

namespace arca::api {
namespace {

Result<ObjectMeta> ReadMetadata(const nlohmann::json& j) {
  if (auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    return ObjectMetaFromJson(*it);
  }
  return ObjectMeta{};
}

nlohmann::json Header(const char* kind, const ObjectMeta& meta) {
  nlohmann::json j = {{"apiVersion", kVeleroApiVersion}, {"kind", kind}};
  j["metadata"] = ObjectMetaToJson(meta);
  return j;
}

void SetIfNotEmpty(nlohmann::json& j, const char* key, nlohmann::json value) {
  if (!value.empty()) {
    j[key] = std::move(value);
  }
}

struct KindKey {
  std::string_view kind;
  bool restore;
  std::string_view suffix;  // appended to the name; "" for the tarball
};

// Velero's file names (§2.1, §2.2).
constexpr std::array<KindKey, 14> kKindKeys = {{
    {download_kind::kBackupLog, false, "logs.gz"},
    {download_kind::kBackupContents, false, ""},
    {download_kind::kBackupVolumeSnapshots, false, "volumesnapshots.json.gz"},
    {download_kind::kBackupItemOperations, false, "itemoperations.json.gz"},
    {download_kind::kBackupResourceList, false, "resource-list.json.gz"},
    {download_kind::kBackupResults, false, "results.gz"},
    {download_kind::kCsiBackupVolumeSnapshots, false, "csi-volumesnapshots.json.gz"},
    {download_kind::kCsiBackupVolumeSnapshotContents, false, "csi-volumesnapshotcontents.json.gz"},
    {download_kind::kBackupVolumeInfos, false, "volumeinfo.json.gz"},
    {download_kind::kRestoreLog, true, "logs.gz"},
    {download_kind::kRestoreResults, true, "results.gz"},
    {download_kind::kRestoreResourceList, true, "resource-list.json.gz"},
    {download_kind::kRestoreItemOperations, true, "itemoperations.json.gz"},
    {download_kind::kRestoreVolumeInfo, true, "volumeinfo.json.gz"},
}};

}  // namespace

bool IsRestoreDownloadKind(std::string_view kind) {
  for (const KindKey& k : kKindKeys) {
    if (k.kind == kind) {
      return k.restore;
    }
  }
  return false;
}

Result<std::string> DownloadTargetKey(std::string_view kind, std::string_view name) {
  if (name.empty()) {
    return InvalidArgumentError("spec.target.name is empty: name the backup or restore");
  }
  const std::string n(name);
  for (const KindKey& k : kKindKeys) {
    if (k.kind != kind) {
      continue;
    }
    if (!k.restore) {
      if (k.suffix.empty()) {
        return "backups/" + n + "/" + n + ".tar.gz";
      }
      return "backups/" + n + "/" + n + "-" + std::string(k.suffix);
    }
    if (kind == download_kind::kRestoreVolumeInfo) {  // no "restore-" prefix, as in Velero
      return "restores/" + n + "/" + n + "-" + std::string(k.suffix);
    }
    return "restores/" + n + "/restore-" + n + "-" + std::string(k.suffix);
  }
  std::string valid;
  for (const KindKey& k : kKindKeys) {
    valid += (valid.empty() ? "" : ", ") + std::string(k.kind);
  }
  return InvalidArgumentError("spec.target.kind \"" + std::string(kind) +
                              "\" is not a download target kind; use one of " + valid);
}

Result<DeleteBackupRequest> DeleteBackupRequestFromJson(const nlohmann::json& j) {
  RETURN_IF_ERROR(CheckTypeMeta(j, "DeleteBackupRequest"));
  DeleteBackupRequest r;
  ASSIGN_OR_RETURN(r.metadata, ReadMetadata(j));
  FieldReader top(j, "");
  FieldReader spec = top.Child("spec");
  spec.String("backupName", r.backup_name);
  top.Absorb(spec);
  FieldReader status = top.Child("status");
  status.String("phase", r.phase);
  status.StringList("errors", r.errors);
  top.Absorb(status);
  RETURN_IF_ERROR(top.status());
  return r;
}

nlohmann::json DeleteBackupRequestToJson(const DeleteBackupRequest& r) {
  nlohmann::json j = Header("DeleteBackupRequest", r.metadata);
  j["spec"] = {{"backupName", r.backup_name}};
  nlohmann::json status = nlohmann::json::object();
  SetString(status, "phase", r.phase);
  SetStringList(status, "errors", r.errors);
  SetIfNotEmpty(j, "status", std::move(status));
  return j;
}

Result<DownloadRequest> DownloadRequestFromJson(const nlohmann::json& j) {
  RETURN_IF_ERROR(CheckTypeMeta(j, "DownloadRequest"));
  DownloadRequest r;
  ASSIGN_OR_RETURN(r.metadata, ReadMetadata(j));
  FieldReader top(j, "");
  FieldReader spec = top.Child("spec");
  FieldReader target = spec.Child("target");
  target.String("kind", r.target_kind);
  target.String("name", r.target_name);
  spec.Absorb(target);
  top.Absorb(spec);
  FieldReader status = top.Child("status");
  status.String("phase", r.phase);
  status.String("downloadURL", r.download_url);
  status.String("expiration", r.expiration);
  top.Absorb(status);
  RETURN_IF_ERROR(top.status());
  return r;
}

nlohmann::json DownloadRequestToJson(const DownloadRequest& r) {
  nlohmann::json j = Header("DownloadRequest", r.metadata);
  j["spec"] = {{"target", {{"kind", r.target_kind}, {"name", r.target_name}}}};
  nlohmann::json status = nlohmann::json::object();
  SetString(status, "phase", r.phase);
  SetString(status, "downloadURL", r.download_url);
  SetString(status, "expiration", r.expiration);
  SetIfNotEmpty(j, "status", std::move(status));
  return j;
}

Result<ServerStatusRequest> ServerStatusRequestFromJson(const nlohmann::json& j) {
  RETURN_IF_ERROR(CheckTypeMeta(j, "ServerStatusRequest"));
  ServerStatusRequest r;
  ASSIGN_OR_RETURN(r.metadata, ReadMetadata(j));
  FieldReader top(j, "");
  FieldReader status = top.Child("status");
  status.String("phase", r.phase);
  status.String("processedTimestamp", r.processed_timestamp);
  status.String("serverVersion", r.server_version);
  nlohmann::json plugins;
  status.Json("plugins", plugins);
  top.Absorb(status);
  RETURN_IF_ERROR(top.status());
  if (!plugins.is_null()) {
    if (!plugins.is_array()) {
      return InvalidArgumentError("status.plugins: expected a list");
    }
    r.plugins = std::move(plugins);
  }
  return r;
}

nlohmann::json ServerStatusRequestToJson(const ServerStatusRequest& r) {
  nlohmann::json j = Header("ServerStatusRequest", r.metadata);
  j["spec"] = nlohmann::json::object();
  nlohmann::json status = nlohmann::json::object();
  SetString(status, "phase", r.phase);
  SetString(status, "processedTimestamp", r.processed_timestamp);
  SetString(status, "serverVersion", r.server_version);
  if (!r.plugins.empty()) {
    status["plugins"] = r.plugins;
  }
  SetIfNotEmpty(j, "status", std::move(status));
  return j;
}

}  // namespace arca::api
