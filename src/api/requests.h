// File: api/requests.h
//
// The velero.io/v1 request kinds the server answers (../shared/reference/velero-api.md §1.6-§1.8):
// DeleteBackupRequest, DownloadRequest and ServerStatusRequest, with Velero's JSON field names.
// Timestamps stay RFC 3339 strings.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/backup.h"
#include "common/status.h"

namespace arca::api {

// Phases shared by the request kinds, spelled as Velero does.
namespace request_phase {
inline constexpr char kNew[] = "New";
inline constexpr char kInProgress[] = "InProgress";  // DeleteBackupRequest only
inline constexpr char kProcessed[] = "Processed";
}  // namespace request_phase

struct DeleteBackupRequest {
  ObjectMeta metadata;
  std::string backup_name;  // spec.backupName
  std::string phase;        // status.phase
  std::vector<std::string> errors;
};

// The DownloadRequest target kinds, exactly as Velero spells them.
namespace download_kind {
inline constexpr char kBackupLog[] = "BackupLog";
inline constexpr char kBackupContents[] = "BackupContents";
inline constexpr char kBackupVolumeSnapshots[] = "BackupVolumeSnapshots";
inline constexpr char kBackupItemOperations[] = "BackupItemOperations";
inline constexpr char kBackupResourceList[] = "BackupResourceList";
inline constexpr char kBackupResults[] = "BackupResults";
inline constexpr char kRestoreLog[] = "RestoreLog";
inline constexpr char kRestoreResults[] = "RestoreResults";
inline constexpr char kRestoreResourceList[] = "RestoreResourceList";
inline constexpr char kRestoreItemOperations[] = "RestoreItemOperations";
inline constexpr char kCsiBackupVolumeSnapshots[] = "CSIBackupVolumeSnapshots";
inline constexpr char kCsiBackupVolumeSnapshotContents[] = "CSIBackupVolumeSnapshotContents";
inline constexpr char kBackupVolumeInfos[] = "BackupVolumeInfos";
inline constexpr char kRestoreVolumeInfo[] = "RestoreVolumeInfo";
}  // namespace download_kind

struct DownloadRequest {
  ObjectMeta metadata;
  std::string target_kind;  // spec.target.kind
  std::string target_name;  // spec.target.name
  std::string phase;
  std::string download_url;
  std::string expiration;  // RFC 3339
};

// The object-storage key (relative to the location's root) of a download target, or
// kInvalidArgument naming the valid kinds. Restore* kinds take the restore's name.
Result<std::string> DownloadTargetKey(std::string_view kind, std::string_view name);
// Whether `kind` names a restore's file (the target name is then a Restore).
bool IsRestoreDownloadKind(std::string_view kind);

struct ServerStatusRequest {
  ObjectMeta metadata;
  std::string phase;
  std::string processed_timestamp;  // RFC 3339
  std::string server_version;
  nlohmann::json plugins = nlohmann::json::array();  // [{name, kind}]
};

// Decoders: kInvalidArgument naming the field, or when apiVersion/kind are present and wrong.
// Encoders: apiVersion and kind set, empty fields omitted.
Result<DeleteBackupRequest> DeleteBackupRequestFromJson(const nlohmann::json& j);
nlohmann::json DeleteBackupRequestToJson(const DeleteBackupRequest& r);
Result<DownloadRequest> DownloadRequestFromJson(const nlohmann::json& j);
nlohmann::json DownloadRequestToJson(const DownloadRequest& r);
Result<ServerStatusRequest> ServerStatusRequestFromJson(const nlohmann::json& j);
nlohmann::json ServerStatusRequestToJson(const ServerStatusRequest& r);

}  // namespace arca::api
